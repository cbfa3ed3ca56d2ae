"""Start a crawl's helper processes (storage, page analysis) while the crawl process loads.

A crawl process spends its first second or so on one core: importing SQLAlchemy, Scrapy,
Twisted and the parsers, opening the runs, building the crawlers, fetching the first list page.
Helpers started only when the first pages arrive then pay their own start (a Python, its
imports, the dictionaries: ~0.4 s of CPU each) while both cores are busy crawling. Started here
instead, on the core that is idle meanwhile, they are ready by the time there is work for them.
The crawl takes them (``take_store``, ``take_worker``) where it would otherwise start its own;
``discard`` ends those it never took (a small crawl, a database that cannot be opened), without
waiting for them to finish loading.

``monitor.crawl`` calls ``start`` once the config is checked and before anything heavy is
imported: the CLI and the crawl's orchestration load no SQLAlchemy, storage or Scrapy at module
level (tests/test_prestart.py checks it), so helpers start ~0.07 s after the command does.
This module stays light too.
"""

from __future__ import annotations

import logging
import subprocess
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crawler.store_process import StoreProcess

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_stores: dict[str, StoreProcess] = {}
_workers: list[subprocess.Popen[bytes]] = []


def start(database_url: str | None, workers: int) -> None:
    """Start a storage process for ``database_url`` (None: none) and ``workers`` page-analysis
    workers.

    Never fails: a helper that cannot start here is started later by the crawl, as before."""
    from crawler import analysis_worker
    from crawler.children import sigint_ignored
    from crawler.store_process import StoreProcess

    with _lock:
        if database_url is not None and database_url not in _stores:
            try:
                with sigint_ignored():
                    _stores[database_url] = StoreProcess(database_url)
            except OSError as exc:
                logger.warning("storage: could not start the storage process early: %s", exc)
        for _ in range(max(workers - len(_workers), 0)):
            try:
                _workers.append(analysis_worker.spawn())
            except OSError as exc:
                logger.warning("page analysis: could not start a worker early: %s", exc)
                break
        logger.info("started with the crawl: storage process %s, page-analysis workers %s",
                    [store.pid for store in _stores.values()], [p.pid for p in _workers])


def take_store(database_url: str) -> StoreProcess | None:
    """The storage process started for ``database_url``, handed over once."""
    with _lock:
        return _stores.pop(database_url, None)


def take_worker() -> subprocess.Popen[bytes] | None:
    """A page-analysis worker started early and still alive, handed over once."""
    with _lock:
        while _workers:
            process = _workers.pop(0)
            if process.poll() is None:
                return process
            process.wait()
        return None


def workers_waiting() -> int:
    """How many page-analysis workers started early are waiting to be taken."""
    with _lock:
        return sum(1 for process in _workers if process.poll() is None)


def discard() -> None:
    """End the helpers the crawl never took. They hold no work, so they are killed, not waited
    for: one may still be importing."""
    with _lock:
        stores, workers = list(_stores.values()), list(_workers)
        _stores.clear()
        _workers.clear()
    for store in stores:
        store.kill()
    for process in workers:
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()
        process.kill()
        process.wait()
