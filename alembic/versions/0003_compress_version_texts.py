"""Store the texts and the structure of versions (and attachment texts) zlib-compressed.

A version held its document's text three times over, uncompressed (as published, normalized,
and inside the structure JSON, which was also written with \\u escapes): about 110 KB a version
on SQLite. Compressed, the same data takes a fraction of that. Existing rows are converted.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
import json
import zlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> {column: "text" | "json"}
COLUMNS = {
    "versions": {"text": "text", "normalized_text": "text", "structure": "json"},
    "attachment_blobs": {"text": "text"},
}
BATCH = 200


def _to_bytes(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def _rewrite(table: str, columns: dict[str, str], convert) -> None:  # noqa: ANN001
    """Rewrite every row's values with ``convert(kind, value)``, in batches of ids."""
    conn = op.get_bind()
    names = list(columns)
    t = sa.table(table, sa.column("id", sa.Integer), *(sa.column(n) for n in names))
    last = 0
    while True:
        rows = conn.execute(
            sa.select(t.c.id, *(t.c[n] for n in names)).where(t.c.id > last)
            .order_by(t.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            values = {n: convert(columns[n], row[i + 1]) for i, n in enumerate(names)}
            conn.execute(t.update().where(t.c.id == row[0]).values(**values))
        last = rows[-1][0]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, columns in COLUMNS.items():
        if dialect == "postgresql":
            for name in columns:
                using = f"convert_to({name}::text, 'UTF8')"
                op.alter_column(table, name, type_=sa.LargeBinary(), postgresql_using=using)
        else:
            with op.batch_alter_table(table) as batch:
                for name in columns:
                    batch.alter_column(name, type_=sa.LargeBinary())

        def compress(kind: str, value: object) -> bytes | None:
            if value is None:
                return None
            data = _to_bytes(value)
            if kind == "json":  # re-encode: UTF-8 instead of \u escapes
                data = json.dumps(json.loads(data), ensure_ascii=False,
                                  separators=(",", ":")).encode("utf-8")
            return zlib.compress(data, 6)

        _rewrite(table, columns, compress)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, columns in COLUMNS.items():

        def decompress(kind: str, value: object) -> bytes | None:
            return None if value is None else zlib.decompress(_to_bytes(value))

        _rewrite(table, columns, decompress)
        for name, kind in columns.items():
            new_type = sa.JSON() if kind == "json" else sa.Text()
            if dialect == "postgresql":
                using = f"convert_from({name}, 'UTF8')" + ("::json" if kind == "json" else "")
                op.alter_column(table, name, type_=new_type, postgresql_using=using)
            else:
                with op.batch_alter_table(table) as batch:
                    batch.alter_column(name, type_=new_type)
        if dialect == "sqlite":
            # SQLite keeps the bytes as BLOBs after the type change: store them as text again.
            conn = op.get_bind()
            for name in columns:
                conn.execute(sa.text(f"UPDATE {table} SET {name} = CAST({name} AS TEXT) "
                                     f"WHERE {name} IS NOT NULL"))
