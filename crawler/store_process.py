"""Storage in a process of its own, so that writing never holds the crawl's interpreter lock.

Storing a page is CPU work in Python (SQLAlchemy, compression, JSON): in a thread of the crawl
process it took the interpreter lock from the reactor about half of the time, and the two
threads together used one core. A crawl of more than a few pages therefore hands its batches to
one storage process (one: SQLite takes one writer at a time, and one process keeps the order in
which a crawl stores its pages). A crawl starts it before loading Scrapy (crawler.prestart);
a --url recrawl (a page or two) stores in the crawl process; where none was started early, the
twenty-first item starts one.

The storage process starts in the background; until it says it is ready, batches are written in
the crawl process, so a crawl never waits for it. One never given a batch is killed at the end
rather than waited for (it may still be loading). If it dies (killed, out of memory), the batch
it held is written again, item by item, in the crawl process, and the next batches get a new
storage process: a killed process costs time, not pages.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from crawler import prestart
from crawler.children import ignore_sigint, sigint_ignored
from crawler.process_gc import settle_gc

if TYPE_CHECKING:
    from crawler.store_items import Stored, StoreJob

# The storage itself (SQLAlchemy and the store) is imported where it is used, not here: the crawl
# starts this process (crawler.prestart) before it loads them.

logger = logging.getLogger(__name__)

INLINE_ITEMS = 20  # items stored in the crawl process before the storage process starts
READY = "ready"


class StoreProcessDied(RuntimeError):
    """The storage process ended while it held a batch."""


def _serve(conn: Connection, database_url: str) -> None:
    """The storage process: batches in, one list of outcomes out per batch, until None."""
    # the crawl process ends this one by closing the pipe, once every batch it sent is stored
    ignore_sigint()
    from crawler.store_items import ItemStore

    try:
        store = ItemStore.open(database_url)
    except Exception:  # noqa: BLE001 - a URL the crawl process rejects too, with a one-line error
        return  # the crawl sees the pipe end and stores in its own process
    settle_gc()
    try:
        conn.send(READY)
        while True:
            try:
                jobs = conn.recv()
            except EOFError:  # the crawl process is gone
                return
            if jobs is None:
                return
            conn.send(store.write(jobs))
    finally:
        store.close()


class StoreProcess:
    """A spawned storage process and the pipe to it."""

    def __init__(self, database_url: str) -> None:
        # spawn, not fork: the crawl process runs the reactor's and the writers' threads, and a
        # fork would copy whatever lock one of them held at that instant
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, database_url),
                                       name="policywatch-storage", daemon=True)
        self.process.start()
        child.close()
        self._ready = False
        self.batches = 0  # batches given to it

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def ready(self) -> bool:
        """Whether the process has started and can take a batch now (never waits)."""
        if not self._ready:
            try:
                if self.conn.poll(0):
                    self._ready = self.conn.recv() == READY
            except (EOFError, OSError):
                return False
        return self._ready

    def write(self, jobs: list[StoreJob]) -> list[Stored]:
        self.batches += 1
        try:
            self.conn.send(jobs)
            results: list[Stored] = self.conn.recv()
        except (EOFError, OSError) as exc:
            raise StoreProcessDied(f"the storage process ended: {type(exc).__name__}") from exc
        return results

    def close(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.kill()
            return
        self.conn.close()

    def kill(self) -> None:
        """End a process that holds no work (never given a batch) without waiting for it."""
        self.process.kill()
        self.process.join()
        self.conn.close()


class SharedStore:
    """Where a crawl process's batches are written: in this process for the first items, then
    in the storage process once it is ready. Shared by every pipeline of the crawl (one per
    source), which take turns."""

    def __init__(self, database_url: str, *, use_process: bool, inline_items: int = INLINE_ITEMS) -> None:
        from crawler.store_items import ItemStore

        self.database_url = database_url
        self.use_process = use_process
        self.inline_items = inline_items
        self.local = ItemStore.open(database_url)
        self.items = 0  # items announced by note_item
        self.lock = threading.Lock()  # one batch at a time
        self._process_lock = threading.Lock()  # guards _process: never held while writing
        # one started with the crawl (crawler.prestart), when there is one
        self._process: StoreProcess | None = prestart.take_store(database_url) if use_process else None
        if self._process is not None:
            logger.info("storage: the storage process started with the crawl (pid %s)", self._process.pid)
        self.users = 0
        self.remote_batches = 0  # batches the storage process stored

    def note_item(self) -> None:
        """Count an item to come; past the first ``inline_items``, start the storage process.
        Called from the crawl's main thread, where a process can be started deaf to Ctrl-C."""
        self.items += 1
        if not self.use_process or self.items <= self.inline_items:
            return
        with self._process_lock:
            if self._process is None:
                with sigint_ignored():
                    self._process = StoreProcess(self.database_url)
                logger.info("storage: a storage process (pid %s)", self._process.pid)

    def write(self, jobs: list[StoreJob]) -> list[Stored]:
        with self.lock:
            with self._process_lock:
                process = self._process
            if process is None or not process.ready():
                if process is not None and not process.process.is_alive():
                    self._drop(process)  # died before it was ready: the next item starts another
                return self.local.write(jobs)
            try:
                results = process.write(jobs)
                self.remote_batches += 1
                return results
            except StoreProcessDied as exc:
                logger.warning("%s; its %d item(s) are written again here", exc, len(jobs))
                self._drop(process)
                # one at a time: whatever the dead process had committed is found stored
                return [self.local.write([job])[0] for job in jobs]

    def _drop(self, process: StoreProcess) -> None:
        with self._process_lock:
            if self._process is process:
                self._process = None
        process.close()

    @property
    def process(self) -> StoreProcess | None:
        return self._process

    def close(self) -> None:
        with self.lock:
            with self._process_lock:
                process, self._process = self._process, None
            if process is not None:
                # one never given a batch (a small crawl) may still be loading: nothing to wait for
                process.close() if process.batches else process.kill()
            self.local.close()


_shared: dict[str, SharedStore] = {}
_shared_lock = threading.Lock()


def open_shared(database_url: str, *, use_process: bool, inline_items: int = INLINE_ITEMS) -> SharedStore:
    """The crawl process's store for ``database_url``; ``close_shared`` once per call."""
    with _shared_lock:
        store = _shared.get(database_url)
        if store is None:
            store = _shared[database_url] = SharedStore(database_url, use_process=use_process,
                                                        inline_items=inline_items)
        store.users += 1
        return store


def close_shared(store: SharedStore) -> None:
    """The last user's close ends the storage process (after every batch sent was stored)."""
    with _shared_lock:
        store.users -= 1
        if store.users > 0:
            return
        if _shared.get(store.database_url) is store:
            del _shared[store.database_url]
    store.close()


def worker_setting(settings: Any) -> bool:
    """Whether the crawl may use other processes at all (``[crawl] workers = 0``: none)."""
    value = settings.get("POLICYWATCH_WORKERS") if settings is not None else None
    return value in (None, "auto") or int(value) > 0
