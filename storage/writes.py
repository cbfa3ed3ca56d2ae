"""The rows that storing one page writes, sent to PostgreSQL as one statement, not six.

Why: a new document writes a document, its URL, two or three blobs, a version and its sketch
keys. With psycopg each statement costs about 60 µs of the storage process's CPU and 40 µs of
the server's, whatever it does (sqlite3: 2 µs), and waits for the answer: on PostgreSQL those
writes were most of what storing a page cost beyond SQLite. Here, on PostgreSQL with psycopg 3,
the writes are kept until the page's reads are done, then sent as one statement: each write is
a data-modifying ``WITH`` query of it (PostgreSQL runs every one of them once, and checks the
foreign keys at the end of the statement). A row's id, which an INSERT … RETURNING would give
back, is taken beforehand from the table's sequence, a block of ids at a time (``IdPool``):
what a later row of the same page refers to (a version's blobs) is known before anything is sent.

On SQLite (in-process, 2 µs a statement) every write runs at once, ids from RETURNING, as
before. The reads of a page never need its own unsent writes (the callers read first).

Errors: a failing write fails the whole statement, raised as SQLAlchemy's error
(``IntegrityError`` …) from the call that stores the page, as when each statement ran alone;
none of the page's rows is written. Ids taken and not used (a rolled-back batch) are gaps, as
sequences leave anyway.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert, text

from storage.prepared import Prepared, execute_sql

ID_BLOCK = 100  # ids taken from a sequence at once: a batch of pages uses about this many


class PreparedInsert:
    """An INSERT into a table with an id column: with RETURNING, for when the id comes from the
    database; plain, for when the id is given (PostgreSQL, ``Writes``)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.returning = Prepared(insert(table).returning(table.c.id))
        self.plain = Prepared(insert(table))


class IdPool:
    """Ids taken from PostgreSQL sequences ahead of the inserts, per database and table."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free: dict[str, list[int]] = {}
        self._sequence: dict[str, str] = {}

    def take(self, conn: Connection, table: Table) -> int:
        with self._lock:
            free = self._free.setdefault(table.name, [])
            if not free:
                free.extend(reversed(self._block(conn, table.name)))
            return free.pop()

    def _block(self, conn: Connection, table: str) -> list[int]:
        sequence = self._sequence.get(table)
        if sequence is None:
            sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar()
            if sequence is None:
                raise LookupError(f"table {table} has no id sequence")
            self._sequence[table] = sequence
        rows = conn.execute(text("SELECT nextval(CAST(:s AS regclass)) FROM generate_series(1, :n)"),
                            {"s": sequence, "n": ID_BLOCK})
        return [int(value) for (value,) in rows]


_pools: weakref.WeakKeyDictionary[Engine, IdPool] = weakref.WeakKeyDictionary()
_pools_lock = threading.Lock()


def _pool(conn: Connection) -> IdPool | None:
    """The engine's id pool when writes can be sent together (PostgreSQL by psycopg 3)."""
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        return None
    with _pools_lock:
        pool = _pools.get(conn.engine)
        if pool is None:
            pool = _pools[conn.engine] = IdPool()
        return pool


class Writes:
    """A page's writes: kept and sent together on PostgreSQL (``send``), run at once elsewhere."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pool = _pool(conn)
        self._queued: list[tuple[Prepared, Mapping[str, Any]]] = []

    def insert(self, statement: PreparedInsert, values: Mapping[str, Any]) -> int:
        """Insert a row; its id."""
        if self.pool is None:
            return int(statement.returning.scalar(self.conn, values))
        row_id = self.pool.take(self.conn, statement.table)
        self._queued.append((statement.plain, {"id": row_id, **values}))
        return row_id

    def run(self, statement: Prepared, values: Mapping[str, Any]) -> None:
        if self.pool is None:
            statement.run(self.conn, values)
        else:
            self._queued.append((statement, values))

    def run_many(self, statement: Prepared, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        if self.pool is None:
            statement.run_many(self.conn, rows)
        else:
            self._queued.extend((statement, row) for row in rows)

    def send(self) -> None:
        """Send what is kept, in one statement when it can be; an error is raised here."""
        writes, self._queued = self._queued, []
        forms = [statement.form(self.conn, row) for statement, row in writes]
        if len(writes) > 1 and all(form.usable for form in forms):
            sql, params = _together(forms, [row for _, row in writes])
            execute_sql(self.conn, sql, params).close()
            return
        # one write, or one that SQLAlchemy must run (a form this cannot compile)
        for statement, row in writes:
            statement.run(self.conn, row)


_PARAMETER = re.compile(r"%\((\w+)\)s")
# the combined SQL of each sequence of writes seen (a page writes one of a few sequences)
_combined: dict[tuple[Any, ...], str] = {}


def _together(forms: list[Any], rows: list[Mapping[str, Any]]) -> tuple[str, dict[str, Any]]:
    """One statement that makes every write (the compiled ``forms`` of storage.prepared, run
    with ``rows``): ``WITH w0 AS (…), w1 AS (…) … SELECT 1``, the parameters of write i renamed
    ``w{i}_…``."""
    shape = tuple(id(form) for form in forms)
    sql = _combined.get(shape)
    if sql is None:
        parts = [f"w{i} AS ({_PARAMETER.sub(lambda m, i=i: f'%(w{i}_{m.group(1)})s', form.sql)})"
                 for i, form in enumerate(forms)]
        sql = _combined[shape] = "WITH " + ", ".join(parts) + " SELECT 1"
    params: dict[str, Any] = {}
    for i, (form, row) in enumerate(zip(forms, rows, strict=True)):
        params.update((f"w{i}_{key}", value) for key, value in form.parameters(row).items())
    return sql, params
