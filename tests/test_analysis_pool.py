"""Page analysis in worker processes, and the pipeline's batched writer, for real: spawned worker
processes reading the replica's pages, a worker killed mid-crawl, and batches written to the
migrated databases."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from crawler.analysis import Analyser, analyse
from crawler.items import DetailPage, FetchFailure
from crawler.pipelines import BatchWriter, StoragePipeline
from replica.catalog import build_catalog
from replica.render import detail_page
from storage.db import session_scope
from storage.documents import ensure_source
from storage.models import Document, FetchError, Version
from storage.runs import start_run
from tests.conftest import FAST_CRAWL, run_policywatch


def _replica_pages(limit: int = 12) -> list[tuple[str, bytes, str]]:
    pages = []
    for doc in build_catalog(0).documents[:limit]:
        body, content_type = detail_page(doc, "http://127.0.0.1:1")
        pages.append((f"http://127.0.0.1:1/{doc.site}/post_{doc.post_id}.html", body, content_type))
    return pages


def _fields(analysis) -> tuple:
    snap = analysis.snapshot
    if snap is None:
        return (analysis.error,)
    return (snap.title, snap.text, snap.normalized_text, json.dumps(snap.structure, sort_keys=True),
            snap.content_hash, [link.url for link in analysis.links])


def test_worker_processes_read_pages_exactly_as_this_process_does() -> None:
    pages = _replica_pages()
    pages.append(("http://127.0.0.1:1/broken.html", b"<html><body></body></html>", "text/html"))
    analyser = Analyser(workers=1, inline_pages=0)

    async def run_all() -> list:
        return [await analyser.run(url, body, ctype) for url, body, ctype in pages]

    try:
        in_workers = asyncio.run(run_all())
    finally:
        analyser.close()
    here = [analyse(url, body, ctype) for url, body, ctype in pages]
    assert [_fields(a) for a in in_workers] == [_fields(a) for a in here]
    assert in_workers[-1].snapshot is None and "unreadable page" in in_workers[-1].error
    assert all(a.snapshot.raw == b"" for a in in_workers[:-1])  # the bytes are not sent back


def test_a_killed_worker_costs_one_page_and_the_next_page_gets_a_fresh_worker() -> None:
    (url, body, ctype), *_ = _replica_pages(1)
    analyser = Analyser(workers=1, inline_pages=0)

    async def scenario() -> tuple:
        first = await analyser.run(url, body, ctype)
        pool = analyser._pool
        assert pool is not None
        for pid in list(pool._processes):  # the worker dies, as under the OOM killer
            os.kill(pid, signal.SIGKILL)
        second = await analyser.run(url, body, ctype)
        third = await analyser.run(url, body, ctype)
        return first, second, third

    try:
        first, second, third = asyncio.run(scenario())
    finally:
        analyser.close()
    assert first.snapshot is not None
    assert third.snapshot is not None and third.snapshot.content_hash == first.snapshot.content_hash
    # the page in flight when the worker died is either recorded as such or read by the new pool
    assert second.snapshot is not None or second.error == "extraction error: the page analysis worker died"


def test_small_crawls_never_start_a_worker() -> None:
    (url, body, ctype), *_ = _replica_pages(1)
    analyser = Analyser(workers=1, inline_pages=5)

    async def five() -> None:
        for _ in range(5):
            assert (await analyser.run(url, body, ctype)).snapshot is not None

    asyncio.run(five())
    assert analyser._pool is None
    analyser.close()


@pytest.fixture
def pipeline_setup(db_url, sessions):
    with session_scope(sessions) as s:
        source = ensure_source(s, "by-hand", "html_pages", {})
        run = start_run(s, source.id)
        ids = source.id, run.id
    pipeline = StoragePipeline(db_url, None)
    spider = SimpleNamespace(name="by-hand", source_id=ids[0], run_id=ids[1])
    pipeline.open_spider(spider)
    yield pipeline, spider
    pipeline.engine.dispose()


def test_one_failing_item_in_a_batch_costs_only_itself(pipeline_setup, sessions) -> None:
    """The writer takes every waiting item into one transaction; when one of them fails, the
    others are still stored (each written again alone) and the failure is recorded."""
    pipeline, spider = pipeline_setup
    pages = _replica_pages(6)
    failures: list[str] = []
    lock = threading.Lock()

    def on_failure(pending, exc) -> None:
        failures.append(f"{type(exc).__name__}: {exc}")
        pipeline._storage_failed(pending, exc)

    writer = BatchWriter(pipeline.sessions, lock, on_failure)
    counts: Counter[str] = Counter()
    finished = threading.Semaphore(0)

    def broken_job(session, local) -> None:
        local["pages_fetched"] += 1  # never counted: its transaction is rolled back
        raise ValueError("a storage bug")

    broken_job.item = SimpleNamespace(url="http://127.0.0.1:1/bug.html")
    broken_job.spider = spider
    with lock:  # hold the writer so that every job lands in one batch
        for i, (url, body, ctype) in enumerate(pages):
            item = DetailPage(url=url, body=body, status=200, content_type=ctype)
            item.analysis = analyse(url, body, ctype)
            writer.submit(pipeline._job(item, spider), counts, lambda _e: finished.release())
            if i == 2:
                writer.submit(broken_job, counts, lambda _e: finished.release())
        writer.submit(pipeline._job(FetchFailure(url="http://127.0.0.1:1/gone.html", status=404,
                                                 reason="HTTP 404"), spider),
                      counts, lambda _e: finished.release())
    for _ in range(len(pages) + 2):
        assert finished.acquire(timeout=60)
    writer.close()
    assert failures == ["ValueError: a storage bug"]
    assert counts["documents_new"] == len(pages) and counts["pages_fetched"] == len(pages)
    assert counts["errors"] == 2  # the 404 and the storage failure
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count(Document.id))) == len(pages)
        assert s.scalar(select(func.count(Version.id))) == len(pages)
        reasons = sorted(e.reason for e in s.scalars(select(FetchError)))
    assert reasons == ["HTTP 404", "storage error: ValueError: a storage bug"]


def test_crawl_without_workers_stores_the_same_as_with_them(tmp_path: Path, replica) -> None:
    """`[crawl] workers = 0` reads every page in the crawl process: same documents, same hashes."""
    from storage.db import make_engine, session_factory, upgrade

    hashes = {}
    for workers in (0, 1):
        url = f"sqlite:///{tmp_path / f'w{workers}.db'}"
        upgrade(url)
        config = tmp_path / f"w{workers}.toml"
        config.write_text(replica.config_toml(url) + FAST_CRAWL + f"workers = {workers}\n", encoding="utf-8")
        result = run_policywatch("crawl", "--config", str(config), "--format", "json")
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        engine = make_engine(url)
        with session_scope(session_factory(engine)) as s:
            hashes[workers] = sorted(s.execute(select(Document.canonical_key, Version.content_hash)
                                               .join(Version, Version.document_id == Document.id)).all())
        engine.dispose()
    assert len(hashes[0]) > 40
    assert hashes[0] == hashes[1]


@pytest.mark.parametrize("value", ["-1", '"many"', "true", "1.5"])
def test_bad_worker_count_is_a_one_line_error(tmp_path: Path, replica, value: str) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    from storage.db import upgrade

    upgrade(url)
    config = tmp_path / "bad.toml"
    config.write_text(replica.config_toml(url) + FAST_CRAWL + f"workers = {value}\n", encoding="utf-8")
    result = run_policywatch("crawl", "--config", str(config))
    assert result.returncode == 2, result.stderr
    assert "[crawl] workers must be" in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "Traceback" not in result.stderr and len(errors) == 1, result.stderr
