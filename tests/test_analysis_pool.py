"""Page analysis in worker processes, for real: spawned worker processes reading the replica's
pages, a worker killed mid-crawl, and crawls with and without workers."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.analysis import Analyser, analyse
from replica.catalog import build_catalog
from replica.render import detail_page
from storage.db import session_scope
from storage.models import Document, Version
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
        pids = analyser.worker_pids()
        assert len(pids) == 1
        for pid in pids:  # the worker dies, as under the OOM killer
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
    assert analyser.worker_pids() == []
    analyser.close()


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


def test_an_analysis_travels_packed_and_reads_back_the_same() -> None:
    """Between processes the snapshot is one bytes object: a process that only passes the
    Analysis on (the crawl process) never unpacks it, and the process that reads it gets the
    same snapshot."""
    import pickle

    url, body, ctype = _replica_pages(1)[0]
    original = analyse(url, body, ctype)
    from_worker = pickle.loads(pickle.dumps(original))
    assert from_worker._snapshot is None and isinstance(from_worker._packed, bytes)
    passed_on = pickle.loads(pickle.dumps(from_worker))  # the crawl process never read it
    assert passed_on._packed == from_worker._packed
    assert _fields(passed_on) == _fields(original)
    passed_on.snapshot.raw = body  # read once, it is a snapshot like any other
    assert pickle.loads(pickle.dumps(passed_on)).snapshot.raw == body
    failed = pickle.loads(pickle.dumps(analyse(url, b"<html></html>", ctype)))
    assert failed.snapshot is None and failed.error


def _one_page_times(analyser: Analyser, times: int) -> list:
    """One replica page analysed ``times`` times, one after the other; the analyser closed."""
    (url, body, ctype), *_ = _replica_pages(1)

    async def run() -> list:
        return [await analyser.run(url, body, ctype) for _ in range(times)]

    try:
        return asyncio.run(run())
    finally:
        analyser.close()


def _with_worker_command(monkeypatch, command: list[str]) -> None:
    from crawler import analysis_worker

    monkeypatch.setattr(analysis_worker, "COMMAND", tuple(command))


def test_workers_that_die_at_start_hand_the_pages_to_this_process(monkeypatch, caplog) -> None:
    """A worker that cannot start here (it exits before reading anything) fails the page it held;
    after three in a row, pages are read in the crawl process instead of each starting another."""
    _with_worker_command(monkeypatch, [sys.executable, "-c", "raise SystemExit(3)"])
    analyser = Analyser(workers=1, inline_pages=0)
    results = _one_page_times(analyser, 6)
    assert [r.error for r in results[:3]] == ["extraction error: the page analysis worker died"] * 3
    assert all(r.snapshot is not None for r in results[3:])
    assert analyser.workers == 0
    assert "died before reading a page" in caplog.text


def test_a_worker_that_cannot_be_started_costs_no_page(monkeypatch) -> None:
    _with_worker_command(monkeypatch, [str(Path("/nonexistent/python"))])
    analyser = Analyser(workers=1, inline_pages=0)
    results = _one_page_times(analyser, 3)
    assert all(r.snapshot is not None for r in results) and analyser.workers == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pipe sizes are Linux's")
def test_a_worker_writes_answers_ahead_while_the_loop_is_busy() -> None:
    """An answer is some 70 KB: the worker's pipe must hold several, so that the worker never
    waits for the crawl's loop to come round and read (the default pipe holds 64 KiB)."""
    import fcntl
    import termios
    import time

    from crawler.analysis_channel import PIPE_SIZE

    probe, other = os.pipe()
    try:
        fcntl.fcntl(probe, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    except OSError:
        pytest.skip("this system refuses pipes of PIPE_SIZE")
    finally:
        os.close(probe)
        os.close(other)
    from bench.site import ReleasedSite

    site = ReleasedSite(8, revise_percent=5)  # pages of the seeds' size (the replica's are small)
    pages = [(site.detail_url("http://127.0.0.1:1", i), site.detail(i), "text/html; charset=utf-8")
             for i in range(8)]
    analyser = Analyser(workers=1, inline_pages=0)

    async def scenario() -> int:
        loop = asyncio.get_running_loop()
        futures = [loop.create_task(analyser.run(url, body, ctype)) for url, body, ctype in pages]
        await asyncio.sleep(0)  # every page sent
        channel = analyser._channels[0]
        waiting = 0
        deadline = time.monotonic() + 30
        while len(channel.pending) and time.monotonic() < deadline:
            time.sleep(0.2)  # the loop is busy: nothing reads the answers meanwhile
            waiting = int.from_bytes(fcntl.ioctl(channel._in, termios.FIONREAD, b"\0" * 4), sys.byteorder)
            if waiting > 2 * 64 * 1024:
                break
        await asyncio.gather(*futures)
        return waiting

    try:
        waiting = asyncio.run(scenario())
    finally:
        analyser.close()
    assert waiting > 64 * 1024, f"only {waiting} bytes of answers written while the loop was busy"
