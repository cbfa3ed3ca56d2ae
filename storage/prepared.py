"""Core statements compiled once per dialect and run on the DBAPI cursor of the caller's
connection, in its transaction: the few statements that store every fetched page.

Why: storing a page runs about nine small statements. Through ``Connection.execute`` each one
paid 15-40 µs of SQLAlchemy's own work (its cache key and compiled-cache lookup, an execution
context, parameter processing, a result object) around 5-10 µs of the database's; a first crawl
of 2,000 pages spent some 0.4 s of the storage process's CPU there. Here that work is done
once: the SQL text, the order of its parameters, their type processors (dates as SQLite text,
JSON) and the Python-side column defaults are taken from SQLAlchemy's own compilation, and an
execution is one ``cursor.execute``.

What SQLAlchemy would do that this does not, and how that is covered:

* a statement this cannot run as compiled (parameters rendered at execution, such as an
  ``IN`` list, or result columns that need converting) is run by ``Connection.execute``;
* a driver error is raised as SQLAlchemy's (``sqlalchemy.exc.IntegrityError`` …), as callers
  expect;
* engine events do not see these statements; the one the engines use (``storage.db``: NUL
  characters out of PostgreSQL text) is applied here.

A statement run many times on one PostgreSQL connection is prepared on the server by psycopg
(from its fifth run), and the server may then keep one generic plan, made without the
parameters' values and with the tables as they were then: nearly empty, early in a first crawl.
A ``LIMIT`` that is a parameter is then guessed at a tenth of the rows, and the near-duplicate
lookup kept a sequential scan of ``versions`` for the whole crawl: 1.6 ms a page at 10,000
documents, growing with every one. Such limits are written as numbers (``number``); a statement
whose best plan depends on the tables' size whatever its parameters (the walk back over the
newest versions, a sort of the whole table while it is small) is planned at every run
(``Prepared(…, plan_each_time=True)``).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Integer, bindparam, exc, literal_column
from sqlalchemy.sql import ClauseElement

from storage.db import clean_value


def number(value: int) -> Any:
    """An integer written into the SQL (``.limit(number(1))``), not sent as a parameter: a plan
    made without the parameters' values then still knows it (see the module's doc)."""
    return literal_column(str(int(value)), Integer)


def _plain(results: Any, dialect: Any) -> bool:
    """Whether every result column comes back from the driver as the caller wants it."""
    try:
        return all(entry[3]._cached_result_processor(dialect, None) is None for entry in results)
    except (AttributeError, IndexError, TypeError):  # another SQLAlchemy: do not guess
        return False


class _Form:
    """One statement compiled for one dialect and one set of parameter names."""

    def __init__(self, statement: ClauseElement, conn: Connection, keys: frozenset[str]) -> None:
        dialect = conn.dialect
        compiled: Any = statement.compile(dialect=dialect, column_keys=sorted(keys))
        self.sql: str = compiled.string
        self.positional: bool = bool(compiled.positional)
        self.order: tuple[str, ...] = tuple(compiled.positiontup or ())
        processors = getattr(compiled, "_bind_processors", None)
        self.processors = {key: process for key, process in (processors or {}).items() if process is not None}
        # the columns left out of the call that have a Python-side default (status, timestamps)
        defaults = [(column.key, column.default if compiled.isinsert else column.onupdate)
                    for column in [*(compiled.insert_prefetch or ()), *(compiled.update_prefetch or ())]]
        self.defaults = [(key, default) for key, default in defaults if default is not None]
        # binds whose value is part of the statement (a LIMIT), not a parameter of the call
        self.fixed = {name: value for name, value in compiled.construct_params({}, _check=False).items()
                      if name not in keys and value is not None}
        self.clean_nul = dialect.name == "postgresql"
        # SQLAlchemy's own record of the result columns (2.0 and 2.1 keep it here): without it,
        # or with a column to convert, the statement is left to Connection.execute
        results = getattr(compiled, "_result_columns", None)
        self.usable = (processors is not None and results is not None and "POSTCOMPILE" not in self.sql
                       and len(self.defaults) == len(defaults)
                       and all(d.is_scalar or d.is_callable for _, d in self.defaults)
                       and _plain(results, dialect))
        columns = [entry[0] for entry in results or ()]
        self.row = namedtuple("Row", columns, rename=True) if columns else None  # type: ignore[misc]

    def parameters(self, params: Mapping[str, Any]) -> Any:
        values = {**self.fixed, **params}
        for key, default in self.defaults:
            if key not in params:
                values[key] = default.arg(None) if default.is_callable else default.arg
        for key, process in self.processors.items():
            if key in values:
                values[key] = process(values[key])
        if self.clean_nul:
            values = {k: clean_value(v) for k, v in values.items()}
        if self.positional:
            return tuple([values[k] for k in self.order])
        return values


def execute_sql(conn: Connection, sql: str, values: Any, *, many: bool = False,
                plan_each_time: bool = False) -> Any:
    """A cursor of the connection that ran ``sql``; a driver error raised as SQLAlchemy's."""
    cursor = conn.connection.cursor()
    try:
        # psycopg 3 prepares a statement run five times on the server; no other driver does
        if plan_each_time and not many and conn.dialect.driver == "psycopg":
            cursor.execute(sql, values, prepare=False)
        else:
            (cursor.executemany if many else cursor.execute)(sql, values)
    except conn.dialect.loaded_dbapi.Error as error:
        cursor.close()
        raise exc.DBAPIError.instance(sql, values, error, conn.dialect.loaded_dbapi.Error,
                                      dialect=conn.dialect) from error
    return cursor


class Prepared:
    """A statement run as compiled, straight on the DBAPI cursor (see the module's doc)."""

    def __init__(self, statement: Any, *, plan_each_time: bool = False) -> None:
        self.statement = statement
        self.plan_each_time = plan_each_time  # never a plan kept on the server (see the module's doc)
        self._forms: dict[tuple[str, frozenset[str]], _Form] = {}

    def _form(self, conn: Connection, keys: frozenset[str]) -> _Form:
        key = (conn.dialect.name, keys)
        form = self._forms.get(key)
        if form is None:
            form = self._forms[key] = _Form(self.statement, conn, keys)
        return form

    def form(self, conn: Connection, params: Mapping[str, Any]) -> _Form:
        """The compiled form that runs these parameters (its ``sql``, its ``parameters()``; not
        ``usable``: ``run`` leaves them to Connection.execute)."""
        return self._form(conn, frozenset(params))

    def _run(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, _Form] | None:
        form = self._form(conn, frozenset(params))
        if not form.usable:
            return None
        return execute_sql(conn, form.sql, form.parameters(params), plan_each_time=self.plan_each_time), form

    def _first_row(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, _Form | None]:
        """(the first row, the form that ran it), or (SQLAlchemy's first row, None)."""
        ran = self._run(conn, params)
        if ran is None:
            return conn.execute(self.statement, dict(params)).first(), None
        cursor, form = ran
        try:
            return cursor.fetchone(), form
        finally:
            cursor.close()

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first row (named fields), or None."""
        row, form = self._first_row(conn, params)
        if row is None or form is None:
            return row
        return form.row(*row) if form.row is not None else None

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first column of the first row, or None."""
        row, _ = self._first_row(conn, params)
        return None if row is None else row[0]

    def run(self, conn: Connection, params: Mapping[str, Any]) -> None:
        """Run it for its effect (an INSERT or UPDATE without RETURNING)."""
        ran = self._run(conn, params)
        if ran is None:
            conn.execute(self.statement, dict(params))
            return
        ran[0].close()

    def run_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run it once per row of parameters (rows with the same keys)."""
        if not rows:
            return
        form = self._form(conn, frozenset(rows[0]))
        if not form.usable or any(frozenset(r) != frozenset(rows[0]) for r in rows):
            conn.execute(self.statement, [dict(r) for r in rows])
            return
        execute_sql(conn, form.sql, [form.parameters(r) for r in rows], many=True).close()

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Every row (named fields)."""
        ran = self._run(conn, params)
        if ran is None:
            return list(conn.execute(self.statement, dict(params)))
        cursor, form = ran
        try:
            rows = cursor.fetchall()
        finally:
            cursor.close()
        return rows if form.row is None else [form.row(*row) for row in rows]


class PreparedIn:
    """A statement with one IN list, prepared once per length of the list. ``build(compared)``
    makes the statement with ``compared`` as what its IN (…) compares with: ``n`` parameters
    named ``{name}_0``, ``{name}_1`` … for a list of ``n``, or one expanding parameter ``name``,
    for SQLAlchemy to run the lists longer than ``most`` (and the empty one)."""

    def __init__(self, build: Callable[[Any], Any], name: str, most: int = 8) -> None:
        self.build = build
        self.name = name
        self.most = most
        self.statement = build(bindparam(name, expanding=True))
        self._by_length: dict[int, Prepared] = {}

    def _split(self, params: Mapping[str, Any]) -> tuple[Prepared | None, dict[str, Any]]:
        items = list(params[self.name])
        if not items or len(items) > self.most:
            return None, {**params, self.name: items}
        prepared = self._by_length.get(len(items))
        if prepared is None:
            compared = [bindparam(f"{self.name}_{i}") for i in range(len(items))]
            prepared = self._by_length[len(items)] = Prepared(self.build(compared))
        values = {k: v for k, v in params.items() if k != self.name}
        values.update((f"{self.name}_{i}", item) for i, item in enumerate(items))
        return prepared, values

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        prepared, values = self._split(params)
        if prepared is None:
            return conn.execute(self.statement, values).first()
        return prepared.first(conn, values)

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        prepared, values = self._split(params)
        if prepared is None:
            return list(conn.execute(self.statement, values))
        return prepared.all(conn, values)
