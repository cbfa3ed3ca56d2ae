"""Crawl runs in storage: a run opened for a source that waits its turn is "queued", starts
"running" when its crawl begins, and is found when the process that opened it died."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from storage.db import session_scope
from storage.documents import ensure_source
from storage.models import CrawlRun
from storage.runs import begin_crawl, consecutive_failures, finish_run, start_run


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: the pid names no process now
    return child.pid


def test_a_queued_run_starts_running_with_its_turn(sessions) -> None:
    with session_scope(sessions) as s:
        source_id = ensure_source(s, "waiting", "html_pages", {}).id
        run = start_run(s, source_id, "manual", queued=True)
        opened = run.started_at
        assert run.status == "queued" and run.pid is not None
        run_id = run.id
    with session_scope(sessions) as s:
        begin_crawl(s, source_id, run_id, now=opened + timedelta(minutes=5))
    with session_scope(sessions) as s:
        run = s.get(CrawlRun, run_id)
        assert run.status == "running"
        assert run.started_at == opened + timedelta(minutes=5)  # its time counts from its turn


def test_the_queued_runs_of_a_dead_process_are_interrupted_by_the_next_crawl(sessions) -> None:
    with session_scope(sessions) as s:
        source_id = ensure_source(s, "orphaned", "html_pages", {}).id
        orphan = start_run(s, source_id, "schedule", queued=True)
        orphan.pid = _dead_pid()  # opened by a crawl process that was killed before its turn
        orphan_id = orphan.id
        alive = start_run(s, source_id, "schedule", queued=True)  # this process: alive
        alive_id = alive.id
        run_id = start_run(s, source_id, "manual").id
    with session_scope(sessions) as s:
        plan = begin_crawl(s, source_id, run_id)
    assert plan.interrupted_runs == [orphan_id]
    with session_scope(sessions) as s:
        assert s.get(CrawlRun, orphan_id).status == "interrupted"
        assert s.get(CrawlRun, alive_id).status == "queued"


def test_open_runs_are_not_history(sessions) -> None:
    """A failure count and the choice of a full sweep look at ended runs only."""
    with session_scope(sessions) as s:
        source_id = ensure_source(s, "history", "html_pages", {}).id
        failed = start_run(s, source_id, "schedule")
        finish_run(s, failed.id, status="failed", counts={})
        start_run(s, source_id, "schedule", queued=True)
        start_run(s, source_id, "schedule")
        assert consecutive_failures(s, source_id) == 1
        run_id = start_run(s, source_id, "schedule").id
    with session_scope(sessions) as s:
        plan = begin_crawl(s, source_id, run_id)
    assert plan.full_sweep and "failed" in plan.reason
