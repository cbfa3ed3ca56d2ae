"""Helper processes started with the crawl (crawler.prestart), for real: the storage process and
the page-analysis worker the crawl takes are the ones started early; those it never takes are
killed, not waited for; a `--url` crawl starts none."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys

import pytest

from crawler import analysis_worker, prestart
from crawler.analysis import Analyser
from crawler.store_process import SharedStore
from tests.conftest import run_policywatch
from tests.test_store_process import _jobs, _pages, _ready, _stored, _write


@pytest.fixture(autouse=True)
def _nothing_left() -> None:
    yield
    prestart.discard()


def test_the_storage_process_started_early_is_the_one_that_stores(db_url, sessions, run_ids) -> None:
    prestart.start(db_url, 0)
    early = prestart._stores[db_url].pid
    pages = _pages(6)
    store = SharedStore(db_url, use_process=True, inline_items=0)
    try:
        assert prestart.take_store(db_url) is None  # handed over once
        assert _ready(store) == early
        results = _write(store, _jobs(pages, run_ids))
        assert store.remote_batches == 1 and store.process.pid == early
    finally:
        store.close()
    assert all(r.error is None for r in results)
    assert _stored(sessions)[:2] == (len(pages), len(pages))


def test_a_store_that_may_not_use_processes_leaves_the_early_one(db_url, run_ids) -> None:
    """``[crawl] workers = 0``: no process is taken (discard ends it)."""
    prestart.start(db_url, 0)
    store = SharedStore(db_url, use_process=False)
    try:
        assert store.process is None and db_url in prestart._stores
    finally:
        store.close()


def test_the_worker_started_early_reads_the_pages() -> None:
    prestart.start(None, 1)
    early = prestart._workers[0].pid
    analyser = Analyser(workers=1, inline_pages=0)
    (url, body, ctype), = _replica_page()

    async def run() -> list:
        return [await analyser.run(url, body, ctype) for _ in range(3)]

    try:
        results = asyncio.run(run())
        assert analyser.worker_pids() == [early]
    finally:
        analyser.close()
    assert all(r.snapshot is not None and r.error is None for r in results)
    assert prestart.take_worker() is None


def test_with_a_worker_started_early_the_crawl_process_reads_no_page_itself() -> None:
    """The first pages go to the early worker (it has loaded while Scrapy did), not to this
    process; without one, the first pages are read here while a worker starts."""
    from crawler import analysis

    analysis.close_shared()
    try:
        assert analysis.shared_analyser(None).inline_pages == analysis.INLINE_PAGES
        analysis.close_shared()
        prestart.start(None, 1)
        assert analysis.shared_analyser(None).inline_pages == 0
    finally:
        analysis.close_shared()


def test_a_crawl_process_with_early_helpers_never_loads_the_parsers(replica_config, tmp_path) -> None:
    """A whole crawl of the replica: every page is read by the early worker, so the crawl
    process never imports the document parsers (nor warms them up)."""
    modules = tmp_path / "modules.txt"
    code = ("import atexit, runpy, sys\n"
            f"atexit.register(lambda: open({str(modules)!r}, 'w').write('\\n'.join(sys.modules)))\n"
            f"sys.argv = ['monitor', 'crawl', '-q', '--config', {str(replica_config)!r}]\n"
            "runpy.run_module('monitor', run_name='__main__')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                            timeout=240)
    assert result.returncode == 0, result.stderr
    loaded = set(modules.read_text().splitlines())
    assert "crawler.snapshot" in loaded  # the workers' snapshots were received
    assert not {m for m in loaded if m.startswith("crawler.document")}, sorted(loaded)


def test_a_dead_early_worker_is_passed_over(monkeypatch) -> None:
    monkeypatch.setattr(analysis_worker, "COMMAND", (sys.executable, "-c", "raise SystemExit(3)"))
    prestart.start(None, 1)
    process = prestart._workers[0]
    process.wait(timeout=60)
    assert prestart.take_worker() is None and process.returncode == 3


def test_helpers_never_taken_are_killed_not_waited_for(db_url) -> None:
    """Right after they start, both are still importing: discard kills them (a wait would
    last until they were ready and then until their input ended)."""
    prestart.start(db_url, 1)
    store, worker = prestart._stores[db_url], prestart._workers[0]
    prestart.discard()
    assert store.process.exitcode == -signal.SIGKILL
    assert worker.returncode == -signal.SIGKILL
    assert prestart.take_store(db_url) is None and prestart.take_worker() is None


def _replica_page() -> list[tuple[str, bytes, str]]:
    from tests.test_analysis_pool import _replica_pages

    return _replica_pages(1)


def _pids(pattern: str, text: str) -> list[int]:
    return [int(pid) for pid in re.findall(pattern, text)]


def test_a_crawl_uses_the_helpers_it_started_with(replica_config) -> None:
    """A whole crawl of the replica (more pages than are read and stored inline): its storage
    process and page-analysis worker are the ones started before Scrapy was loaded, and it
    starts no other."""
    result = run_policywatch("-v", "crawl", "--config", str(replica_config), "--format", "json")
    assert result.returncode == 0, result.stderr
    started = re.search(r"started with the crawl: storage process \[(\d+)\], page-analysis workers "
                        r"\[([\d, ]*)\]", result.stderr)
    assert started, result.stderr
    store_pid = int(started.group(1))
    worker_pids = [int(p) for p in started.group(2).split(",") if p.strip()]
    assert _pids(r"the storage process started with the crawl \(pid (\d+)\)", result.stderr) == [store_pid]
    assert _pids(r"storage: a storage process \(pid (\d+)\)", result.stderr) == []  # none other
    used = _pids(r"page analysis: a worker process \(pid (\d+)\)", result.stderr)
    assert used and set(used) <= set(worker_pids), result.stderr


def test_a_url_crawl_starts_no_helper_early(replica, replica_config) -> None:
    url = replica.documents()[0]["urls"][0]
    result = run_policywatch("-v", "crawl", "--config", str(replica_config), "--url", url)
    assert result.returncode == 0, result.stderr
    assert "started with the crawl" not in result.stderr


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_cli_reaches_a_crawl_without_loading_the_database_or_scrapy() -> None:
    """Helpers start before SQLAlchemy and Scrapy are loaded (that is their point): the CLI and
    the crawl's orchestration import neither at module level."""
    code = ("import sys, monitor.cli, monitor.crawl\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'scrapy', 'twisted', "
            "'storage', 'lxml', 'zstandard'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr


@pytest.mark.parametrize("db", ["uninitialised", "unknown dialect", "no server"])
def test_a_crawl_whose_database_fails_ends_the_helpers_it_started(tmp_path, replica_config, db) -> None:
    """The helpers start before the database is opened: when it cannot be, the command still
    ends with one line, no traceback (a storage process that cannot open the URL ends quietly),
    and no helper outlives it."""
    url = {"uninitialised": f"sqlite:///{tmp_path / 'new.db'}",
           "unknown dialect": "nosuchdialect://u:p@127.0.0.1/x",
           "no server": "postgresql+psycopg://u:p@127.0.0.1:1/x"}[db]
    result = run_policywatch("-v", "crawl", "--config", str(replica_config), "--db", url)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: "), result.stderr
    started = re.search(r"started with the crawl: storage process \[(\d+)\], page-analysis workers "
                        r"\[([\d, ]*)\]", result.stderr)
    assert started, result.stderr
    pids = [int(p) for p in re.findall(r"\d+", started.group(0))]
    assert len(pids) >= 2 and all(_gone(pid) for pid in pids)


def test_a_crawl_with_nothing_new_ends_the_helpers_it_started(replica_config) -> None:
    """An unchanged recrawl stores a page or two in the crawl process: the early helpers end
    with it (killed: none holds work), none outlives the command."""
    assert run_policywatch("crawl", "--config", str(replica_config)).returncode == 0
    result = run_policywatch("-v", "crawl", "--config", str(replica_config), "--format", "json")
    assert result.returncode == 0, result.stderr
    started = re.search(r"started with the crawl: storage process \[(\d+)\], page-analysis workers "
                        r"\[([\d, ]*)\]", result.stderr)
    assert started, result.stderr
    pids = [int(p) for p in re.findall(r"\d+", started.group(0))]
    assert len(pids) >= 1 and all(_gone(pid) for pid in pids)
    assert '"versions_new": 0' in result.stdout
