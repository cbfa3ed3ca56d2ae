"""Version contents as content-addressed, delta-compressed blobs (see storage.content).

Each version held its text, normalized text, structure and raw page, each zlib-compressed on its
own: about 30 KB a version, 16× the compressed distinct texts on the benchmark's site, where
documents republish the same bodies in the same template. The four columns become three
references to ``blobs`` (text, normalized text, page: structure and body together): one row per
distinct content, zstd-compressed against the contents it repeats.
``text_sketches`` finds near-duplicate texts for new documents.

Existing versions are converted in id order, through the very code that stores new ones (each
document's previous version is already converted when its next one is), and read back exactly:
the texts decode to the same strings, the structure JSON and the page to the same bytes.
The downgrade writes the 0003 columns back from the blobs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""
import zlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# The conversion is the storing code itself (one way to write a blob, not two that may drift);
# what it writes, blob format 1, is the format every later version of that code must read.
from storage.content import ContentIds, read_blobs, register_sketch, split_page, store_contents
from storage.writes import Writes

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ("raw", "text", "normalized_text", "structure")
NEW = ("text_id", "normalized_id", "page_id")
BATCH = 200
REDUNDANT = [("documents", "ix_documents_source_id"), ("document_urls", "ix_document_urls_document_id"),
             ("versions", "ix_versions_document_id")]
REDUNDANT_COLUMN = {"ix_documents_source_id": "source_id", "ix_document_urls_document_id": "document_id",
                    "ix_versions_document_id": "document_id"}

versions = sa.table(
    "versions", sa.column("id", sa.Integer), sa.column("document_id", sa.Integer),
    sa.column("seq", sa.Integer), sa.column("encoding", sa.String),
    *(sa.column(name, sa.LargeBinary) for name in OLD), *(sa.column(name, sa.Integer) for name in NEW),
)
documents = sa.table("documents", sa.column("id", sa.Integer), sa.column("source_id", sa.Integer))


def _unzip(value: object) -> bytes:
    return zlib.decompress(bytes(value))  # type: ignore[arg-type]


def upgrade() -> None:
    conn = op.get_bind()
    op.create_table(
        "blobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=16), nullable=False),
        sa.Column("base_id", sa.Integer(), nullable=True),
        sa.Column("aux_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["aux_id"], ["blobs.id"], name=op.f("fk_blobs_aux_id_blobs")),
        sa.ForeignKeyConstraint(["base_id"], ["blobs.id"], name=op.f("fk_blobs_base_id_blobs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blobs")),
    )
    # texts by digest (the blobs without an aux): see storage.models.Blob
    op.create_index("ix_blobs_text_digest", "blobs", ["digest"], sqlite_where=sa.text("aux_id IS NULL"),
                    postgresql_where=sa.text("aux_id IS NULL"))
    # Indexes that repeat the first column of a unique constraint of the same table: every
    # lookup they served, the constraint's index serves; they only took room.
    for table, index in REDUNDANT:
        op.drop_index(index, table_name=table)
    op.create_table(
        "text_sketches",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("version_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["versions.id"],
                                name=op.f("fk_text_sketches_version_id_versions"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("key", "version_id", name=op.f("pk_text_sketches")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("versions") as batch:
        for name in NEW:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))

    last = 0
    while True:
        rows = conn.execute(
            sa.select(versions.c.id, versions.c.document_id, versions.c.seq, versions.c.encoding,
                      documents.c.source_id, *(versions.c[name] for name in OLD))
            .join(documents, documents.c.id == versions.c.document_id)
            .where(versions.c.id > last).order_by(versions.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            previous = conn.execute(
                sa.select(*(versions.c[name] for name in NEW))
                .where(versions.c.document_id == row.document_id, versions.c.seq < row.seq,
                       versions.c.page_id.is_not(None))
                .order_by(versions.c.seq.desc()).limit(1)
            ).first()
            writes = Writes(conn)
            stored = store_contents(
                conn, text=_unzip(row.text).decode("utf-8"),
                normalized_text=_unzip(row.normalized_text).decode("utf-8"),
                structure=_unzip(row.structure),  # 0003 wrote it as storage.content does
                raw=_unzip(row.raw), encoding=row.encoding,
                previous=ContentIds(*previous) if previous is not None else None,
                source_id=row.source_id, document_id=row.document_id, writes=writes,
            )
            register_sketch(writes, row.id, stored.sketch)
            writes.send()  # the blobs, before the version refers to them
            conn.execute(versions.update().where(versions.c.id == row.id).values(
                text_id=stored.ids.text_id, normalized_id=stored.ids.normalized_id,
                page_id=stored.ids.page_id))
        last = rows[-1].id

    with op.batch_alter_table("versions") as batch:
        for name in OLD:
            batch.drop_column(name)
        for name in NEW:
            batch.alter_column(name, existing_type=sa.Integer(), nullable=False)
            batch.create_foreign_key(op.f(f"fk_versions_{name}_blobs"), "blobs", [name], ["id"])


def downgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table("versions") as batch:
        for name in OLD:
            batch.add_column(sa.Column(name, sa.LargeBinary(), nullable=True))
    last = 0
    while True:
        rows = conn.execute(
            sa.select(versions.c.id, *(versions.c[name] for name in NEW))
            .where(versions.c.id > last).order_by(versions.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        contents = read_blobs(conn, {getattr(row, name) for row in rows for name in NEW})
        for row in rows:
            structure, raw = split_page(contents[row.page_id])
            conn.execute(versions.update().where(versions.c.id == row.id).values(
                raw=zlib.compress(raw, 6),
                text=zlib.compress(contents[row.text_id], 6),
                normalized_text=zlib.compress(contents[row.normalized_id], 6),
                structure=zlib.compress(structure, 6)))
        last = rows[-1].id
    with op.batch_alter_table("versions") as batch:
        for name in NEW:
            batch.drop_constraint(op.f(f"fk_versions_{name}_blobs"), type_="foreignkey")
            batch.drop_column(name)
        for name in OLD:
            batch.alter_column(name, existing_type=sa.LargeBinary(), nullable=False)
    op.drop_table("text_sketches")
    op.drop_index("ix_blobs_text_digest", table_name="blobs")
    op.drop_table("blobs")
    for table, index in REDUNDANT:
        op.create_index(index, table, [REDUNDANT_COLUMN[index]])
