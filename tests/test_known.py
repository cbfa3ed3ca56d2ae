"""What a crawl knows of a source's stored documents (crawler.known), asked for list page by list
page on the migrated databases: one query a page, none for a first crawl, a document asked for
alone when no list page brought it, and nothing kept once its page is answered."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from crawler.extract.keys import canonical_key
from crawler.known import KnownDocuments
from crawler.store_items import ItemStore, StoreJob
from storage import documents
from storage.db import session_scope
from storage.documents import count_documents
from tests.test_store_process import _pages


@pytest.fixture
def stored(db_url, sessions, run_ids) -> list:
    """Six replica pages stored with an ETag each; the source's id is run_ids[0]."""
    pages = _pages(6)
    for index, page in enumerate(pages):
        page.etag = f'"etag-{index}"'
    store = ItemStore.open(db_url)
    try:
        assert all(r.error is None for r in store.write([StoreJob(p, *run_ids) for p in pages]))
    finally:
        store.close()
    return pages


def _known(db_url, sessions, source_id: int) -> tuple[KnownDocuments, list[str]]:
    with session_scope(sessions) as s:
        count = count_documents(s, source_id)
    known = KnownDocuments(db_url, source_id, stored=count)
    statements: list[str] = []
    if known._sessions is not None:
        event.listen(known._sessions.kw["bind"], "before_cursor_execute",
                     lambda conn, cursor, sql, *rest: statements.append(sql))
    return known, statements


def test_a_list_page_is_asked_for_at_once(db_url, sessions, run_ids, stored) -> None:
    known, statements = _known(db_url, sessions, run_ids[0])
    try:
        assert known.stored == len(stored)
        keys = [canonical_key(p.url) for p in stored[:4]]
        new = canonical_key("http://127.0.0.1:1/gdii/post_999999.html")
        known.prefetch([*keys, new, keys[0]])
        assert known.queries == 1
        assert [known.get(k).etag for k in keys] == ['"etag-0"', '"etag-1"', '"etag-2"', '"etag-3"']
        assert known.get(new) is None and new not in known  # asked already: not asked again
        assert known.get(keys[0]).raw_hash and known.get(keys[0]).last_fetched_at is not None
        assert known.queries == 1
        lone = canonical_key(stored[5].url)  # its list page was read elsewhere (distributed)
        assert known.get(lone).etag == '"etag-5"' and known.queries == 2
        known.forget(keys[0])  # answered: dropped, and asked again only if met again
        assert len(known) == 5
        assert keys[0] in known and known.queries == 3
    finally:
        known.close()
    selects = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3


def test_a_full_sweep_loads_every_document_at_once(db_url, sessions, run_ids, stored) -> None:
    known, statements = _known(db_url, sessions, run_ids[0])
    try:
        known.load_all()
        assert len(known) == len(stored) and known.queries == 1
        assert [known.get(canonical_key(p.url)).etag for p in stored] == [f'"etag-{i}"' for i in range(6)]
        known.prefetch(["127.0.0.1:1/post_1"])
        assert known.get("127.0.0.1:1/post_1") is None and known.queries == 1  # complete: not asked
        known.forget(canonical_key(stored[0].url))
        assert len(known) == len(stored) - 1
    finally:
        known.close()
    assert len([sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]) == 1


def test_a_source_with_nothing_stored_is_never_asked(db_url, sessions, run_ids) -> None:
    known, _ = _known(db_url, sessions, run_ids[0])
    known.prefetch(["127.0.0.1:1/post_1"])
    assert known.stored == 0 and known._sessions is None
    assert known.get("127.0.0.1:1/post_1") is None and known.queries == 0
    known.close()


def test_keys_past_one_query_are_asked_in_several(db_url, sessions, run_ids, stored, monkeypatch) -> None:
    monkeypatch.setattr(documents, "KEYS_PER_QUERY", 2)
    known, statements = _known(db_url, sessions, run_ids[0])
    try:
        known.prefetch(canonical_key(p.url) for p in stored)
        assert all(canonical_key(p.url) in known for p in stored)
    finally:
        known.close()
    assert len([sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]) == 3


def test_another_sources_documents_are_not_known(db_url, sessions, run_ids, stored) -> None:
    from storage.documents import ensure_source

    with session_scope(sessions) as s:
        other = ensure_source(s, "elsewhere", "html_pages", {}).id
    known = KnownDocuments(db_url, other, stored=1)  # as if it had one: the query is made
    try:
        known.prefetch(canonical_key(p.url) for p in stored)
        assert known.queries == 1 and not any(canonical_key(p.url) in known for p in stored)
    finally:
        known.close()


def test_the_sources_of_a_crawl_share_one_connection(db_url, sessions, run_ids, stored) -> None:
    """32 sources crawling at once must not hold 32 more connections (PostgreSQL's default limit
    is 100, shared by every worker): their lookups share one engine holding one connection."""
    from crawler import known as known_module

    first = KnownDocuments(db_url, run_ids[0], stored=len(stored))
    second = KnownDocuments(db_url, run_ids[0], stored=len(stored))
    try:
        assert first._sessions is second._sessions
        engine = first._sessions.kw["bind"]
        first.prefetch([canonical_key(stored[0].url)])
        second.prefetch([canonical_key(stored[1].url)])
        assert engine.pool.size() == 1 and engine.pool.checkedout() == 0
    finally:
        first.close()
        assert db_url in known_module._shared  # the other still uses it
        second.close()
    assert db_url not in known_module._shared


def test_a_database_that_fails_costs_conditional_gets_not_pages(tmp_path, caplog) -> None:
    """A lookup that fails (the database gone mid-crawl) must not raise into the spider, which
    would lose the list page: the documents are then fetched as if new, and no lookup is tried
    again for a while (each could wait on a dead server)."""
    broken = tmp_path / "not-a-database.db"
    broken.write_bytes(b"this is not an SQLite file" * 100)
    known = KnownDocuments(f"sqlite:///{broken}", 1, stored=1)
    try:
        known.prefetch(["127.0.0.1:1/post_1", "127.0.0.1:1/post_2"])
        assert known.get("127.0.0.1:1/post_1") is None and known.queries == 0
        assert "could not ask storage what it knows of 2 document(s)" in caplog.text
        assert caplog.text.count("could not ask storage") == 1  # the get above did not try again
    finally:
        known.close()


def test_a_full_sweep_of_a_source_too_large_to_hold_asks_list_page_by_list_page(
        db_url, sessions, run_ids, stored) -> None:
    """Past load_all_most documents (50,000 by default: some 30 MB), a full sweep holds what an
    incremental walk holds: the entries of the list pages being answered."""
    known = KnownDocuments(db_url, run_ids[0], stored=len(stored), load_all_most=len(stored) - 1)
    try:
        known.load_all()
        assert len(known) == 0 and known.queries == 0
        keys = [canonical_key(p.url) for p in stored[:3]]
        known.prefetch(keys)  # a list page
        assert known.queries == 1 and len(known) == 3
        assert [known.get(k).etag for k in keys] == ['"etag-0"', '"etag-1"', '"etag-2"']
        assert known.get(canonical_key(stored[4].url)).etag == '"etag-4"' and known.queries == 2
    finally:
        known.close()
    at_most = KnownDocuments(db_url, run_ids[0], stored=len(stored), load_all_most=len(stored))
    try:
        at_most.load_all()
        assert len(at_most) == len(stored) and at_most.queries == 1
    finally:
        at_most.close()
