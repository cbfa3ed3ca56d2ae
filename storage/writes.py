"""The rows that storing one page writes, sent to PostgreSQL together: one round trip, not six.

Why: a new document writes a document, its URL, two or three blobs, a version and its sketch.
Each statement alone waits for PostgreSQL's answer (about 0.1-0.2 ms on 127.0.0.1), and the
storage process spent half of its time waiting; in a first crawl it was the stage the crawl
waited for at the end. Here, on PostgreSQL with psycopg 3, the writes are kept until the page's
reads are done, then sent in one pipeline (psycopg's pipeline mode: statements sent without
waiting, one sync at the end). A row's id, which an INSERT … RETURNING would give back, is
taken beforehand from the table's sequence, a block of ids at a time (``IdPool``): what a later
row of the same page refers to (a version's blobs) is known before anything is sent.

On SQLite (in-process, nothing to wait for) every write runs at once, ids from RETURNING, as
before. The reads of a page never need its own unsent writes (the callers read first).

Errors: the first error of a pipeline is raised when it is sent, as SQLAlchemy's error
(``IntegrityError`` …), from the call that stores the page, as it was when each statement ran
alone. Ids taken and not used (a rolled-back batch) are gaps, as sequences leave anyway.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, exc, insert, text

from storage.prepared import Prepared

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
        self._queued: list[tuple[Prepared, Any, bool]] = []

    def insert(self, statement: PreparedInsert, values: Mapping[str, Any]) -> int:
        """Insert a row; its id."""
        if self.pool is None:
            return int(statement.returning.scalar(self.conn, values))
        row_id = self.pool.take(self.conn, statement.table)
        self._queued.append((statement.plain, {"id": row_id, **values}, False))
        return row_id

    def run(self, statement: Prepared, values: Mapping[str, Any]) -> None:
        if self.pool is None:
            statement.run(self.conn, values)
        else:
            self._queued.append((statement, values, False))

    def run_many(self, statement: Prepared, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        if self.pool is None:
            statement.run_many(self.conn, rows)
        else:
            self._queued.append((statement, rows, True))

    def send(self) -> None:
        """Send what is kept, in the order it came; the first error is raised here."""
        queued, self._queued = self._queued, []
        if not queued:
            return
        driver = self.conn.connection.driver_connection
        if len(queued) == 1 or not all(statement.runs_as_compiled(self.conn, values, many)
                                       for statement, values, many in queued):
            # nothing to gain, or a statement that SQLAlchemy must run (it reads results that
            # a pipeline has not received yet)
            _run_each(self.conn, queued)
            return
        try:
            with driver.pipeline():
                _run_each(self.conn, queued)
        except self.conn.dialect.loaded_dbapi.Error as error:
            raise exc.DBAPIError.instance("(a page's writes, sent together)", None, error,
                                          self.conn.dialect.loaded_dbapi.Error,
                                          dialect=self.conn.dialect) from error


def _run_each(conn: Connection, queued: list[tuple[Prepared, Any, bool]]) -> None:
    for statement, values, many in queued:
        if many:
            statement.run_many(conn, values)
        else:
            statement.run(conn, values)
