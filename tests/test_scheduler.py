"""The scheduler: cron triggers, leases across processes, stored jobs, a clean stop on SIGTERM, a real
child-process crawl of the replica, and the daemon sending an immediate digest by itself."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.config import load_config
from monitor.scheduler import cron_trigger, desired_jobs, make_scheduler, stored_jobs, sync_jobs
from storage.db import make_engine, session_factory, session_scope
from storage.leases import acquire, current, release, release_all, renew
from storage.models import CrawlRun, Delivery, Lease
from tests.conftest import FAST_CRAWL, ROOT, run_cli, run_policywatch
from tests.test_mail_support import SmtpSink, add, store_document

SOURCES = """
[[sources]]
name = "alpha"
kind = "html_pages"
start_urls = ["http://127.0.0.1:9/index.html"]
schedule = "0 7 * * 1-5"

[[sources]]
name = "beta"
kind = "html_pages"
start_urls = ["http://127.0.0.1:9/b/index.html"]
schedule = "30 6 * * *"
"""


def write(tmp_path: Path, db_url: str, text: str) -> Path:
    path = tmp_path / "policywatch.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n{text}', encoding="utf-8")
    return path


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# -- triggers ---------------------------------------------------------------------------------
def test_cron_weekdays_follow_crontab_not_apscheduler() -> None:
    start = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)  # a Saturday
    weekdays = cron_trigger("0 7 * * 1-5", timezone=UTC)
    assert weekdays.get_next_fire_time(None, start) == datetime(2024, 6, 3, 7, 0, tzinfo=UTC)  # Monday
    sunday = cron_trigger("0 7 * * 0", timezone=UTC)
    assert sunday.get_next_fire_time(None, start) == datetime(2024, 6, 2, 7, 0, tzinfo=UTC)
    assert cron_trigger("0 7 * * 7", timezone=UTC).get_next_fire_time(None, start).weekday() == 6
    jittered = cron_trigger("*/15 * * * *", jitter=60, timezone=UTC)
    assert jittered.jitter == 60


# -- leases -----------------------------------------------------------------------------------
def test_lease_acquire_renew_release_and_expiry(sessions) -> None:
    now = datetime.now(UTC)
    assert acquire(sessions, "crawl:x", "a", 60, now=now)
    assert not acquire(sessions, "crawl:x", "b", 60, now=now + timedelta(seconds=30))
    assert acquire(sessions, "crawl:x", "a", 60, now=now + timedelta(seconds=30))  # own lease: extend
    assert renew(sessions, "crawl:x", "a", 60)
    assert not renew(sessions, "crawl:x", "b", 60)
    assert not release(sessions, "crawl:x", "b")
    # the holder died: after expiry another process takes it over, and the old holder has lost it
    later = datetime.now(UTC) + timedelta(seconds=120)
    assert acquire(sessions, "crawl:x", "b", 60, now=later)
    assert current(sessions, "crawl:x").holder == "b"
    assert not renew(sessions, "crawl:x", "a", 60)
    assert release(sessions, "crawl:x", "b") and current(sessions, "crawl:x") is None
    assert acquire(sessions, "crawl:y", "c", 60) and acquire(sessions, "crawl:z", "c", 60)
    assert release_all(sessions, "c") == 2


def _race(url: str, holder: str, barrier, results) -> None:
    sessions = session_factory(make_engine(url))
    barrier.wait(timeout=20)
    results.put((holder, acquire(sessions, "crawl:race", holder, 60)))


def test_only_one_of_several_processes_gets_the_lease(db_url) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(6), ctx.Queue()
    procs = [ctx.Process(target=_race, args=(db_url, f"p{i}", barrier, results)) for i in range(6)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    winners = [h for h, won in outcomes if won]
    assert len(winners) == 1, outcomes
    sessions = session_factory(make_engine(db_url))
    assert current(sessions, "crawl:race").holder == winners[0]


# -- stored jobs ------------------------------------------------------------------------------
def test_jobs_are_synced_kept_replaced_and_removed(tmp_path, db_url) -> None:
    path = write(tmp_path, db_url, SOURCES + '[smtp]\nhost = "127.0.0.1"\nsender = "a@example.org"\n')
    args = {"database_url": None, "jitter": 60, "daily_hour": 7, "weekly_day": "mon", "immediate_interval": 300}

    def sync(config):
        scheduler = make_scheduler(config.database_url)
        scheduler.start(paused=True)
        try:
            report = sync_jobs(scheduler, desired_jobs(config, **args))
            return report, {j.id: j.next_run_time for j in scheduler.get_jobs()}
        finally:
            scheduler.shutdown(wait=False)

    config = load_config(path)
    report, first = sync(config)
    assert sorted(report["added"]) == ["crawl:alpha", "crawl:beta", "digest:daily", "digest:immediate",
                                       "digest:weekly"]
    report, again = sync(config)  # a restart: unchanged jobs keep their next run
    assert sorted(report["kept"]) == sorted(first) and again == first

    beta_only = "[[sources]]" + SOURCES.split("[[sources]]")[2].replace("30 6 * * *", "45 6 * * *")
    path.write_text(path.read_text().replace(SOURCES, beta_only), encoding="utf-8")
    config = load_config(path)
    assert [s.name for s in config.sources] == ["beta"]
    report, jobs = sync(config)
    assert report["removed"] == ["crawl:alpha"] and report["replaced"] == ["crawl:beta"]
    assert "crawl:alpha" not in stored_jobs(db_url) and stored_jobs(db_url)["crawl:beta"]["next_run_time"]


def test_schedule_stores_jobs_that_survive_a_restart_and_status_reads_them(tmp_path, db_url) -> None:
    path = write(tmp_path, db_url, SOURCES)
    status = json.loads(run_cli("status", "--format", "json", "--config", str(path)).output)
    assert [s["next_run_from"] for s in status] == ["cron", "cron"]
    assert all(s["last_run"] is None and s["consecutive_failures"] == 0 for s in status)

    result = run_policywatch("schedule", "--max-runtime", "0.5", "--config", str(path), timeout=60)
    assert result.returncode == 0, result.stderr
    assert "added crawl:alpha, crawl:beta" in result.stderr
    assert "no [smtp] in the config: digest jobs are not scheduled" in result.stderr
    jobs = stored_jobs(db_url)
    assert set(jobs) == {"crawl:alpha", "crawl:beta"}

    result = run_policywatch("schedule", "--max-runtime", "0.5", "--config", str(path), timeout=60)
    assert result.returncode == 0 and "kept crawl:alpha, crawl:beta" in result.stderr
    assert stored_jobs(db_url) == jobs
    status = json.loads(run_cli("status", "--format", "json", "--config", str(path)).output)
    assert [s["next_run_from"] for s in status] == ["job store", "job store"]
    alpha_next = datetime.fromisoformat(status[0]["next_run"])
    assert alpha_next.weekday() < 5 and alpha_next.hour == 7  # crontab 1-5 is Monday to Friday
    table = run_cli("status", "--config", str(path)).output
    assert "alpha" in table and "never" in table


def test_sigterm_stops_the_daemon_cleanly(tmp_path, db_url) -> None:
    path = write(tmp_path, db_url, SOURCES)
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "schedule", "--config", str(path)],
                            cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: set(stored_jobs(db_url)) == {"crawl:alpha", "crawl:beta"}, 30, "stored jobs")
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        _out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert time.monotonic() - started < 5
        assert "received SIGTERM: stopping" in err and "scheduler stopped" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)


def test_the_daemon_sends_immediate_digests_by_itself(tmp_path, db_url, sessions) -> None:
    sink = SmtpSink().start()
    try:
        path = write(tmp_path, db_url, sink.smtp_toml()
                     + '\n[[subscribers]]\nemail = "now@example.org"\ncadence = "immediate"\n'
                     + '\n[[subscribers]]\nemail = "later@example.org"\ncadence = "daily"\n')
        doc = store_document(sessions, source="gdii-notices", post=1, title="通知")
        add(sessions, doc, "new_document", "新文件")
        result = run_policywatch("schedule", "--immediate-interval", "1", "--max-runtime", "4",
                                 "--config", str(path), timeout=60)
        assert result.returncode == 0, result.stderr
        assert "digest immediate started" in result.stderr and "digest immediate finished" in result.stderr
        assert len(sink.messages("now@example.org")) == 1  # several runs, one email
        assert sink.messages("later@example.org") == []
        with session_scope(sessions) as s:
            assert s.scalar(select(func.count(Delivery.id))) == 1
        assert set(stored_jobs(db_url)) == {"digest:immediate", "digest:daily", "digest:weekly"}
    finally:
        sink.stop()


# -- a real crawl in a child process ----------------------------------------------------------
@pytest.fixture
def one_source_config(tmp_path, db_url, replica) -> Path:
    from replica.catalog import LIST_PATHS

    path = tmp_path / "one.toml"
    path.write_text(
        f'[database]\nurl = "{db_url}"\n\n[[sources]]\nname = "gdii-notices"\nkind = "html_pages"\n'
        f'start_urls = ["{replica.base_url("gdii")}{LIST_PATHS["gdii"]}index.html"]\n'
        f'allowed_domains = ["{replica.host}"]\nschedule = "0 7 * * *"\n' + FAST_CRAWL, encoding="utf-8")
    return path


def gate_replica(replica) -> tuple[threading.Event, threading.Event]:
    """Hold every replica response until `release` is set; `reached` says a request arrived."""
    release_event, reached = threading.Event(), threading.Event()
    original = replica.handle

    def gated(site, raw_path, headers=None):
        reached.set()
        release_event.wait(timeout=60)
        return original(site, raw_path, headers)

    replica.handle = gated
    return release_event, reached


def crawl_runs(sessions) -> list[tuple[str, str]]:
    with session_scope(sessions) as s:
        return [(r.trigger, r.status) for r in s.scalars(select(CrawlRun).order_by(CrawlRun.id))]


def test_a_second_scheduler_does_not_start_the_same_crawl(one_source_config, replica, sessions) -> None:
    release_event, reached = gate_replica(replica)
    first = subprocess.Popen([sys.executable, "-m", "monitor", "schedule", "--once", "--config",
                              str(one_source_config)], cwd=str(ROOT), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert reached.wait(timeout=60), "the first scheduler's crawl never reached the replica"
        lease = current(sessions, "crawl:gdii-notices")
        assert lease is not None and lease.holder.startswith("schedule@")

        second = run_policywatch("schedule", "--once", "--config", str(one_source_config), timeout=60)
        assert second.returncode == 0, second.stderr
        assert "crawl gdii-notices skipped: another process holds the lease" in second.stderr

        release_event.set()
        _out, err = first.communicate(timeout=120)
        assert first.returncode == 0, err
        assert "crawl gdii-notices finished: ok" in err
    finally:
        release_event.set()
        if first.poll() is None:
            first.kill()
            first.wait(timeout=5)
    assert crawl_runs(sessions) == [("schedule", "ok")]  # one crawl, by the scheduler
    assert current(sessions, "crawl:gdii-notices") is None  # released
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count(Lease.name))) == 0


def test_sigterm_during_a_crawl_stops_the_child_and_releases_the_lease(one_source_config, replica,
                                                                        sessions) -> None:
    release_event, reached = gate_replica(replica)
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "schedule", "--once", "--config",
                             str(one_source_config)], cwd=str(ROOT), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert reached.wait(timeout=60)
        proc.send_signal(signal.SIGTERM)
        release_event.set()  # let the in-flight request finish so the child can stop gracefully
        _out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "crawl gdii-notices finished: stopped" in err
    finally:
        release_event.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
    assert current(sessions, "crawl:gdii-notices") is None
    # no crawl child is left behind
    import psutil

    assert not [p for p in psutil.process_iter(["cmdline"])
                if str(one_source_config) in " ".join(p.info["cmdline"] or []) and p.pid != os.getpid()]


def test_crawl_job_skips_while_another_holder_has_the_lease(one_source_config, sessions) -> None:
    from monitor.scheduler import crawl_job

    assert acquire(sessions, "crawl:gdii-notices", "someone-else", 60)
    assert crawl_job(str(one_source_config), "gdii-notices") == "skipped"
    assert crawl_runs(sessions) == []
    release(sessions, "crawl:gdii-notices", "someone-else")
    # an expired lease of a dead holder does not block: the crawl runs (child process, replica)
    assert acquire(sessions, "crawl:gdii-notices", "dead", 1, now=datetime.now(UTC) - timedelta(seconds=5))
    assert crawl_job(str(one_source_config), "gdii-notices") == "ok"
    assert crawl_runs(sessions) == [("schedule", "ok")]
    assert current(sessions, "crawl:gdii-notices") is None


def _run_pids(sessions) -> set[int | None]:
    with session_scope(sessions) as s:
        return {r.pid for r in s.scalars(select(CrawlRun))}


def test_sources_due_together_are_crawled_by_one_child(replica_config, sessions) -> None:
    """Six sources come due at the same moment (six job threads): one crawl child takes them all,
    and each job still gets its own source's outcome and releases its own lease."""
    from monitor.scheduler import crawl_job

    names = [source.name for source in load_config(str(replica_config)).sources]
    assert len(names) == 6
    outcomes: dict[str, str] = {}

    def job(name: str) -> None:
        outcomes[name] = crawl_job(str(replica_config), name, batch_window=3.0)

    threads = [threading.Thread(target=job, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert outcomes == {name: "ok" for name in names}
    assert crawl_runs(sessions) == [("schedule", "ok")] * 6
    pids = _run_pids(sessions)
    assert len(pids) == 1 and os.getpid() not in pids  # one child crawled the six sources
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count(Lease.name))) == 0


def test_schedule_once_crawls_every_source_in_one_child_with_each_outcome(replica_config, sessions) -> None:
    text = replica_config.read_text(encoding="utf-8")
    head, crawl = text.split("\n[crawl]\n", 1)
    replica_config.write_text(
        head + '\n[[sources]]\nname = "dead-site"\nkind = "html_pages"\n'
        'start_urls = ["http://127.0.0.1:9/index.html"]\nschedule = "0 7 * * *"\n'
        "\n[crawl]\n" + crawl + "retry_times = 0\n", encoding="utf-8")
    result = run_policywatch("schedule", "--once", "--config", str(replica_config), timeout=300)
    assert result.returncode == 0, result.stderr
    assert "crawl dead-site finished: failed" in result.stderr
    assert "crawl gdii-notices finished: ok" in result.stderr
    assert result.stderr.count("finished: ok") == 6
    assert len(_run_pids(sessions)) == 1  # the seven sources, one child
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count(Lease.name))) == 0
