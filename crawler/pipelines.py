"""The storage pipeline: hand each item of a crawl to storage, many items per transaction.

Every outcome is counted for the crawl run; every failure is recorded with its reason, and a
broken page never stops the crawl.

Detail pages arrive already read (``crawler.analysis``, in worker processes). One writer thread
per pipeline hands them to storage (``crawler.store_process``: in the crawl process for a few
items, then in a storage process of its own): it takes whatever items are waiting and writes
them in one transaction (``crawler.store_items``), so a busy crawl commits tens of pages at once
and an idle one commits each page as it comes, with no added wait.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crawler.store_items import ItemStore, Stored, StoreJob
from crawler.store_process import SharedStore, close_shared, open_shared, worker_setting
from storage.db import make_engine, session_factory, session_scope
from storage.runs import finish_run

logger = logging.getLogger(__name__)

ProgressFn = Callable[[str, dict[str, int]], None]
Write = Callable[[list[StoreJob]], list[Stored]]

MAX_BATCH = 100  # items per transaction at most: a long transaction holds SQLite's write lock


@dataclass
class _Pending:
    job: StoreJob
    counts: Counter[str]  # the run's counts, merged into only after the commit
    done: Callable[[], None]


class BatchWriter:
    """A thread that writes jobs, as many per call of ``write`` as are waiting."""

    def __init__(self, write: Write) -> None:
        self.write = write
        self.queue: queue.Queue[_Pending | None] = queue.Queue()
        self.batches = 0
        self.thread = threading.Thread(target=self._run, name="policywatch-storage", daemon=True)
        self.thread.start()

    def submit(self, job: StoreJob, counts: Counter[str], done: Callable[[], None]) -> None:
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
        try:
            results = self.write([pending.job for pending in batch])
        except Exception as exc:  # storage itself is broken: say so, and never hang the crawl
            logger.exception("storing %d item(s) failed", len(batch))
            results = [Stored(Counter(errors=1), f"storage error: {type(exc).__name__}: {exc}")
                       for _ in batch]
        self.batches += 1
        for pending, result in zip(batch, results, strict=True):
            if result.error:
                logger.error("storing %s failed: %s", pending.job.url, result.error)
            pending.counts.update(result.counts)
            pending.done()


class StoragePipeline:
    def __init__(self, database_url: str, progress: ProgressFn | None, crawler: Any = None) -> None:
        self.crawler = crawler
        self.database_url = database_url
        self.engine = make_engine(database_url)
        self.sessions = session_factory(self.engine)
        self.progress = progress
        self.counts: dict[str, Counter[str]] = {}
        self._reported: dict[str, int] = {}  # per spider: pages_fetched // 10 last reported
        self._writer: BatchWriter | None = None
        self._store: SharedStore | None = None
        settings = getattr(crawler, "settings", None)
        self._use_process = worker_setting(settings)
        self._inline = settings.getint("POLICYWATCH_INLINE_PAGES", 20) if settings is not None else 20

    @classmethod
    def from_crawler(cls, crawler: Any) -> StoragePipeline:
        from scrapy import signals

        pipeline = cls(crawler.settings.get("POLICYWATCH_DATABASE_URL"),
                       crawler.settings.get("POLICYWATCH_PROGRESS"), crawler)
        # Scrapy closes the pipelines before anything knows why the spider closed: the run is
        # finished when the reason is known
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def _current_spider(self, spider: Any) -> Any:
        # Newer Scrapy stops passing the spider to pipeline methods; the crawler knows it.
        return spider if spider is not None else self.crawler.spider

    def _shared_store(self) -> SharedStore:
        if self._store is None:
            self._store = open_shared(self.database_url, use_process=self._use_process,
                                      inline_items=self._inline)
        return self._store

    def open_spider(self, spider: Any = None) -> None:
        spider = self._current_spider(spider)
        self.counts[spider.name] = Counter()

    def close_spider(self, spider: Any = None) -> None:
        """Every item is stored once this returns."""
        spider = self._current_spider(spider)
        if self._writer is not None:
            self._writer.close()
            logger.info("%s: stored in %d transactions", spider.name, self._writer.batches)
            self._writer = None
        if self._store is not None:
            close_shared(self._store)
            self._store = None
        if self.crawler is None:  # used outside a crawl: no reason will come
            self.spider_closed(spider, "finished")

    def spider_closed(self, spider: Any, reason: str | None) -> None:
        """Finish the spider's run: its status, counts, and whether the listing was walked
        whole. ``reason`` is Scrapy's: "finished", or "shutdown" (Ctrl-C, SIGTERM) and the like."""
        counts = self.counts.get(spider.name, Counter())
        run_id = getattr(spider, "run_id", None)
        if run_id is not None:
            stopped = reason not in (None, "finished")
            if counts["documents_seen"] == 0 and counts["errors"] > 0:
                status = "failed"
            elif stopped:
                # not "ok": a stopped first crawl is no baseline, and the next run sweeps
                status = "interrupted"
            elif counts["errors"] > 0 or spider.listing_failed:
                status = "partial"
            else:
                status = "ok"
            with session_scope(self.sessions) as session:
                finish_run(session, run_id, status=status,
                           counts={**counts, "listing_complete": spider.listing_complete and not stopped},
                           message=f"stopped: {reason}" if stopped else None)
        self._report(spider.name, counts, final=True)
        self.engine.dispose()

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        """Queue the item for the writer thread and wait until its transaction committed (so a
        crawl's end means everything is stored), without blocking the reactor."""
        import asyncio

        spider = self._current_spider(spider)
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[None] = loop.create_future()

        def done() -> None:
            loop.call_soon_threadsafe(lambda: finished.done() or finished.set_result(None))

        store = self._shared_store()
        store.note_item()
        if self._writer is None:
            self._writer = BatchWriter(store.write)
        counts = self.counts.setdefault(spider.name, Counter())
        self._writer.submit(StoreJob(item, spider.source_id, spider.run_id), counts, done)
        await finished
        self._report(spider.name, counts)
        return item

    def store_item(self, item: Any, spider: Any) -> Any:
        """Count and store one item now, in one transaction, in this process (synchronous; for
        callers outside a crawl)."""
        counts = self.counts.setdefault(spider.name, Counter())
        (result,) = ItemStore(self.engine).write([StoreJob(item, spider.source_id, spider.run_id)])
        if result.error:
            logger.error("storing %s failed: %s", getattr(item, "url", item), result.error)
        counts.update(result.counts)
        self._report(spider.name, counts)
        return item

    def _report(self, name: str, counts: Counter[str], final: bool = False) -> None:
        if self.progress is None:
            return
        # a line per ten pages: a batch's items all see the batch's final counts, and must not
        # print the same line once each
        tens = counts["pages_fetched"] // 10
        if final or tens != self._reported.get(name):
            self._reported[name] = tens
            self.progress(name, {**counts, "final": int(final)})
