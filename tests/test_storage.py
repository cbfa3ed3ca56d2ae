"""Storage: migrations from an empty database, versions only on content change, URL aliases."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import inspect, select

from storage.db import make_engine, session_scope, upgrade
from storage.documents import NotFound, ensure_source, resolve_document, store_snapshot, touch, versions_of
from storage.models import Document, DocumentUrl, Version


@dataclass
class Snap:
    url: str
    canonical_key: str
    content_hash: str
    title: str = "关于印发2023年广东省数字经济工作要点的通知"
    text: str = "正文"
    normalized_text: str = "正文"
    structure: dict[str, Any] = field(default_factory=lambda: {"metadata": {"doc_number": "粤工信〔2023〕1号"}})
    attachments: list[dict[str, Any]] = field(default_factory=list)
    raw: bytes = b"<html>body</html>"
    content_type: str | None = "text/html"
    encoding: str | None = "utf-8"
    etag: str | None = None
    last_modified: str | None = None


def test_migrations_run_from_an_empty_sqlite_database(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade(url)
    engine = make_engine(url)
    tables = set(inspect(engine).get_table_names())
    assert {"sources", "documents", "document_urls", "versions", "crawl_runs", "fetch_errors",
            "change_events", "subscribers", "deliveries", "leases", "alembic_version"} <= tables
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    upgrade(url)  # idempotent
    engine.dispose()


def test_new_version_only_when_content_changes(sessions) -> None:
    with session_scope(sessions) as s:
        source = ensure_source(s, "gdii-notices", "html_pages", {})
        first = store_snapshot(s, source.id, Snap("http://h/content/post_1.html", "h/post_1", "a"))
        again = store_snapshot(s, source.id, Snap("http://h/content/post_1.html", "h/post_1", "a"))
        revised = store_snapshot(s, source.id, Snap("http://h/content/post_1.html", "h/post_1", "b"))
        assert (first.status, again.status, revised.status) == ("new", "unchanged", "changed")
        assert again.version_id is None
        versions = versions_of(s, first.document_id)
        assert [v.seq for v in versions] == [1, 2]
        assert versions[0].raw == b"<html>body</html>"
        doc = s.get(Document, first.document_id)
        assert doc.version_count == 2 and doc.doc_number == "粤工信〔2023〕1号"


def test_one_post_under_two_urls_is_one_document(sessions) -> None:
    with session_scope(sessions) as s:
        source = ensure_source(s, "gdii", "html_pages", {})
        a = store_snapshot(s, source.id, Snap("http://h/gkmlpt/content/0/1/post_1.html", "h/post_1", "a"))
        b = store_snapshot(s, source.id, Snap("http://h/zwgk/tzgg/content/post_1.html", "h/post_1", "a"))
        assert a.document_id == b.document_id and b.status == "unchanged"
        urls = set(s.scalars(select(DocumentUrl.url)))
        assert urls == {"http://h/gkmlpt/content/0/1/post_1.html", "http://h/zwgk/tzgg/content/post_1.html"}
        assert resolve_document(s, "http://h/zwgk/tzgg/content/post_1.html").id == a.document_id
        assert len(list(s.scalars(select(Version)))) == 1


def test_a_title_part_is_taken_literally(sessions) -> None:
    """history/show/diff/changes --document find a document by a unique part of its title: a
    part with % or _ is that text, not a LIKE pattern matching every title."""
    with session_scope(sessions) as s:
        source = ensure_source(s, "x", "html_pages", {})
        pct = store_snapshot(s, source.id, Snap("http://h/post_1.html", "h/post_1", "a",
                                                title="关于规上工业增加值增长5%目标的通知"))
        store_snapshot(s, source.id, Snap("http://h/post_2.html", "h/post_2", "b", title="关于印发工作要点的通知"))
        assert resolve_document(s, "5%").id == pct.document_id
        assert resolve_document(s, "增长5%目标").id == pct.document_id
        with pytest.raises(NotFound, match="no stored document"):
            resolve_document(s, "%通知")  # no title holds "%通知"; as a pattern it matched both
        with pytest.raises(NotFound, match="no stored document"):
            resolve_document(s, "关于_")


def test_touch_moves_last_seen_only(sessions) -> None:
    with session_scope(sessions) as s:
        source = ensure_source(s, "x", "html_pages", {})
        out = store_snapshot(s, source.id, Snap("http://h/post_9.html", "h/post_9", "a"))
        before = s.get(Document, out.document_id).last_seen_at
        assert touch(s, source.id, "h/post_9", "http://h/post_9.html") == out.document_id
        assert s.get(Document, out.document_id).last_seen_at >= before
        assert len(versions_of(s, out.document_id)) == 1


def test_migrations_match_the_models(db_url) -> None:
    """`alembic check`: the migrations build exactly the schema the models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from storage.models import Base

    engine = make_engine(db_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diffs == []


def test_schema_check_reads_the_same_revisions_as_alembic(tmp_path) -> None:
    """The quick schema check (no Alembic import) agrees with Alembic on both revisions, and a
    database one migration behind is refused with the command that fixes it."""
    import pytest
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from storage.db import DatabaseError, alembic_config, check_schema, head_revision, schema_revisions

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head_revision() == head
    upgrade(url, "0002")
    engine = make_engine(url)
    with engine.connect() as conn:
        assert schema_revisions(engine) == (MigrationContext.configure(conn).get_current_revision(), head)
    with pytest.raises(DatabaseError, match="policywatch init"):
        check_schema(engine)
    upgrade(url)
    check_schema(engine)
    assert schema_revisions(engine) == (head, head)
    engine.dispose()


def test_touch_records_an_alternate_url_once(sessions) -> None:
    """touch skips the document_urls lookup for the document's own URL (always recorded by
    store_snapshot), and still records any other URL the page answered under, once."""
    with session_scope(sessions) as s:
        source = ensure_source(s, "x", "html_pages", {})
        out = store_snapshot(s, source.id, Snap("http://h/a/post_9.html", "h/post_9", "a"))
        for url in ("http://h/a/post_9.html", "http://h/b/post_9.html", "http://h/b/post_9.html"):
            assert touch(s, source.id, "h/post_9", url) == out.document_id
        urls = sorted(s.scalars(select(DocumentUrl.url).where(DocumentUrl.document_id == out.document_id)))
        assert urls == ["http://h/a/post_9.html", "http://h/b/post_9.html"]
        assert touch(s, source.id, "h/unknown", "http://h/a/post_9.html") is None


def test_a_document_the_session_holds_reads_what_storing_wrote(sessions) -> None:
    """store_snapshot and touch write the row with Core: a Document instance loaded before
    (as the pipeline does) shows the new values, and its own unwritten changes are not lost
    but overwritten as the ORM flush would have."""
    from storage.documents import find_by_key

    with session_scope(sessions) as s:
        source = ensure_source(s, "x", "html_pages", {})
        store_snapshot(s, source.id, Snap("http://h/a/1.html", "h/1", "a"))
    with session_scope(sessions) as s:
        doc = find_by_key(s, source.id, "h/1")
        doc.missing_count = 2
        doc.status = "removed"
        store_snapshot(s, source.id, Snap("http://h/b/1.html", "h/1", "b", title="新标题"))
        assert (doc.url, doc.title, doc.version_count, doc.status, doc.missing_count) == (
            "http://h/b/1.html", "新标题", 2, "active", 0)
        doc.missing_count = 1
        touch(s, source.id, "h/1", "http://h/b/1.html", etag='"e"', fetched_raw_hash="r")
        assert (doc.etag, doc.raw_hash, doc.missing_count) == ('"e"', "r", 0)
    with session_scope(sessions) as s:
        doc = s.scalar(select(Document))
        assert (doc.url, doc.version_count, doc.missing_count, doc.etag) == ("http://h/b/1.html", 2, 0, '"e"')
        assert sorted(u.url for u in doc.urls) == ["http://h/a/1.html", "http://h/b/1.html"]


def test_stored_raw_hash_is_that_of_a_stored_version(sessions) -> None:
    from storage.documents import raw_hash, stored_raw_hash

    with session_scope(sessions) as s:
        source = ensure_source(s, "x", "html_pages", {})
        assert stored_raw_hash(s, source.id, "h/1") is None
        store_snapshot(s, source.id, Snap("http://h/a/1.html", "h/1", "a"))
        assert stored_raw_hash(s, source.id, "h/1") == raw_hash(b"<html>body</html>")
        s.get(Document, 1).version_count = 0  # unflushed: seen all the same
        assert stored_raw_hash(s, source.id, "h/1") is None
