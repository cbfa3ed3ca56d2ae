"""Cheap recrawls: conditional GETs, unchanged bodies not parsed, incremental listing walks."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from sqlalchemy import func, select

from crawler.extract.keys import canonical_key
from crawler.items import DetailPage
from crawler.pipelines import StoragePipeline
from crawler.spiders.base import conditional_headers
from storage.db import session_scope
from storage.documents import ensure_source, raw_hash
from storage.models import CrawlRun, Document, Version
from storage.runs import start_run
from tests.test_crawl_support import (  # noqa: F401 - fixtures
    crawl,
    first_listed,
    path_of,
    sqlite_sessions_fixture,
    sqlite_url_fixture,
    write_config,
)


def detail_statuses(replica, since: int = 0) -> list[int]:
    return [status for _site, path, status in replica.request_log[since:]
            if "/content/" in path and path.endswith(".html")]


def test_conditional_headers_distrust_a_same_second_last_modified() -> None:
    fetched = datetime(2024, 5, 1, 8, 0, 0, 400000, tzinfo=UTC)
    same_second = "Wed, 01 May 2024 08:00:00 GMT"
    earlier = "Wed, 01 May 2024 07:59:58 GMT"
    assert conditional_headers('"e1"', same_second, fetched) == {"If-None-Match": '"e1"'}
    assert conditional_headers(None, earlier, fetched) == {"If-Modified-Since": earlier}
    assert conditional_headers(None, "not a date", fetched) == {}
    assert conditional_headers(None, None, None) == {}


def test_unchanged_recrawl_is_answered_304_and_writes_nothing(replica, tmp_path, sqlite_url,
                                                              sqlite_sessions) -> None:
    config = write_config(tmp_path, replica, sqlite_url, sources=["gdii-notices", "gdii-gkmlpt"])
    crawl(config)
    with session_scope(sqlite_sessions) as s:
        versions = s.scalar(select(func.count(Version.id)))
        seen_before = {d.id: d.last_seen_at for d in s.scalars(select(Document))}
    mark = len(replica.request_log)
    reports = crawl(config)
    assert {r["status"] for r in reports} == {"ok"}, reports
    assert sum(r["versions_new"] for r in reports) == 0
    statuses = detail_statuses(replica, mark)
    assert statuses and statuses.count(304) / len(statuses) >= 0.95, statuses
    # attachments were asked conditionally too
    attachment_statuses = [st for _s, p, st in replica.request_log[mark:] if p.startswith("/attachment/")]
    assert attachment_statuses and set(attachment_statuses) == {304}
    with session_scope(sqlite_sessions) as s:
        assert s.scalar(select(func.count(Version.id))) == versions
        touched = [d for d in s.scalars(select(Document)) if d.last_seen_at > seen_before[d.id]]
        assert touched
        runs = list(s.scalars(select(CrawlRun).order_by(CrawlRun.id)))
        # the second walk stopped at the first known list page: incremental, never "complete"
        assert [r.full_sweep for r in runs] == [True, True, False, False]
        assert not any(r.listing_complete for r in runs[2:])
    second_pages = [p for _s, p, _st in replica.request_log[mark:] if p.endswith("index_2.html")]
    assert second_pages == []


def test_full_sweep_every_n_runs(replica, tmp_path, sqlite_url, sqlite_sessions) -> None:
    config = write_config(tmp_path, replica, sqlite_url, sources=["gz-zcjd"],
                          source_options={"full_sweep_every": 3})
    walked_second_page = []
    for _ in range(4):
        mark = len(replica.request_log)
        crawl(config)
        walked_second_page.append(any(p.endswith("index_2.html") for _s, p, _st in replica.request_log[mark:]))
    assert walked_second_page == [True, False, False, True]
    with session_scope(sqlite_sessions) as s:
        runs = list(s.scalars(select(CrawlRun).order_by(CrawlRun.id)))
        assert [r.listing_complete for r in runs] == [True, False, False, True]


def test_page_that_changes_encoding_but_not_text_is_unchanged(replica, tmp_path, sqlite_url,
                                                             sqlite_sessions) -> None:
    doc = first_listed(replica, "gdii")
    path = path_of(doc["urls"][0])
    key = canonical_key(doc["urls"][0])
    config = write_config(tmp_path, replica, sqlite_url, sources=["gdii-notices"])
    crawl(config)
    first = _document(sqlite_sessions, key)
    # the same document as GBK, no charset in the header and none in the page: detection
    gbk = replica.serve_encoded("gdii", path, "gbk", header_charset=False, meta_charset=None)
    assert gbk.decode("gbk").count(doc["title"]) >= 1
    reports = crawl(config)
    assert reports[0]["versions_new"] == 0, reports
    # and as GBK declared in the header
    replica.serve_encoded("gdii", path, "gbk", header_charset=True, meta_charset="gbk")
    reports = crawl(config)
    assert reports[0]["versions_new"] == 0, reports
    second = _document(sqlite_sessions, key)
    assert second.version_count == first.version_count == 1
    assert second.raw_hash != first.raw_hash  # the new bytes were read, their text compared
    with session_scope(sqlite_sessions) as s:
        version = s.scalar(select(Version).where(Version.document_id == second.id))
        assert version.title == doc["title"]


def test_a_gbk_page_without_charset_header_decodes_right(replica, tmp_path, sqlite_url,
                                                         sqlite_sessions) -> None:
    doc = first_listed(replica, "gz")
    replica.serve_encoded("gz", path_of(doc["urls"][0]), "gb18030", header_charset=False,
                          meta_charset=None)
    config = write_config(tmp_path, replica, sqlite_url, sources=["gz-zcjd"])
    crawl(config)
    stored = _document(sqlite_sessions, canonical_key(doc["urls"][0]))
    assert stored is not None and stored.title == doc["title"]
    with session_scope(sqlite_sessions) as s:
        version = s.scalar(select(Version).where(Version.document_id == stored.id))
        assert version.encoding == "gb18030"


def test_unchanged_body_is_not_parsed_again(sqlite_url, sqlite_sessions) -> None:
    """The pipeline over a real database: the same bytes twice are a touch, not an extraction."""
    with session_scope(sqlite_sessions) as s:
        source = ensure_source(s, "by-hand", "html_pages", {})
        run = start_run(s, source.id)
        source_id, run_id = source.id, run.id
    body = ("<html><head><title>关于开展测试工作的通知</title></head><body><div class='article-content'>"
            "<p>各有关单位:现将有关事项通知如下。</p></div></body></html>").encode()
    url = "http://127.0.0.1/zwgk/content/post_1.html"
    pipeline = StoragePipeline(sqlite_url, None)
    spider = SimpleNamespace(name="by-hand", source_id=source_id, run_id=run_id)
    pipeline.open_spider(spider)
    pipeline.store_item(DetailPage(url=url, body=body, status=200), spider)
    pipeline.store_item(DetailPage(url=url, body=body, status=200, etag='"x"'), spider)
    counts = pipeline.counts["by-hand"]
    assert counts["documents_new"] == 1 and counts["raw_unchanged"] == 1
    with session_scope(sqlite_sessions) as s:
        doc = s.scalar(select(Document))
        assert doc.raw_hash == raw_hash(body) and doc.etag == '"x"' and doc.version_count == 1
    pipeline.engine.dispose()


def _document(sessions, key: str) -> Document | None:
    with session_scope(sessions) as s:
        return s.scalar(select(Document).where(Document.canonical_key == key))
