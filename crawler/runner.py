"""Run spiders for configured sources in this process (one Twisted reactor per process).

The scheduler and the demo call this through a child process (`policywatch crawl`), because
Twisted's reactor cannot be restarted inside one process.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from crawler import analysis, prestart
from crawler.analysis import close_shared
from crawler.jobs import CRAWL_OPTIONS, SOURCES_AT_ONCE, CrawlJob
from crawler.pipelines import ProgressFn
from crawler.process_gc import settle_gc
from crawler.sources import Source
from crawler.spiders.base import PolicySpider
from crawler.spiders.gkmlpt_api import GkmlptApiSpider
from crawler.spiders.html_pages import HtmlPagesSpider
from crawler.spiders.single_url import SingleUrlSpider

logger = logging.getLogger(__name__)

SPIDERS: dict[str, type[PolicySpider]] = {
    "html_pages": HtmlPagesSpider,
    "gkmlpt_api": GkmlptApiSpider,
}

def base_settings(database_url: str, progress: ProgressFn | None) -> dict[str, Any]:
    return {
        "BOT_NAME": "policywatch",
        "LOG_ENABLED": True,
        "LOG_LEVEL": os.environ.get("POLICYWATCH_SCRAPY_LOG_LEVEL", "ERROR"),  # DEBUG to trace a crawl
        "LOG_INSTALL_ROOT_HANDLER": False,  # the CLI owns logging
        "TELNETCONSOLE_ENABLED": False,
        # extensions a crawl never uses are left out of the base list, so they are not even
        # imported (remote control alone imports aiohttp: a sixth of a second of every crawl's
        # start); disabling them in EXTENSIONS would still import them, because Scrapy loads
        # every key of that setting to compare it with the base list
        "EXTENSIONS_BASE": _base_without("EXTENSIONS_BASE", _UNUSED_EXTENSIONS),
        # likewise the downloader middlewares a crawl never uses (no cookies, no HTTP cache): the
        # cookie middleware alone loads tldextract and requests, ~30 ms of every crawl's start
        "DOWNLOADER_MIDDLEWARES_BASE": _base_without("DOWNLOADER_MIDDLEWARES_BASE",
                                                     _UNUSED_DOWNLOADER_MIDDLEWARES),
        "COOKIES_ENABLED": False,
        # the same stats, without Scrapy's shim on every access to them (crawler.stats)
        "STATS_CLASS": "crawler.stats.PlainStats",
        "ROBOTSTXT_OBEY": True,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": 0.5,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "CONCURRENT_REQUESTS": 16,
        # Scrapy starts this many asyncio tasks for every callback's output, whatever its size;
        # the default 100 cost more than the requests themselves (13 % of a crawl's CPU).
        # One suffices: a callback's items are then handled one after the other, and ours
        # yield one item (after a list page's requests, which are queued at once anyway).
        "CONCURRENT_ITEMS": 1,
        # Scrapy would check every generator callback for a `return value` by reading its source
        # and parsing it, on every call (its cache holds the bound method only weakly, so it
        # forgets at once): a lint for spider authors, a cost on every list page
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "DOWNLOAD_DELAY": 0.5,
        "DOWNLOAD_TIMEOUT": 30,
        "DOWNLOAD_MAXSIZE": 20 * 1024 * 1024,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 2,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "RETRY_BACKOFF_BASE": 1.0,
        "RETRY_BACKOFF_MAX": 60.0,
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.middlewares.BackoffRetryMiddleware": 550,
            "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
            "crawler.middlewares.ByteScanMetaRefreshMiddleware": 580,
        },
        "POLICYWATCH_ATTACHMENT_MAXSIZE": 20 * 1024 * 1024,
        "POLICYWATCH_FETCH_ATTACHMENTS": True,
        "REDIRECT_MAX_TIMES": 5,
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
        "ITEM_PIPELINES": {"crawler.pipelines.StoragePipeline": 300},
        "POLICYWATCH_DATABASE_URL": database_url,
        "POLICYWATCH_PROGRESS": progress,
    }


# Components a crawl never uses, left out of Scrapy's base lists (see base_settings): remote
# control, telnet console, memory debugger, feed export, spider state (a crawl's state lives in
# the database); cookies (COOKIES_ENABLED is always off), HTTP cache.
_UNUSED_EXTENSIONS = ("RemoteControl", "TelnetConsole", "MemoryDebugger", "FeedExporter", "SpiderState")
_UNUSED_DOWNLOADER_MIDDLEWARES = ("CookiesMiddleware", "HttpCacheMiddleware")


def _base_without(setting: str, unused: tuple[str, ...]) -> dict[str, int]:
    """Scrapy's default ``setting`` (a component list) without the ``unused`` classes."""
    from scrapy.settings import default_settings

    return {path: order for path, order in getattr(default_settings, setting).items()
            if path.rsplit(".", 1)[-1] not in unused}


def source_settings(source: Source) -> dict[str, Any]:
    return {
        "USER_AGENT": source.user_agent,
        "DOWNLOAD_DELAY": source.download_delay,
        "CONCURRENT_REQUESTS_PER_DOMAIN": source.concurrency_per_domain,
        "ROBOTSTXT_OBEY": source.obey_robots,
    }


def spider_class(job: CrawlJob, global_overrides: dict[str, Any] | None = None) -> type[PolicySpider]:
    """One spider subclass per job, so that each source crawls with its own politeness settings
    (Scrapy applies ``custom_settings`` to that spider's crawler only)."""
    spider_cls = SingleUrlSpider if job.urls else SPIDERS[job.source.kind]
    custom = {**source_settings(job.source), **(global_overrides or {})}
    return type(f"{spider_cls.__name__}_{job.run_id}", (spider_cls,),
                {"custom_settings": custom, "name": job.source.name})


def run_jobs(database_url: str, jobs: list[CrawlJob], *, overrides: dict[str, Any] | None = None,
             progress: ProgressFn | None = None) -> list[int]:
    """Crawl every job in one reactor run; results land in the database (runs, versions, errors).

    At most ``[crawl] sources_at_once`` jobs crawl at the same time; each that ends starts the
    next. Returns the run ids of the jobs that never started because the crawl was stopped
    (Ctrl-C, SIGTERM) first."""
    with interrupt_held() as interrupted:
        process, launcher = _build_process(database_url, jobs, overrides, progress)
        launcher.start()  # builds the first crawlers
    settle_gc()
    try:
        if interrupted():
            raise KeyboardInterrupt  # Ctrl-C while the crawlers were built: no crawl starts
        process.start()
    finally:
        close_shared()  # the page-analysis workers end with the crawl
        launcher.close()
    return launcher.unstarted()


class Launcher:
    """Starts the crawls of a run, at most ``at_once`` at a time: each that ends starts the next,
    until one ends because the whole crawl was stopped (Scrapy's reason "shutdown")."""

    def __init__(self, process: Any, at_once: int, hold: Callable[[], Callable[[], None]] | None = None) -> None:
        self.process = process
        self.at_once = max(1, int(at_once))
        self.pending: deque[tuple[type[PolicySpider], dict[str, Any], int]] = deque()
        self.stopped = False
        self._hold = hold
        self._release: Callable[[], None] | None = None

    def add(self, spider_cls: type[PolicySpider], kwargs: dict[str, Any], run_id: int) -> None:
        self.pending.append((spider_cls, kwargs, run_id))

    def start(self) -> None:
        if len(self.pending) > self.at_once and self._hold is not None:
            # the storage process outlives a gap between two sources instead of restarting
            self._release = self._hold()
        for _ in range(min(self.at_once, len(self.pending))):
            self._launch()

    def _launch(self) -> None:
        """Start the next waiting crawl; one that cannot start is logged, and the next tried."""
        from scrapy import signals

        while self.pending and not self.stopped:
            spider_cls, kwargs, _run_id = self.pending.popleft()
            try:
                crawler = self.process.create_crawler(spider_cls)
                crawler.signals.connect(self._closed, signal=signals.spider_closed)
                crawling = self.process.crawl(crawler, **kwargs)
            except Exception:  # its run is left running: the caller records it as not finished
                logger.exception("%s: the crawl could not start", getattr(spider_cls, "name", spider_cls))
                continue
            crawling.addBoth(self._ended)
            return

    def _closed(self, spider: Any, reason: str | None) -> None:
        if reason == "shutdown":  # Ctrl-C or SIGTERM: Scrapy is stopping every crawl
            self.stopped = True

    def _ended(self, result: Any) -> Any:
        # runs before Scrapy's join() looks again at the crawls still active, so the reactor
        # stays up for the one started here
        self._launch()
        return result

    def unstarted(self) -> list[int]:
        return [run_id for _cls, _kwargs, run_id in self.pending]

    def close(self) -> None:
        if self._release is not None:
            self._release()
            self._release = None


def _hold_store(database_url: str, settings: dict[str, Any]) -> Callable[[], Callable[[], None]]:
    def hold() -> Callable[[], None]:
        from crawler import store_process

        store = store_process.open_shared(database_url, use_process=store_process.worker_setting(settings),
                                          inline_items=int(settings.get("POLICYWATCH_INLINE_PAGES",
                                                                       store_process.INLINE_ITEMS)))
        return lambda: store_process.close_shared(store)
    return hold


def _build_process(database_url: str, jobs: list[CrawlJob], overrides: dict[str, Any] | None,
                   progress: ProgressFn | None) -> tuple[Any, Launcher]:
    from scrapy.crawler import CrawlerProcess

    settings = base_settings(database_url, progress)
    process = CrawlerProcess(settings)
    _quiet_scrapy_loggers(settings["LOG_LEVEL"])
    global_overrides = {CRAWL_OPTIONS[k]: v for k, v in (overrides or {}).items()}
    at_once = global_overrides.pop("POLICYWATCH_SOURCES_AT_ONCE", SOURCES_AT_ONCE)
    launcher = Launcher(process, at_once, _hold_store(database_url, global_overrides))
    for job in jobs:
        overrides_for_job = dict(global_overrides)
        if job.redis_url:
            from scrapy_redis.connection import get_redis

            from crawler.distributed import distributed_settings, join_job, new_worker_id

            server = get_redis(url=job.redis_url)
            shared = distributed_settings(job.redis_url, job.source.name,
                                          join_job(server, job.source.name), new_worker_id())
            overrides_for_job.update(shared)
            # A worker takes from the shared queue only what it can fetch now, instead of
            # hoarding a long local backlog the other workers could have taken.
            per_domain = overrides_for_job.get("CONCURRENT_REQUESTS_PER_DOMAIN",
                                               job.source.concurrency_per_domain)
            overrides_for_job["CONCURRENT_REQUESTS"] = max(1, int(per_domain))
        cls = spider_class(job, overrides_for_job)
        kwargs: dict[str, Any] = {"source": job.source, "run_id": job.run_id,
                                  "source_id": job.source_id}
        if job.redis_url:
            kwargs["distributed"] = True
        if job.urls:
            kwargs["urls"] = job.urls
        launcher.add(cls, kwargs, job.run_id)
    warm_up()
    return process, launcher


@contextmanager
def interrupt_held() -> Iterator[Callable[[], bool]]:
    """Hold a Ctrl-C that comes while the crawlers are built: Scrapy would take it inside a
    Deferred and print a traceback, and leave a crawler half made. The caller asks whether one
    came once the block is done (Scrapy's own handlers take over when the reactor starts)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    came: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: came.append(signum))
    try:
        yield lambda: bool(came)
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)


def _quiet_scrapy_loggers(scrapy_level: str | int) -> None:
    """Raise Scrapy's loggers (set to DEBUG by Scrapy) to the lowest level anything would record.

    Every response and item would otherwise build a DEBUG log record that every handler then
    drops. The lowest level of LOG_LEVEL (Scrapy's log counter) and of the root handlers (the
    CLI's, with ``-v``) is still logged, exactly as before.
    """
    counted = logging.getLevelName(scrapy_level.upper()) if isinstance(scrapy_level, str) else scrapy_level
    if not isinstance(counted, int):
        return  # a level Scrapy will complain about itself
    level = min([counted, *(handler.level for handler in logging.getLogger().handlers)])
    if level > logging.DEBUG:
        logging.getLogger("scrapy").setLevel(level)


def warm_up() -> None:
    """Load the text tools and Scrapy's HTTP download handler before the reactor runs: loading
    them on the first page would stall every download. Not the attachment readers: they are
    loaded where an attachment is first read (the storage side), which most crawls never do
    (loading them here cost 0.11 s of every crawl's start). Not the text tools either when a
    page-analysis worker was started with the crawl: it reads the pages (they load if it dies)."""
    if not prestart.workers_waiting():
        analysis.warm_up()
    _import_from_a_short_stack("scrapy.core.downloader.handlers.http11")


def _import_from_a_short_stack(module: str) -> None:
    """Import ``module`` in a thread of its own. Scrapy's download handler module makes its
    deprecated aliases with ``inspect.stack()``, which reads the source of every frame of the
    stack that imports it: imported by the engine it took 0.08-0.1 s of every crawl's start,
    most of it reading the sixty-odd frames above; a new thread's stack is a few frames deep."""
    import importlib
    import threading

    failed: list[BaseException] = []

    def load() -> None:
        try:
            importlib.import_module(module)
        except Exception as exc:  # the engine imports it again, and reports the error then
            failed.append(exc)

    thread = threading.Thread(target=load, name="policywatch-import", daemon=True)
    thread.start()
    thread.join()
    if failed:
        logger.debug("importing %s ahead failed: %s", module, failed[0])
