"""Helpers for the crawl tests (no tests here): a SQLite database, configs, crawls as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage.db import make_engine, session_factory, session_scope, upgrade
from storage.models import Document, SourceRow
from tests.conftest import run_policywatch

# loopback crawls: no delay, no throttle, short retries; robots and attachments as by default
QUICK = {"download_delay": 0, "autothrottle": False, "retry_backoff": 0.05, "timeout": 10}


@pytest.fixture(name="sqlite_url")
def sqlite_url_fixture(tmp_path: Path) -> str:
    """A migrated SQLite database (the heavy crawl tests run on SQLite only, to stay quick)."""
    url = f"sqlite:///{tmp_path / 'crawl.db'}"
    upgrade(url)
    return url


@pytest.fixture(name="sqlite_sessions")
def sqlite_sessions_fixture(sqlite_url: str) -> Any:
    engine = make_engine(sqlite_url)
    yield session_factory(engine)
    engine.dispose()


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return str(value)


def write_config(tmp_path: Path, replica: Any, database_url: str, *, crawl: dict[str, Any] | None = None,
                 sources: list[str] | None = None, source_options: dict[str, Any] | None = None,
                 extra_sources: str = "") -> Path:
    """A config for the replica: only the named sources, each with source_options added."""
    text = replica.config_toml(database_url)
    blocks = text.split("[[sources]]")
    head, entries = blocks[0], blocks[1:]
    kept = []
    for entry in entries:
        name = entry.split('name = "', 1)[1].split('"', 1)[0]
        if sources is not None and name not in sources:
            continue
        options = "".join(f"{k} = {toml_value(v)}\n" for k, v in (source_options or {}).items())
        kept.append("[[sources]]" + entry.rstrip("\n") + "\n" + options + "\n")
    settings = {**QUICK, **(crawl or {})}
    body = head + "".join(kept) + extra_sources + "\n[crawl]\n" + "".join(
        f"{k} = {toml_value(v)}\n" for k, v in settings.items())
    path = tmp_path / "policywatch.toml"
    path.write_text(body, encoding="utf-8")
    return path


def crawl(config: Path, *args: str, timeout: float = 120) -> list[dict[str, Any]]:
    result = run_policywatch("crawl", "--config", str(config), "--format", "json", "-q", *args,
                             timeout=timeout)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def first_listed(replica: Any, site: str, *, with_attachments: bool | None = None) -> dict[str, Any]:
    """A document from the first list page of a site (an incremental walk always reaches it)."""
    from replica.catalog import LIST_PATHS

    raw = replica.handle(site, LIST_PATHS[site] + "index.html")[2]
    first_page = raw.decode("gb18030" if site == "gxj" else "utf-8")
    for doc in replica.documents():
        if doc["site"] != site or path_of(doc["urls"][0]) not in first_page:
            continue
        if with_attachments is None or bool(doc["attachments"]) == with_attachments:
            return doc
    raise LookupError(site)


def document(sessions: Any, source: str, key: str) -> Document | None:
    with session_scope(sessions) as s:
        return s.scalar(select(Document).join(SourceRow).where(SourceRow.name == source,
                                                               Document.canonical_key == key))
