"""storage.prepared runs a Core statement on the DBAPI cursor: the rows it writes and reads are
those Connection.execute writes and reads, defaults, types and errors included, on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from storage import content
from storage.db import session_scope
from storage.documents import ensure_source
from storage.models import Document, TextSketch, Version
from storage.prepared import Prepared

_documents = Document.__table__
_versions = Version.__table__
NOW = datetime(2024, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)


def _document_row(conn: Any, document_id: int) -> dict[str, Any]:
    row = conn.execute(select(_documents).where(_documents.c.id == document_id)).one()
    return {k: v for k, v in row._mapping.items() if k not in ("id", "canonical_key", "url")}


def _a_version(session: Any) -> int:
    """A source, a document and one version (written by SQLAlchemy), for rows that need one."""
    source = ensure_source(session, "gdii", "html_pages", {}).id
    conn = session.connection()
    document = conn.execute(insert(_documents).returning(_documents.c.id), {
        "source_id": source, "canonical_key": "k", "url": "u", "first_seen_at": NOW}).scalar_one()
    blob = content._insert_blob(conn, b"k" * 16, None, None, content.compress(b"x"))
    return conn.execute(insert(_versions).returning(_versions.c.id), {
        "document_id": document, "seq": 1, "url": "u", "content_hash": "h", "text_id": blob,
        "normalized_id": blob, "page_id": blob}).scalar_one()


def test_rows_written_and_read_are_those_of_execute(sessions: Any) -> None:
    inserted = insert(_documents).returning(_documents.c.id)
    with session_scope(sessions) as s:
        source = ensure_source(s, "gdii", "html_pages", {}).id
        conn = s.connection()
        # the columns left out get their Python-side defaults (status, counts, timestamps …)
        values = {"source_id": source, "first_seen_at": NOW, "title": "关于印发《工作要点》的通知",
                  "doc_number": "粤工信〔2024〕1号"}
        fast = Prepared(inserted).scalar(conn, {**values, "canonical_key": "a", "url": "http://h/a"})
        slow = conn.execute(inserted, {**values, "canonical_key": "b", "url": "http://h/b"}).scalar_one()
        fast_row, slow_row = _document_row(conn, fast), _document_row(conn, slow)
        assert fast_row.pop("last_seen_at") is not None and slow_row.pop("last_seen_at") is not None
        assert fast_row == slow_row and fast_row["status"] == "active" and fast_row["version_count"] == 0

        # an UPDATE, a JSON column and a timezone-aware date in, named fields out
        Prepared(update(_documents).where(_documents.c.id == bindparam("document_id"))).run(
            conn, {"document_id": fast, "last_fetched_at": NOW, "etag": 'W/"1"'})
        blob = content._insert_blob(conn, b"k" * 16, None, None, content.compress(b"x"))
        add_version = Prepared(insert(_versions).returning(_versions.c.id))
        version = add_version.scalar(conn, {
            "document_id": fast, "seq": 1, "fetched_at": NOW, "url": "http://h/a", "content_hash": "h",
            "attachments": [{"name": "附件1.docx", "size": 3}], "text_id": blob, "normalized_id": blob,
            "page_id": blob})
        found = Prepared(select(_documents.c.etag, _versions.c.id.label("version_id"), _versions.c.seq)
                         .join(_versions, _versions.c.document_id == _documents.c.id)
                         .where(_documents.c.id == bindparam("id"))).first(conn, {"id": fast})
        assert (found.etag, found.version_id, found.seq) == ('W/"1"', version, 1)
        stored = s.get(Version, version)
        assert stored.attachments == [{"name": "附件1.docx", "size": 3}] and stored.fetched_at == NOW
        assert s.get(Document, fast).last_fetched_at == NOW
        assert Prepared(select(_documents.c.id).where(_documents.c.url == bindparam("url"))).first(
            conn, {"url": "http://h/none"}) is None


def test_many_rows_and_a_statement_it_cannot_prepare(sessions: Any) -> None:
    with session_scope(sessions) as s:
        conn = s.connection()
        version = _a_version(s)
        sketches = TextSketch.__table__
        Prepared(insert(sketches)).run_many(conn, [{"key": k, "version_id": version} for k in (5, 7, 9)])
        # an IN list is rendered at execution: run by SQLAlchemy, same answer
        listed = Prepared(select(sketches.c.key).where(sketches.c.key.in_(bindparam("keys", expanding=True)))
                          .order_by(sketches.c.key))
        assert not listed._form(conn, frozenset({"keys"})).usable
        assert listed.scalar(conn, {"keys": [7, 9]}) == 7


def test_a_driver_error_is_sqlalchemys(sessions: Any) -> None:
    with session_scope(sessions) as s:
        source = ensure_source(s, "gdii", "html_pages", {}).id
        conn = s.connection()
        add = Prepared(insert(_documents))
        row = {"source_id": source, "canonical_key": "k", "url": "u", "first_seen_at": NOW}
        add.run(conn, row)
        with pytest.raises(IntegrityError):
            add.run(conn, row)  # the same (source, key) twice


def test_text_with_nul_is_stored(sessions: Any) -> None:
    """PostgreSQL text cannot hold NUL: the engine's own rule (a replacement character) applies."""
    with session_scope(sessions) as s:
        source = ensure_source(s, "gdii", "html_pages", {}).id
        conn = s.connection()
        new = Prepared(insert(_documents).returning(_documents.c.id)).scalar(
            conn, {"source_id": source, "canonical_key": "k", "url": "u", "first_seen_at": NOW,
                   "title": "带\x00空字符"})
        title = s.get(Document, new).title
        assert title == ("带\ufffd空字符" if conn.dialect.name == "postgresql" else "带\x00空字符")


def test_an_in_list_is_prepared_per_length_and_longer_ones_run_by_sqlalchemy(sessions: Any) -> None:
    from storage.prepared import PreparedIn

    sketches = TextSketch.__table__

    def build(keys: Any) -> Any:
        return select(sketches.c.key).where(sketches.c.key.in_(keys)).order_by(sketches.c.key)

    with session_scope(sessions) as s:
        conn = s.connection()
        version = _a_version(s)
        conn.execute(insert(sketches), [{"key": k, "version_id": version} for k in range(0, 20, 2)])
        listed = PreparedIn(build, "keys", most=3)
        for keys in ([], [4], [5], [4, 5, 6], [0, 2, 4, 6, 8, 99]):
            expected = [k for k in sorted(keys) if k % 2 == 0 and k < 20]
            assert [row.key for row in listed.all(conn, {"keys": keys})] == expected, keys
            assert (listed.first(conn, {"keys": keys}) or [None])[0] == (expected or [None])[0]
        assert sorted(listed._by_length) == [1, 3]  # the empty and the long list went to SQLAlchemy



def _sample_values(compiled: Any) -> list[str]:
    """Literal values for a compiled statement's positional parameters, for EXPLAIN EXECUTE."""
    samples = {"digest": "'\\x6b'::bytea", "template": "NULL"}
    return [samples.get(name, str(i + 1)) for i, name in enumerate(compiled.positiontup)]


def _postgresql_only(sessions: Any) -> None:
    if sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("server-side plans are PostgreSQL's")


def test_the_near_duplicate_lookup_planned_early_in_a_crawl_reads_versions_by_index(sessions: Any) -> None:
    """psycopg prepares a statement run five times on a connection, and PostgreSQL may keep one
    generic plan for it, made while the tables were nearly empty. The near-duplicate lookup's
    LIMIT, sent as a parameter, was guessed at a tenth of the rows, and that plan scanned the
    whole versions table for every page of the crawl: 1.6 ms a page at 10,000 documents."""
    _postgresql_only(sessions)
    from sqlalchemy.dialects import postgresql

    statement = content._LOOKUP_SIMILAR.build([bindparam(f"keys_{i}") for i in range(4)])
    compiled = statement.compile(dialect=postgresql.psycopg.dialect(paramstyle="numeric_dollar"))
    with session_scope(sessions) as s:
        _a_version(s)  # a few rows, as when the plan is made early in a crawl
        conn = s.connection()
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        conn.exec_driver_sql(f"PREPARE early AS {compiled.string}")
        plan = "\n".join(row[0] for row in conn.exec_driver_sql(
            "EXPLAIN EXECUTE early(" + ", ".join(_sample_values(compiled)) + ")"))
        conn.exec_driver_sql("DEALLOCATE early")
    assert "Index Scan using pk_versions on versions" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_the_template_lookup_is_planned_at_every_run(sessions: Any) -> None:
    """Whatever its parameters, the template lookup's best plan changes as the versions table
    grows (a sort of the small table, then a walk of its index): no plan is kept for it."""
    _postgresql_only(sessions)
    with session_scope(sessions) as s:
        version = _a_version(s)
        conn = s.connection()
        for _ in range(8):  # psycopg prepares what runs five times
            assert content._template_version(conn, 1, 0) is not None
            found = content._look_up(conn, b"k" * 16)
            assert found.text_id is not None
        kept = [row[0] for row in conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements")]
    assert version and any("FROM blobs" in sql for sql in kept), kept  # the others are kept
    assert not any("anon_1.page_id" in sql for sql in kept), kept
