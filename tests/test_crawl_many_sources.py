"""Many sources in one `policywatch crawl`: at most `[crawl] sources_at_once` crawl at a time,
each that ends starts the next, and a stopped crawl marks the sources still waiting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from storage.db import session_scope
from storage.models import CrawlRun, Document, SourceRow
from tests.conftest import ROOT, run_policywatch


def _most_sites_at_once(log: list[tuple[str, str, int]]) -> int:
    """The most sites whose crawls overlap in the server's request log: a site is busy from its
    first request to its last one."""
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for index, (site, _path, _status) in enumerate(log):
        first.setdefault(site, index)
        last[site] = index
    return max(sum(first[s] <= i <= last[s] for s in first) for i in range(len(log)))


def _with_crawl_option(config: Path, line: str) -> None:
    text = config.read_text(encoding="utf-8")
    assert text.rstrip().splitlines()[-1].startswith("obey_robots")  # [crawl] is the last table
    config.write_text(text.rstrip() + f"\n{line}\n", encoding="utf-8")


def test_sources_wait_their_turn_and_all_are_crawled(replica, replica_config, sessions) -> None:
    # the control: by default the six sources of the four replica sites crawl together
    result = run_policywatch("crawl", "--config", str(replica_config), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert _most_sites_at_once(replica.request_log) >= 2
    with session_scope(sessions) as s:
        together = s.scalar(select(func.count(Document.id)))

    # one source at a time: each site's requests form one block, nothing is left out
    _with_crawl_option(replica_config, "sources_at_once = 1")
    replica.request_log.clear()
    result = run_policywatch("crawl", "--config", str(replica_config), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert replica.request_log and _most_sites_at_once(replica.request_log) == 1
    with session_scope(sessions) as s:
        runs = list(s.scalars(select(CrawlRun).order_by(CrawlRun.id)))[-6:]
        assert [r.status for r in runs] == ["ok"] * 6, [(r.status, r.message) for r in runs]
        assert s.scalar(select(func.count(Document.id))) == together
        # a waiting source's run was "queued" and counts its time from its turn: each run
        # starts once the one before it has finished
        for before, after in zip(runs, runs[1:], strict=False):
            assert after.started_at >= before.finished_at, (before.id, after.id)


def test_a_bad_sources_at_once_is_one_line_and_opens_no_run(replica, replica_config, sessions) -> None:
    _with_crawl_option(replica_config, "sources_at_once = 0")
    result = run_policywatch("crawl", "--config", str(replica_config))
    assert result.returncode != 0
    assert "sources_at_once must be a number ≥ 1" in result.stderr and "Traceback" not in result.stderr
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count(CrawlRun.id))) == 0


def test_ctrl_c_marks_the_sources_still_waiting(replica, replica_config, sessions) -> None:
    _with_crawl_option(replica_config, "sources_at_once = 1")
    for doc in replica.documents():  # the first source lasts well past the interruption
        for url in doc["urls"]:
            replica.set_fault(doc["site"], "/" + url.split("/", 3)[3], "slow", delay=1.0)
    crawl = subprocess.Popen(
        [sys.executable, "-m", "monitor", "crawl", "--config", str(replica_config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(ROOT),
        env={**os.environ}, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with session_scope(sessions) as s:
            if (s.scalar(select(func.count(Document.id))) or 0) >= 2:
                break
        assert crawl.poll() is None, crawl.communicate()
        time.sleep(0.2)
    os.killpg(crawl.pid, signal.SIGINT)
    _out, err = crawl.communicate(timeout=120)
    assert crawl.returncode == 130, err
    assert "Traceback" not in err, err
    with session_scope(sessions) as s:
        runs = list(s.scalars(select(CrawlRun).order_by(CrawlRun.id)))
        names = {row.id: row.name for row in s.scalars(select(SourceRow))}
        assert len(runs) == 6 and all(r.status == "interrupted" for r in runs), \
            [(names[r.source_id], r.status, r.message) for r in runs]
        assert [r.message for r in runs].count("stopped: shutdown") == 1  # the one crawling
        waiting = [r for r in runs if r.message != "stopped: shutdown"]
        assert all(r.message == "stopped before this source's turn came" and r.pages_fetched == 0
                   and not r.listing_complete for r in waiting)

    replica.clear_overrides()
    result = run_policywatch("crawl", "--config", str(replica_config), "--format", "json")
    assert result.returncode == 0, result.stderr
    with session_scope(sessions) as s:
        last = list(s.scalars(select(CrawlRun).order_by(CrawlRun.id)))[-6:]
        assert [r.status for r in last] == ["ok"] * 6
