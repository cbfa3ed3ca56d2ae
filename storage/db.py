"""Engines, sessions and migrations: SQLite with WAL by default, PostgreSQL by URL."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import util as import_util
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000


class DatabaseError(RuntimeError):
    """The database cannot be reached or used; the message is one line for the user."""


def _json_dumps(value: Any) -> str:
    # Chinese text as UTF-8, not \uXXXX escapes: half the bytes for every stored structure.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys on every connection."""
    kwargs.setdefault("json_serializer", _json_dumps)
    try:
        if url.startswith("sqlite"):
            _ensure_sqlite_dir(url)
            engine = create_engine(
                url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
            )
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True, **kwargs)
            if engine.dialect.name == "postgresql":
                event.listen(engine, "before_cursor_execute", _strip_nul, retval=True)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise DatabaseError(f"bad database URL {redact(url)}: {exc}") from None
    except ModuleNotFoundError as exc:
        raise DatabaseError(f"database driver missing for {redact(url)}: {exc}") from None
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def clean_value(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    return value


def _strip_nul(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
               executemany: bool) -> tuple[str, Any]:
    """PostgreSQL text cannot hold NUL; crawled text sometimes does. Mark it instead of failing."""

    def clean(params: Any) -> Any:
        if isinstance(params, Mapping):
            return {k: clean_value(v) for k, v in params.items()}
        if isinstance(params, (list, tuple)):
            return type(params)(clean_value(v) for v in params)
        return params

    # With "insertmanyvalues" the batch arrives as one mapping even when executemany is set.
    if executemany and not isinstance(parameters, Mapping):
        return statement, [clean(p) for p in parameters]
    return statement, clean(parameters)


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split(":///", 1)[-1] if ":///" in url else ""
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)


def one_line(value: object) -> str:
    """Driver messages span several lines; a user gets one."""
    return " ".join(str(value).split())


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction: committed on success, rolled back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def migrations_dir() -> Path:
    """Where the Alembic scripts are: alembic/ beside this package in a checkout, else the
    installed package. The checkout's first: its migrations are the ones that match these
    models, where an editable install of another checkout (a git worktree) would hand out
    that checkout's."""
    here = Path(__file__).resolve().parent.parent / "alembic"
    if (here / "env.py").exists() and (here / "versions").is_dir():
        return here
    spec = import_util.find_spec("policywatch_migrations")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if (Path(location) / "env.py").exists():
                return Path(location)
    raise DatabaseError("the migration scripts are missing from this installation")


def alembic_config(url: str) -> Any:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["database_url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Run the migrations (``alembic upgrade head``) on the database at ``url``; then, when
    they converted existing data, give the space the old data took back."""
    from alembic import command

    try:
        before = _revision(url)
        command.upgrade(alembic_config(url), revision)
        if before is not None and _revision(url) != before:
            reclaim_space(url)
    except OperationalError as exc:
        raise DatabaseError(f"cannot migrate {redact(url)}: {one_line(exc.orig)}") from None


def _revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def reclaim_space(url: str) -> None:
    """Shrink the database after a migration rewrote its big tables: SQLite keeps freed pages in
    the file (VACUUM rebuilds it, when a tenth or more is free); PostgreSQL keeps a dropped
    column's values, and the dead rows of a rewritten table, until VACUUM FULL rewrites it."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            auto = conn.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "sqlite":
                free = auto.exec_driver_sql("PRAGMA freelist_count").scalar() or 0
                pages = auto.exec_driver_sql("PRAGMA page_count").scalar() or 0
                if pages and free * 10 >= pages:
                    auto.exec_driver_sql("VACUUM")
                    auto.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            elif engine.dialect.name == "postgresql":
                auto.exec_driver_sql("VACUUM (FULL, ANALYZE) versions")
    finally:
        engine.dispose()


def check_schema(engine: Engine) -> None:
    """Fail with a clear message when the database has not been initialised."""
    try:
        tables = set(inspect(engine).get_table_names())
    except OperationalError as exc:
        raise DatabaseError(
            f"cannot open database {redact(engine.url.render_as_string(hide_password=False))}: "
            f"{one_line(exc.orig)}") from None
    if "documents" not in tables:
        raise DatabaseError(
            f"database {engine.url!r} has no policywatch schema: run 'policywatch init'"
        )
    current, head = schema_revisions(engine)
    if current != head:
        raise DatabaseError(
            f"database {engine.url!r} is at schema revision {current}, this policywatch needs "
            f"{head}: run 'policywatch init' to upgrade it"
        )


def schema_revisions(engine: Engine) -> tuple[str | None, str | None]:
    """(the database's Alembic revision, the newest revision this installation ships).

    Read without importing Alembic (half a second of every command's start): the database's
    revision is one row, and the head is the revision no script names as its down_revision.
    """
    with engine.connect() as conn:
        try:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError:
            current = None
    return current, head_revision()


_REVISION_RE = re.compile(r"^(down_)?revision\s*(?::[^=]+)?=\s*(?:['\"]([^'\"]+)['\"]|None)", re.M)


def head_revision() -> str | None:
    """The newest migration this installation ships (the one nothing revises)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for script in (migrations_dir() / "versions").glob("*.py"):
        for match in _REVISION_RE.finditer(script.read_text(encoding="utf-8")):
            if match.group(2):
                (revised if match.group(1) else revisions).add(match.group(2))
    heads = sorted(revisions - revised)
    return heads[-1] if heads else None
