"""The storage pipeline: hand each analysed page to storage, many pages per transaction.

Every outcome is counted for the crawl run; every failure is recorded with its reason, and a
broken page never stops the crawl.

Pages arrive already read (``crawler.analysis``, in worker processes). One writer thread per
pipeline stores them: it takes whatever items are waiting and writes them in one transaction, so
a busy crawl commits tens of pages at once and an idle one commits each page as it comes, with no
added wait. If a batch fails, each of its items is written again in a transaction of its own,
so one bad page costs only itself.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crawler.analysis import Analysis, analyse
from crawler.extract.keys import canonical_key
from crawler.extract.page import ExtractionError
from crawler.items import DetailPage, FetchedAttachment, FetchFailure, ListingPage, NotModified
from crawler.snapshot import attachments_changed, build_snapshot, content_hash, resolve_attachments
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
Job = Callable[[Session, Counter[str]], None]

MAX_BATCH = 100  # items per transaction at most: a long transaction holds SQLite's write lock


@dataclass
class _Pending:
    job: Job
    counts: Counter[str]  # the run's counts, merged into only after the commit
    done: Callable[[BaseException | None], None]


class BatchWriter:
    """A thread that runs storage jobs, as many per transaction as are waiting."""

    def __init__(self, sessions: sessionmaker[Session], lock: threading.Lock,
                 on_failure: Callable[[_Pending, BaseException], None]) -> None:
        self.sessions = sessions
        self.lock = lock
        self.on_failure = on_failure
        self.queue: queue.Queue[_Pending | None] = queue.Queue()
        self.batches = 0
        self.thread = threading.Thread(target=self._run, name="policywatch-storage", daemon=True)
        self.thread.start()

    def submit(self, job: Job, counts: Counter[str], done: Callable[[BaseException | None], None]) -> None:
        self.queue.put(_Pending(job, counts, done))

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()

    def _run(self) -> None:
        while True:
            first = self.queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    more = self.queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._write(batch)
            if stop:
                return

    def _write(self, batch: list[_Pending]) -> None:
        local: list[Counter[str]] = [Counter() for _ in batch]
        error: BaseException | None = None
        with self.lock:
            try:
                with session_scope(self.sessions) as session:
                    for pending, counts in zip(batch, local, strict=True):
                        pending.job(session, counts)
                        # every flush walks every object the session holds: without this a
                        # batch of n pages would cost n² (the rows are written, only forgotten)
                        session.flush()
                        session.expunge_all()
            except Exception as exc:
                error = exc
        if error is None:
            self.batches += 1
            for pending, counts in zip(batch, local, strict=True):
                pending.counts.update(counts)
                pending.done(None)
        elif len(batch) > 1:
            for pending in batch:  # find the bad one: each item in its own transaction
                self._write([pending])
        else:
            try:
                with self.lock:
                    self.on_failure(batch[0], error)
            except Exception:  # the database itself is gone: the log is all that is left
                logger.exception("recording a storage failure failed")
            batch[0].done(None)


class StoragePipeline:
    # one writer at a time per process, across the sources crawled together: SQLite has one
    # anyway, and two sources never race to insert the same attachment file
    _lock = threading.Lock()

    def __init__(self, database_url: str, progress: ProgressFn | None, crawler: Any = None) -> None:
        self.crawler = crawler
        self.engine = make_engine(database_url)
        self.sessions = session_factory(self.engine)
        self.progress = progress
        self.counts: dict[str, Counter[str]] = {}
        self._writer: BatchWriter | None = None

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
        if self._writer is not None:
            self._writer.close()
            logger.info("%s: stored in %d transactions", spider.name, self._writer.batches)
            self._writer = None
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
        """Queue the item for the writer thread and wait until its transaction committed (so a
        crawl's end means everything is stored), without blocking the reactor."""
        import asyncio

        spider = self._current_spider(spider)
        if isinstance(item, DetailPage) and item.analysis is None and not item.raw_unchanged:
            # an item built without the spider's analysis (another spider, a test): read it here
            item.analysis = await asyncio.get_running_loop().run_in_executor(
                None, analyse, item.url, item.body, item.content_type)
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[None] = loop.create_future()

        def done(_error: BaseException | None) -> None:
            loop.call_soon_threadsafe(lambda: finished.done() or finished.set_result(None))

        if self._writer is None:
            self._writer = BatchWriter(self.sessions, self._lock, self._storage_failed)
        counts = self.counts.setdefault(spider.name, Counter())
        self._writer.submit(self._job(item, spider), counts, done)
        await finished
        self._report(spider.name, counts)
        return item

    def store_item(self, item: Any, spider: Any) -> Any:
        """Count and store one item now, in one transaction (synchronous; for callers outside a
        crawl)."""
        if isinstance(item, DetailPage) and item.analysis is None and not item.raw_unchanged:
            item.analysis = analyse(item.url, item.body, item.content_type)
        counts = self.counts.setdefault(spider.name, Counter())
        local: Counter[str] = Counter()
        job = self._job(item, spider)
        with self._lock:
            try:
                with session_scope(self.sessions) as session:
                    job(session, local)
            except Exception as exc:
                self._storage_failed(_Pending(job, counts, lambda _e: None), exc)
                local = Counter()
        counts.update(local)
        self._report(spider.name, counts)
        return item

    def _storage_failed(self, pending: _Pending, exc: BaseException) -> None:
        """A storage failure is recorded, never a silently lost page (called with the lock)."""
        item, spider = pending.job.item, pending.job.spider  # type: ignore[attr-defined]
        logger.error("storing %s failed: %s: %s", getattr(item, "url", item), type(exc).__name__, exc)
        pending.counts["errors"] += 1
        with session_scope(self.sessions) as session:
            self._record(session, spider.run_id, spider.source_id, getattr(item, "url", "?"),
                         None, f"storage error: {type(exc).__name__}: {exc}"[:500])

    def _job(self, item: Any, spider: Any) -> Job:
        source_id = spider.source_id
        run_id = spider.run_id

        def job(session: Session, counts: Counter[str]) -> None:
            if isinstance(item, ListingPage):
                counts["pages_fetched"] += 1
            elif isinstance(item, DetailPage):
                counts["pages_fetched"] += 1
                self._store_detail(session, item, source_id, run_id, counts)
            elif isinstance(item, NotModified):
                counts["pages_fetched"] += 1
                counts["not_modified"] += 1
                self._store_not_modified(session, item, source_id, run_id, counts)
            elif isinstance(item, FetchFailure):
                counts["errors"] += 1
                self._record(session, run_id, source_id, item.url, item.status, item.reason,
                             item.attempts)
                if item.detail and item.status in (404, 410):
                    mark_missing(session, source_id, canonical_key(item.url))

        job.item = item  # type: ignore[attr-defined]
        job.spider = spider  # type: ignore[attr-defined]
        return job

    @staticmethod
    def _record(session: Any, run_id: int | None, source_id: int, url: str, status: int | None,
                reason: str, attempts: int = 1) -> None:
        error = record_fetch_error(session, run_id=run_id, source_id=source_id, url=url,
                                   status=status, reason=reason)
        if attempts > 1:
            error.attempts = max(error.attempts, attempts)

    def _store_detail(self, session: Session, item: DetailPage, source_id: int, run_id: int | None,
                      counts: Counter[str]) -> None:
        entries, files = resolve_attachments(item.attachments, item.previous_attachments)
        fetched_hash = raw_hash(item.body)
        key = canonical_key(item.url)
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
        analysis: Analysis | None = item.analysis
        if analysis is None:  # the spider skipped equal bytes, but the stored page changed since
            analysis = analyse(item.url, item.body, item.content_type)
        if analysis.snapshot is None:
            counts["errors"] += 1
            self._record(session, run_id, source_id, item.url, item.status,
                         analysis.error or "unreadable page")
            return
        snapshot = analysis.snapshot
        snapshot.raw = item.body
        snapshot.status = item.status
        snapshot.etag = item.etag
        snapshot.last_modified = item.last_modified
        snapshot.attachments = entries
        snapshot.content_hash = content_hash(snapshot.title, snapshot.normalized_text,
                                             snapshot.structure, entries)
        self._store(session, snapshot, files, item.attachments, source_id, run_id, counts)

    def _store_not_modified(self, session: Session, item: NotModified, source_id: int,
                            run_id: int | None, counts: Counter[str]) -> None:
        entries, files = resolve_attachments(item.attachments, item.previous_attachments)
        key = canonical_key(item.url)
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
        try:
            snapshot = build_snapshot(item.url, stored.raw, stored.content_type, status=200,
                                      etag=stored.etag, last_modified=stored.last_modified,
                                      attachments=entries)
        except ExtractionError as exc:
            counts["errors"] += 1
            self._record(session, run_id, source_id, item.url, 200, f"unreadable page: {exc}")
            return
        self._store(session, snapshot, files, item.attachments, source_id, run_id, counts)

    def _store(self, session: Session, snapshot: Any, files: list[Any],
               fetched: list[FetchedAttachment], source_id: int, run_id: int | None,
               counts: Counter[str]) -> None:
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
