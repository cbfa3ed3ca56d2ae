"""Analyse fetched detail pages (extraction + understanding) off the reactor thread.

Reading a page is pure CPU work in Python: on the reactor thread it would stall every download,
and in a thread it still holds the interpreter lock the reactor and the storage writer need. So
a crawl of more than a few pages hands it to worker processes (``[crawl] workers``, default: one
per core but one), which use the machine's other cores. Small crawls (the demo, a --url
recrawl) stay in this process: starting a worker costs more than reading twenty pages.

``analyse`` is a plain function over bytes: what a worker runs, and what runs here when there is
no worker. It never raises: an unreadable page or a parser bug comes back as a reason to record.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
from typing import TYPE_CHECKING, Any

from crawler import prestart
from crawler.extract.attachments import Attachment
from crawler.extract.errors import ExtractionError
from crawler.jobs import analysis_workers
from crawler.snapshot import Snapshot, build_snapshot

if TYPE_CHECKING:
    from crawler.analysis_channel import WorkerChannel

logger = logging.getLogger(__name__)

# pages analysed in this process before the workers start: the demo's and the tests' crawls
# never pay for a worker's start (an interpreter importing the text tools, ~1 s of CPU). With a
# worker started with the crawl (crawler.prestart), none: it has loaded meanwhile.
INLINE_PAGES = 20
# Workers in a row that may die before reading a page (they cannot start here: a broken
# install, an interpreter that cannot import the crawler) before pages are read in this process.
MAX_FAILED_STARTS = 3


class Analysis:
    """A page's snapshot (without its raw bytes, which the caller holds) and attachment links,
    or why it could not be read.

    Pickled, the snapshot travels as one bytes object, packed once where it was made: the crawl
    process receives an Analysis from a worker and sends it on to the storage process without
    reading the snapshot, so it never unpacks the texts and the structure only to pack them
    again. Reading ``snapshot`` unpacks it.
    """

    __slots__ = ("links", "error", "_snapshot", "_packed")

    def __init__(self, snapshot: Snapshot | None = None, links: list[Attachment] | None = None,
                 error: str | None = None) -> None:
        self.links: list[Attachment] = links if links is not None else []
        self.error = error
        self._snapshot = snapshot
        self._packed: bytes | None = None

    @property
    def snapshot(self) -> Snapshot | None:
        if self._snapshot is None and self._packed is not None:
            self._snapshot = pickle.loads(self._packed)
            self._packed = None
        return self._snapshot

    @snapshot.setter
    def snapshot(self, value: Snapshot | None) -> None:
        self._snapshot, self._packed = value, None

    def __getstate__(self) -> tuple[list[Attachment], str | None, bytes | None]:
        packed = self._packed
        if packed is None and self._snapshot is not None:
            packed = pickle.dumps(self._snapshot, protocol=pickle.HIGHEST_PROTOCOL)
        return self.links, self.error, packed

    def __setstate__(self, state: tuple[list[Attachment], str | None, bytes | None]) -> None:
        self.links, self.error, self._packed = state
        self._snapshot = None


def analyse(url: str, body: bytes, content_type: str | None) -> Analysis:
    """Extract and understand one detail page; never raises."""
    try:
        snapshot = build_snapshot(url, body, content_type)
    except ExtractionError as exc:
        return Analysis(error=f"unreadable page: {exc}")
    except RecursionError:
        return Analysis(error="extraction error: the page is nested too deeply to read")
    except Exception as exc:  # a parser bug must not lose the rest of the crawl
        logger.exception("extraction failed for %s", url)
        return Analysis(error=f"extraction error: {type(exc).__name__}: {exc}"[:500])
    links = [Attachment(url=a["url"], name=a.get("name") or "", mime=a.get("mime"))
             for a in snapshot.attachments if a.get("url")]
    snapshot.raw = b""  # the caller has the bytes: not sent back between processes
    return Analysis(snapshot=snapshot, links=links)


def warm_up() -> None:
    """Load the text tools (dictionaries, parsers) once, up front: loading them on the first page
    would stall that page. Here, not in crawler.runner, so that a worker loads what reading pages
    needs and not Scrapy, Twisted and the storage (twice its start). Not the attachment readers:
    pages never need them, and they load where an attachment is first read."""
    page = ("<html><body><div class='article-content'><p>关于做好2024年工作的通知</p>"
            "<p>(一)加快建设。(省工业和信息化厅牵头)</p></div></body></html>").encode()
    try:
        build_snapshot("http://localhost/warm-up/post_1.html", page, "text/html; charset=utf-8")
    except Exception:  # warming up is an optimisation, never a failure
        logger.debug("warm-up failed", exc_info=True)


class Analyser:
    """Runs ``analyse`` inline for the first pages, then in ``workers`` processes
    (crawler.analysis_channel), each page to the worker holding the fewest."""

    def __init__(self, workers: int | None = None, *, inline_pages: int = INLINE_PAGES) -> None:
        self.workers = analysis_workers(workers)
        self.inline_pages = inline_pages
        self.analysed = 0
        self._channels: list[WorkerChannel] = []
        self._retired: list[WorkerChannel] = []
        self._seq = 0
        self._failed_starts = 0  # workers in a row that died before answering a page

    def _channel(self, loop: asyncio.AbstractEventLoop) -> WorkerChannel | None:
        """The worker holding the fewest pages; None when workers cannot run here (then pages
        are read in this process)."""
        from crawler.analysis_channel import WorkerChannel

        live = []
        for channel in self._channels:
            if channel.alive and channel.loop is loop:
                live.append(channel)
                continue
            # dead, or made for an event loop that is gone
            if not channel.alive:
                self._failed_starts = 0 if channel.answered else self._failed_starts + 1
            channel.close()
            self._retired.append(channel)
        if len(live) < self.workers and not self._channels and not self._retired:
            logger.info("page analysis: %d worker process(es)", self.workers)
        while len(live) < self.workers and self._failed_starts < MAX_FAILED_STARTS:
            try:
                live.append(WorkerChannel(loop))
            except OSError as exc:
                logger.warning("page analysis: a worker could not start: %s", exc)
                self._failed_starts += 1
        self._channels = live
        if self._failed_starts >= MAX_FAILED_STARTS and not live:
            # a worker that cannot start would fail every page: read them here instead
            logger.error("page analysis: %d workers in a row died before reading a page; the "
                         "pages are read in the crawl process from now on", self._failed_starts)
            self.workers = 0
            return None
        return min(live, key=lambda channel: len(channel.pending)) if live else None

    async def run(self, url: str, body: bytes, content_type: str | None) -> Analysis:
        """Analyse one page without blocking the event loop."""
        self.analysed += 1
        loop = asyncio.get_running_loop()
        if self.workers > 0 and self.analysed > self.inline_pages:
            channel = self._channel(loop)
            if channel is not None:
                self._seq += 1
                return await channel.submit(self._seq, url, body, content_type)
        return await loop.run_in_executor(None, analyse, url, body, content_type)

    def worker_pids(self) -> list[int]:
        return [channel.pid for channel in self._channels if channel.alive]

    def close(self) -> None:
        channels, self._channels = self._channels, []
        for channel in channels:
            channel.close()
        self._retired.clear()  # closed (and so waited for) when retired


_shared: Analyser | None = None


def shared_analyser(settings: Any) -> Analyser:
    """The process's analyser (one pool for every spider of the run)."""
    global _shared
    if _shared is None:
        workers = settings.get("POLICYWATCH_WORKERS") if settings is not None else None
        inline = settings.getint("POLICYWATCH_INLINE_PAGES", INLINE_PAGES) if settings is not None else INLINE_PAGES
        if prestart.workers_waiting():
            inline = 0  # a worker started with the crawl has loaded while Scrapy did
        _shared = Analyser(None if workers in (None, "auto") else int(workers), inline_pages=inline)
    return _shared


def close_shared() -> None:
    global _shared
    if _shared is not None:
        _shared.close()
        _shared = None
