"""Shared fixtures: a migrated SQLite database, the replica server, the CLI as a user types it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEEDS = ROOT / "replica" / "data" / "seeds"

# CI runs the property tests with a fixed seed, so a red run is always reproducible; locally
# they explore new examples every run.
try:
    from hypothesis import settings as _hypothesis_settings

    _hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
    if os.environ.get("CI"):
        _hypothesis_settings.load_profile("ci")
except ImportError:  # hypothesis is in the test extra
    pass

# Crawls of the replica on loopback need no politeness delay.
FAST_CRAWL = """
[crawl]
download_delay = 0
autothrottle = false
obey_robots = false
"""


BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    """One throwaway PostgreSQL server for the session (or POLICYWATCH_TEST_PG_URL's server)."""
    from tests.servers import PostgresServer, postgres_bin

    if os.environ.get("POLICYWATCH_TEST_NO_PG"):
        pytest.skip("PostgreSQL tests switched off by POLICYWATCH_TEST_NO_PG")
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql); SQLite only")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (pip install -e '.[test]')")
    with PostgresServer() as server:
        yield server


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, SQLite and then PostgreSQL, brought to the latest schema by the
    migrations (never create_all)."""
    from storage.db import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'pw.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_database(f"pw_{uuid.uuid4().hex[:12]}")  # type: ignore[attr-defined]
    upgrade(url)
    return url


@pytest.fixture
def sessions(db_url: str) -> Iterator[object]:
    from storage.db import make_engine, session_factory

    engine = make_engine(db_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def run_ids(sessions: object) -> tuple[int, int]:
    """A source and an open run in it, for storing items by hand: (source id, run id)."""
    from storage.db import session_scope
    from storage.documents import ensure_source
    from storage.runs import start_run

    with session_scope(sessions) as s:
        source = ensure_source(s, "by-hand", "html_pages", {})
        run = start_run(s, source.id)
        return source.id, run.id


@pytest.fixture
def replica() -> Iterator[object]:
    from replica.server import ReplicaServer

    with ReplicaServer(release=0) as server:
        yield server


@pytest.fixture
def replica_config(tmp_path: Path, replica: object, db_url: str) -> Path:
    """A policywatch.toml pointing at the running replica and the migrated database."""
    path = tmp_path / "policywatch.toml"
    path.write_text(replica.config_toml(db_url) + FAST_CRAWL, encoding="utf-8")  # type: ignore[attr-defined]
    return path


def run_cli(*args: str) -> object:
    """Run the CLI in-process as a user would type it (not for crawls: one reactor a process)."""
    from monitor.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def run_policywatch(*args: str, env: dict[str, str] | None = None,
                    timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """Run `policywatch …` in a child process (crawls need a fresh Twisted reactor)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "monitor", *args], capture_output=True,
                          text=True, timeout=timeout, env=full_env, cwd=str(ROOT))
