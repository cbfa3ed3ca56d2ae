"""The storage pipeline: extract each fetched page and hand the snapshot to storage.

Every outcome is counted for the crawl run; every failure is recorded with its reason, and a
broken page never stops the crawl.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from crawler.extract.keys import canonical_key
from crawler.extract.page import ExtractionError
from crawler.items import DetailPage, FetchedAttachment, FetchFailure, ListingPage, NotModified
from crawler.snapshot import attachments_changed, build_snapshot, resolve_attachments
from storage.db import make_engine, session_factory, session_scope
from storage.documents import (
    find_by_key,
    latest_page,
    mark_missing,
    raw_hash,
    store_attachment_blob,
    store_snapshot,
    touch,
)
from storage.runs import finish_run, record_fetch_error

logger = logging.getLogger(__name__)

ProgressFn = Callable[[str, dict[str, int]], None]


class StoragePipeline:
    # one writer per process, across the sources crawled together: SQLite has one anyway, the
    # counts stay exact, and two sources never race to insert the same attachment file
    _lock = threading.Lock()

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

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        """Extract and store in a worker thread, one item at a time: parsing a long document or
        waiting for the database must not stall the reactor (downloads would time out)."""
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet.threads import deferToThread

        spider = self._current_spider(spider)
        return await maybe_deferred_to_future(deferToThread(self._store_locked, item, spider))

    def _store_locked(self, item: Any, spider: Any) -> Any:
        with self._lock:
            try:
                return self.store_item(item, spider)
            except Exception as exc:  # a storage failure is recorded, never a silently lost page
                logger.exception("storing %s failed", getattr(item, "url", item))
                self.counts.setdefault(spider.name, Counter())["errors"] += 1
                with session_scope(self.sessions) as session:
                    self._record(session, spider.run_id, spider.source_id, getattr(item, "url", "?"),
                                 None, f"storage error: {type(exc).__name__}: {exc}"[:500])
                return item

    def store_item(self, item: Any, spider: Any) -> Any:
        """Count and store one item (synchronous)."""
        counts = self.counts.setdefault(spider.name, Counter())
        source_id = spider.source_id
        run_id = spider.run_id
        if isinstance(item, ListingPage):
            counts["pages_fetched"] += 1
        elif isinstance(item, DetailPage):
            counts["pages_fetched"] += 1
            self._store_detail(item, source_id, run_id, counts)
        elif isinstance(item, NotModified):
            counts["pages_fetched"] += 1
            counts["not_modified"] += 1
            self._store_not_modified(item, source_id, run_id, counts)
        elif isinstance(item, FetchFailure):
            counts["errors"] += 1
            with session_scope(self.sessions) as session:
                self._record(session, run_id, source_id, item.url, item.status, item.reason,
                             item.attempts)
                if item.detail and item.status in (404, 410):
                    mark_missing(session, source_id, canonical_key(item.url))
        self._report(spider.name, counts)
        return item

    @staticmethod
    def _record(session: Any, run_id: int | None, source_id: int, url: str, status: int | None,
                reason: str, attempts: int = 1) -> None:
        error = record_fetch_error(session, run_id=run_id, source_id=source_id, url=url,
                                   status=status, reason=reason)
        if attempts > 1:
            error.attempts = max(error.attempts, attempts)

    def _store_detail(self, item: DetailPage, source_id: int, run_id: int | None,
                      counts: Counter[str]) -> None:
        entries, files = resolve_attachments(item.attachments, item.previous_attachments)
        fetched_hash = raw_hash(item.body)
        key = canonical_key(item.url)
        with session_scope(self.sessions) as session:
            doc = find_by_key(session, source_id, key)
            if (doc is not None and doc.raw_hash == fetched_hash and doc.version_count > 0
                    and not attachments_changed(entries, item.previous_attachments)):
                # the very bytes already stored: nothing to parse, nothing to write
                touch(session, source_id, key, item.url, etag=item.etag,
                      last_modified=item.last_modified, fetched_raw_hash=fetched_hash)
                self._record_attachment_problems(session, item.attachments, source_id, run_id, counts)
                counts["documents_seen"] += 1
                counts["unchanged"] += 1
                counts["raw_unchanged"] += 1
                return
        snapshot = self._snapshot(item.url, item.body, item.content_type, item.status, source_id,
                                  run_id, counts, etag=item.etag, last_modified=item.last_modified,
                                  page=item.page, attachments=entries)
        if snapshot is None:
            return
        self._store(snapshot, files, item.attachments, source_id, run_id, counts)

    def _store_not_modified(self, item: NotModified, source_id: int, run_id: int | None,
                            counts: Counter[str]) -> None:
        entries, files = resolve_attachments(item.attachments, item.previous_attachments)
        key = canonical_key(item.url)
        with session_scope(self.sessions) as session:
            stored = None
            if attachments_changed(entries, item.previous_attachments):
                stored = latest_page(session, source_id, key)
            if stored is None:
                touch(session, source_id, key, item.url)
                self._record_attachment_problems(session, item.attachments, source_id, run_id, counts)
                counts["documents_seen"] += 1
                counts["unchanged"] += 1
                return
        # the page holds but an attachment changed: rebuild the stored page with it
        snapshot = self._snapshot(item.url, stored.raw, stored.content_type, 200, source_id, run_id,
                                  counts, etag=stored.etag, last_modified=stored.last_modified,
                                  attachments=entries)
        if snapshot is not None:
            self._store(snapshot, files, item.attachments, source_id, run_id, counts)

    def _snapshot(self, url: str, body: bytes, content_type: str | None, status: int,
                  source_id: int, run_id: int | None, counts: Counter[str], **kwargs: Any) -> Any:
        try:
            return build_snapshot(url, body, content_type, status=status, **kwargs)
        except ExtractionError as exc:
            reason = f"unreadable page: {exc}"
        except Exception as exc:  # a parser bug must not lose the rest of the crawl
            logger.exception("extraction failed for %s", url)
            reason = f"extraction error: {type(exc).__name__}: {exc}"
        counts["errors"] += 1
        with session_scope(self.sessions) as session:
            self._record(session, run_id, source_id, url, status, reason)
        return None

    def _store(self, snapshot: Any, files: list[Any], fetched: list[FetchedAttachment],
               source_id: int, run_id: int | None, counts: Counter[str]) -> None:
        # one transaction per page: its attachment files, its version, its document row
        with session_scope(self.sessions) as session:
            for file in files:
                store_attachment_blob(session, content_hash=file.content_hash, raw=file.raw,
                                      mime=file.mime, text=file.text, text_status=file.text_status,
                                      text_error=file.text_error, url=file.url)
            outcome = store_snapshot(session, source_id, snapshot, run_id=run_id)
            self._record_attachment_problems(session, fetched, source_id, run_id, counts)
        counts["documents_seen"] += 1
        if outcome.status == "new":
            counts["documents_new"] += 1
            counts["versions_new"] += 1
        elif outcome.status == "changed":
            counts["versions_new"] += 1
        else:
            counts["unchanged"] += 1

    def _record_attachment_problems(self, session: Any, fetched: list[FetchedAttachment],
                                    source_id: int, run_id: int | None, counts: Counter[str]) -> None:
        for att in fetched:
            if att.status in ("failed", "too_large"):
                counts["errors"] += 1
                counts["attachment_errors"] += 1
                self._record(session, run_id, source_id, att.url, att.http_status,
                             f"attachment {att.status}: {att.reason or ''}".strip())

    def _report(self, name: str, counts: Counter[str], final: bool = False) -> None:
        if self.progress is None:
            return
        if final or counts["pages_fetched"] % 10 == 0:
            self.progress(name, {**counts, "final": int(final)})
