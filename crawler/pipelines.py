"""The storage pipeline: extract each fetched page and hand the snapshot to storage.

Every outcome is counted for the crawl run; every failure is recorded with its reason, and a
broken page never stops the crawl.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from crawler.extract.keys import canonical_key
from crawler.extract.page import ExtractionError
from crawler.items import DetailPage, FetchFailure, ListingPage, NotModified
from crawler.snapshot import build_snapshot
from storage.db import make_engine, session_factory, session_scope
from storage.documents import mark_missing, store_snapshot, touch
from storage.runs import finish_run, record_fetch_error

logger = logging.getLogger(__name__)

ProgressFn = Callable[[str, dict[str, int]], None]


class StoragePipeline:
    def __init__(self, database_url: str, progress: ProgressFn | None, crawler: Any = None) -> None:
        self.crawler = crawler
        self.engine = make_engine(database_url)
        self.sessions = session_factory(self.engine)
        self.progress = progress
        self.counts: dict[str, Counter[str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> StoragePipeline:
        return cls(crawler.settings.get("POLICYWATCH_DATABASE_URL"),
                   crawler.settings.get("POLICYWATCH_PROGRESS"), crawler)

    def _current_spider(self, spider: Any) -> Any:
        # Newer Scrapy stops passing the spider to pipeline methods; the crawler knows it.
        return spider if spider is not None else self.crawler.spider

    def open_spider(self, spider: Any = None) -> None:
        spider = self._current_spider(spider)
        self.counts[spider.name] = Counter()

    def close_spider(self, spider: Any = None) -> None:
        spider = self._current_spider(spider)
        counts = self.counts.get(spider.name, Counter())
        run_id = getattr(spider, "run_id", None)
        if run_id is not None:
            if counts["documents_seen"] == 0 and counts["errors"] > 0:
                status = "failed"
            elif counts["errors"] > 0 or spider.listing_failed:
                status = "partial"
            else:
                status = "ok"
            reason = getattr(spider.crawler.stats, "get_value", lambda *_: None)("finish_reason")
            message = None if reason in (None, "finished") else f"stopped: {reason}"
            with session_scope(self.sessions) as session:
                finish_run(session, run_id, status=status,
                           counts={**counts, "listing_complete": spider.listing_complete
                                   and reason in (None, "finished")},
                           message=message)
        self._report(spider.name, counts, final=True)
        self.engine.dispose()

    def process_item(self, item: Any, spider: Any = None) -> Any:
        spider = self._current_spider(spider)
        counts = self.counts.setdefault(spider.name, Counter())
        source_id = spider.source_id
        run_id = spider.run_id
        if isinstance(item, ListingPage):
            counts["pages_fetched"] += 1
        elif isinstance(item, DetailPage):
            counts["pages_fetched"] += 1
            self._store_detail(item, spider, source_id, run_id, counts)
        elif isinstance(item, NotModified):
            counts["pages_fetched"] += 1
            counts["documents_seen"] += 1
            counts["unchanged"] += 1
            with session_scope(self.sessions) as session:
                touch(session, source_id, canonical_key(item.url), item.url)
        elif isinstance(item, FetchFailure):
            counts["errors"] += 1
            with session_scope(self.sessions) as session:
                record_fetch_error(session, run_id=run_id, source_id=source_id, url=item.url,
                                   status=item.status, reason=item.reason)
                if item.detail and item.status in (404, 410):
                    mark_missing(session, source_id, canonical_key(item.url))
        self._report(spider.name, counts)
        return item

    def _store_detail(self, item: DetailPage, spider: Any, source_id: int, run_id: int | None,
                      counts: Counter[str]) -> None:
        try:
            snapshot = build_snapshot(item.url, item.body, item.content_type, etag=item.etag,
                                      last_modified=item.last_modified, status=item.status)
        except ExtractionError as exc:
            counts["errors"] += 1
            with session_scope(self.sessions) as session:
                record_fetch_error(session, run_id=run_id, source_id=source_id, url=item.url,
                                   status=item.status, reason=f"unreadable page: {exc}")
            return
        except Exception as exc:  # a parser bug must not lose the rest of the crawl
            logger.exception("extraction failed for %s", item.url)
            counts["errors"] += 1
            with session_scope(self.sessions) as session:
                record_fetch_error(session, run_id=run_id, source_id=source_id, url=item.url,
                                   status=item.status,
                                   reason=f"extraction error: {type(exc).__name__}: {exc}")
            return
        with session_scope(self.sessions) as session:
            outcome = store_snapshot(session, source_id, snapshot, run_id=run_id)
        counts["documents_seen"] += 1
        if outcome.status == "new":
            counts["documents_new"] += 1
            counts["versions_new"] += 1
        elif outcome.status == "changed":
            counts["versions_new"] += 1
        else:
            counts["unchanged"] += 1

    def _report(self, name: str, counts: Counter[str], final: bool = False) -> None:
        if self.progress is None:
            return
        if final or counts["pages_fetched"] % 10 == 0:
            self.progress(name, {**counts, "final": int(final)})
