"""Storing a crawl's items, for real: batches on the migrated databases, in the crawl process
and in a spawned storage process, one bad item in a batch, and a storage process killed."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter

from sqlalchemy import func, select

from crawler.analysis import analyse
from crawler.items import DetailPage, FetchFailure, ListingPage
from crawler.pipelines import BatchWriter
from crawler.store_items import ItemStore, StoreJob
from crawler.store_process import SharedStore, StoreProcess
from replica.catalog import build_catalog
from replica.render import detail_page
from storage.db import session_scope
from storage.models import Document, FetchError, Version


def _pages(limit: int, offset: int = 0) -> list[DetailPage]:
    items = []
    for doc in build_catalog(0).documents[offset:offset + limit]:
        body, content_type = detail_page(doc, "http://127.0.0.1:1")
        url = f"http://127.0.0.1:1/{doc.site}/post_{doc.post_id}.html"
        item = DetailPage(url=url, body=body, status=200, content_type=content_type)
        item.analysis = analyse(url, body, content_type)
        items.append(item)
    return items


def _broken_page() -> DetailPage:
    """A page whose storing raises (a structure JSON cannot hold: a bug's shape)."""
    item = _pages(1, offset=30)[0]
    item.url = "http://127.0.0.1:1/bug.html"
    item.analysis.snapshot.structure = {"tasks": {"a set", "is not JSON"}}
    return item


def _jobs(items, run_ids) -> list[StoreJob]:
    return [StoreJob(item, *run_ids) for item in items]


def _stored(sessions) -> tuple[int, int, list[str]]:
    with session_scope(sessions) as s:
        return (s.scalar(select(func.count(Document.id))), s.scalar(select(func.count(Version.id))),
                sorted(e.reason for e in s.scalars(select(FetchError))))


def test_one_failing_item_in_a_batch_costs_only_itself(db_url, sessions, run_ids) -> None:
    """One transaction for the batch; when one item fails, the others are still stored (each
    written again alone) and the failure is recorded as a fetch error of the run."""
    pages = _pages(6)
    items = [*pages[:3], _broken_page(), *pages[3:],
             FetchFailure(url="http://127.0.0.1:1/gone.html", status=404, reason="HTTP 404")]
    store = ItemStore.open(db_url)
    try:
        results = store.write(_jobs(items, run_ids))
    finally:
        store.close()
    assert [r.error is not None for r in results] == [False] * 3 + [True] + [False] * 4
    assert results[3].error.startswith("storage error: TypeError:")
    counts = sum((r.counts for r in results), Counter())
    assert counts["documents_new"] == counts["pages_fetched"] == len(pages)
    assert counts["errors"] == 2  # the 404 and the storage failure
    docs, versions, reasons = _stored(sessions)
    assert docs == versions == len(pages)
    assert reasons[0] == "HTTP 404" and reasons[1].startswith("storage error: TypeError:")


def test_the_writer_thread_batches_what_waits(db_url, sessions, run_ids) -> None:
    """Items submitted while the writer is busy are written together, and each item's counts
    reach its run only after its transaction committed."""
    store = ItemStore.open(db_url)
    gate, entered = threading.Event(), threading.Event()
    batches: list[int] = []

    def write(jobs):
        entered.set()
        gate.wait(timeout=60)
        batches.append(len(jobs))
        return store.write(jobs)

    writer = BatchWriter(write)
    counts: Counter[str] = Counter()
    finished = threading.Semaphore(0)
    pages = _pages(8)
    try:
        writer.submit(StoreJob(pages[0], *run_ids), counts, finished.release)
        assert entered.wait(timeout=60)  # the writer holds the first item at the gate
        for item in pages[1:]:
            writer.submit(StoreJob(item, *run_ids), counts, finished.release)
        writer.submit(StoreJob(ListingPage(url="http://127.0.0.1:1/index.html", items=8, known=0),
                               *run_ids), counts, finished.release)
        assert counts["documents_new"] == 0
        gate.set()
        for _ in range(len(pages) + 1):
            assert finished.acquire(timeout=60)
        writer.close()
    finally:
        store.close()
    assert batches == [1, len(pages)]  # the first alone, then all that waited behind it
    assert counts["documents_new"] == len(pages) and counts["pages_fetched"] == len(pages) + 1
    assert _stored(sessions)[:2] == (len(pages), len(pages))


def _write(store: SharedStore, jobs: list[StoreJob]):
    """What the pipeline does: announce each item (which may start the process), then write."""
    for _ in jobs:
        store.note_item()
    return store.write(jobs)


def _ready(store: SharedStore, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if store.process is not None and store.process.ready():
            return int(store.process.pid)
        time.sleep(0.05)
    raise AssertionError("the storage process never became ready")


def test_the_storage_process_stores_what_the_crawl_process_would(db_url, sessions, run_ids) -> None:
    """Past the first items, batches go to a spawned storage process; until it is ready they
    are stored here, so nothing waits for it. What it stores is what this process stores."""
    pages = _pages(12)
    store = SharedStore(db_url, use_process=True, inline_items=2)
    try:
        assert _write(store, _jobs(pages[:2], run_ids))  # inline: no process yet
        assert store.process is None
        _write(store, _jobs(pages[2:3], run_ids))  # starts the process; stored here meanwhile
        pid = _ready(store)
        assert pid != os.getpid()
        results = _write(store, _jobs([*pages[3:], _broken_page()], run_ids))
        assert store.remote_batches == 1
    finally:
        store.close()
    assert store.process is None
    assert [r.error is not None for r in results] == [False] * (len(pages) - 3) + [True]
    assert sum(r.counts["documents_new"] for r in results) == len(pages) - 3
    docs, versions, reasons = _stored(sessions)
    assert docs == versions == len(pages)
    assert len(reasons) == 1 and reasons[0].startswith("storage error: TypeError:")


def test_a_killed_storage_process_costs_no_item(db_url, sessions, run_ids) -> None:
    """SIGKILL the storage process: the batch it was given is written here instead, item by
    item, and the next batches get a new storage process."""
    pages = _pages(15)
    store = SharedStore(db_url, use_process=True, inline_items=0)
    try:
        _write(store, _jobs(pages[:1], run_ids))
        first = _ready(store)
        _write(store, _jobs(pages[1:5], run_ids))
        assert store.remote_batches == 1
        os.kill(first, signal.SIGKILL)
        store.process.process.join(timeout=30)
        results = _write(store, _jobs(pages[5:10], run_ids))  # the dead process's batch
        assert store.process is None and store.remote_batches == 1
        assert all(r.error is None and r.counts["documents_new"] == 1 for r in results)
        _write(store, _jobs(pages[10:11], run_ids))  # starts a new process
        second = _ready(store)
        assert second != first
        _write(store, _jobs(pages[11:], run_ids))
        assert store.remote_batches == 2
    finally:
        store.close()
    docs, versions, reasons = _stored(sessions)
    assert docs == versions == len(pages) and reasons == []


def test_a_batch_asks_its_lookups_once_and_still_sees_what_it_stored(db_url, sessions, run_ids) -> None:
    """On PostgreSQL a batch asks for its documents at once (storage.documents.Lookahead); a
    document met twice in the batch is then seen as the batch stored it (the same page again is
    unchanged), and a text met twice is stored once (each page asks for its text itself)."""
    import copy

    pages = _pages(3)
    again = copy.deepcopy(pages[0])  # the same page, fetched twice in one batch
    same_text = copy.deepcopy(pages[2])
    # another page, same text: lines too short to be sketched, so that only its digest finds it
    short = "特此通知。\n附件:名单\n二〇二四年三月"
    pages[1].analysis.snapshot.text = same_text.analysis.snapshot.text = short
    store = ItemStore.open(db_url)
    try:
        results = store.write(_jobs([pages[0], pages[1], again, same_text], run_ids))
        assert store.transactions == 1  # one transaction: nothing failed and was written again
    finally:
        store.close()
    assert all(r.error is None for r in results)
    counts = sum((r.counts for r in results), Counter())
    assert (counts["documents_new"], counts["unchanged"]) == (3, 1)
    with session_scope(sessions) as s:
        texts = dict(s.execute(select(Document.url, Version.text_id).join(Version)).all())
        assert s.scalar(select(func.count(Version.id))) == 3
    assert texts[pages[1].url] == texts[same_text.url]


def test_a_storage_process_that_cannot_open_its_database_ends_quietly(capfd) -> None:
    """A crawl starts its storage process before it opens the database itself (crawler.prestart):
    with a URL that cannot be opened the process ends without a traceback, never ready, and the
    crawl process reports the error in one line of its own."""
    process = StoreProcess("nosuchdialect://u:p@127.0.0.1/x")
    process.process.join(timeout=120)
    assert process.process.exitcode == 0
    assert not process.ready()
    process.close()
    assert "Traceback" not in capfd.readouterr().err
