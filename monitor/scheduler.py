"""Decide when: the APScheduler daemon that runs each source's crawl and the digests on time.

Jobs live in the project's database (SQLAlchemyJobStore, table ``apscheduler_jobs``) and call the
module-level functions below with plain, picklable arguments (config path, source name, cadence).
A crawl runs in a child process (Twisted's reactor starts once per process) under a database lease
``crawl:<source>``, so two schedulers, or a scheduler and a hand-started one, never crawl the same
source at once; the lease is renewed while the child runs and expires if its holder dies.

Sources that come due together share one child: the first to come due waits ``BATCH_WINDOW``
seconds for the others, then one ``policywatch crawl`` takes them all (crawling
``[crawl] sources_at_once`` of them at a time). A child costs a second or two of CPU to start
(the interpreter, Scrapy, SQLAlchemy, its helper processes); a thousand hourly sources would
otherwise start a thousand children an hour.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.config import Config, ConfigError, load_config
from storage.db import make_engine, session_factory
from storage.leases import acquire, make_holder, release, release_all, renew

logger = logging.getLogger(__name__)

JOBS_TABLE = "apscheduler_jobs"
CRAWL_PREFIX = "crawl:"
DIGEST_PREFIX = "digest:"
LEASE_TTL = 120.0  # seconds; renewed every LEASE_TTL / 4 while the crawl runs
DEFAULT_JITTER = 60
DEFAULT_MISFIRE_GRACE = 3600  # a run missed by less than an hour (restart, suspend) still happens
DEFAULT_CRAWL_TIMEOUT = 6 * 3600
DEFAULT_STOP_TIMEOUT = 10.0
BATCH_WINDOW = 2.0  # seconds the first source due waits for others due at the same moment
MAX_BATCH = 64  # sources in one crawl child at most
JOB_THREADS = 64  # jobs run at once: a source waiting in a batch holds a thread, idle
DEFAULT_IMMEDIATE_INTERVAL = 300
DEFAULT_DAILY_HOUR = 7
_CRON_DOW = {"0": "sun", "1": "mon", "2": "tue", "3": "wed", "4": "thu", "5": "fri", "6": "sat", "7": "sun"}

# One holder id per process: every lease this process takes, released together on shutdown.
HOLDER = make_holder("schedule")
_children: set[subprocess.Popen[bytes]] = set()
_children_lock = threading.Lock()
_stopping = threading.Event()


# -- triggers ---------------------------------------------------------------------------------
def _dow_field(field: str) -> str:
    """Crontab day-of-week (0 or 7 = Sunday) to APScheduler names (where 0 would mean Monday)."""
    def one(token: str) -> str:
        step = ""
        if "/" in token:
            token, step = token.split("/", 1)
            step = "/" + step
        if "-" in token:
            a, b = token.split("-", 1)
            return f"{_CRON_DOW.get(a, a)}-{_CRON_DOW.get(b, b)}{step}"
        return _CRON_DOW.get(token, token) + step

    return ",".join(one(t) for t in field.split(","))


def cron_trigger(expr: str, *, jitter: int | None = None, timezone: Any = None) -> Any:
    """A CronTrigger from a 5-field crontab line, with crontab's weekday numbers (0/7 = Sunday)."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) != 5:
        raise ConfigError(f"schedule {expr!r}: must be a 5-field cron expression")
    minute, hour, day, month, dow = fields
    try:
        return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                           day_of_week=_dow_field(dow), timezone=timezone, jitter=jitter or None)
    except ValueError as exc:
        raise ConfigError(f"schedule {expr!r}: {exc}") from None


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str
    args: tuple[Any, ...]
    trigger: Any
    name: str  # also the fingerprint: an unchanged job keeps its stored next run (misfires)


def desired_jobs(config: Config, *, database_url: str | None, jitter: int, daily_hour: int,
                 weekly_day: str, immediate_interval: int, timezone: Any = None,
                 digests: bool = True) -> list[JobSpec]:
    """The jobs a config asks for: one cron job per scheduled source, one per digest cadence."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    config_path = str(config.path) if config.path else None
    jobs = []
    for source in config.sources:
        if not source.schedule:
            continue
        jobs.append(JobSpec(
            id=CRAWL_PREFIX + source.name, func=f"{__name__}:crawl_job",
            args=(config_path, source.name, database_url),
            trigger=cron_trigger(source.schedule, jitter=jitter, timezone=timezone),
            name=f"crawl {source.name} [{source.schedule}] jitter={jitter}"))
    if digests:
        jobs.append(JobSpec(
            id=DIGEST_PREFIX + "immediate", func=f"{__name__}:digest_job",
            args=(config_path, "immediate", database_url),
            trigger=IntervalTrigger(seconds=immediate_interval, timezone=timezone),
            name=f"digest immediate [every {immediate_interval}s]"))
        jobs.append(JobSpec(
            id=DIGEST_PREFIX + "daily", func=f"{__name__}:digest_job",
            args=(config_path, "daily", database_url),
            trigger=CronTrigger(hour=daily_hour, minute=0, timezone=timezone),
            name=f"digest daily [{daily_hour:02d}:00]"))
        jobs.append(JobSpec(
            id=DIGEST_PREFIX + "weekly", func=f"{__name__}:digest_job",
            args=(config_path, "weekly", database_url),
            trigger=CronTrigger(day_of_week=weekly_day, hour=daily_hour, minute=0, timezone=timezone),
            name=f"digest weekly [{weekly_day} {daily_hour:02d}:00]"))
    return jobs


# -- job functions (module level: the job store pickles references to them) ---------------------
def _load(config_path: str | None, database_url: str | None) -> Config:
    config = load_config(config_path)
    if database_url:
        config.database_url = database_url
    return config


def crawl_job(config_path: str | None, source: str, database_url: str | None = None, *,
              lease_ttl: float = LEASE_TTL, timeout: float = DEFAULT_CRAWL_TIMEOUT,
              batch_window: float = BATCH_WINDOW) -> str:
    """Crawl one source in a child process under the lease ``crawl:<source>``, together with the
    other sources that come due within ``batch_window`` seconds (one child for them all).

    Returns "skipped" when another process holds the lease, else the source's outcome: "ok",
    "failed", "timeout", "lost-lease" or "stopped".
    """
    if _stopping.is_set():
        return "stopped"
    config = _load(config_path, database_url)
    config.source(source)  # ConfigError if it left the config since the job was stored
    engine = make_engine(config.database_url)
    sessions = session_factory(engine)
    lease = CRAWL_PREFIX + source
    try:
        if not acquire(sessions, lease, HOLDER, lease_ttl):
            logger.info("crawl %s skipped: another process holds the lease", source)
            return "skipped"
        started = time.monotonic()
        logger.info("crawl %s started", source)
        outcome = "failed"
        try:
            outcome = _crawl_in_batch(config, source, sessions, lease_ttl, timeout, batch_window)
        finally:
            release(sessions, lease, HOLDER)
            _log_finished(source, outcome, started)
        return outcome
    finally:
        engine.dispose()


def crawl_sources(config: Config, sources: list[str], *, lease_ttl: float = LEASE_TTL,
                  timeout: float = DEFAULT_CRAWL_TIMEOUT) -> dict[str, str]:
    """Crawl these sources now, in one child, each under its lease (``schedule --once``): a
    source whose lease another process holds is "skipped"; the others get their outcome."""
    engine = make_engine(config.database_url)
    sessions = session_factory(engine)
    outcomes: dict[str, str] = {}
    held: list[str] = []
    try:
        for source in sources:
            if acquire(sessions, CRAWL_PREFIX + source, HOLDER, lease_ttl):
                held.append(source)
            else:
                logger.info("crawl %s skipped: another process holds the lease", source)
                outcomes[source] = "skipped"
        if held:
            started = time.monotonic()
            logger.info("crawl %s started", ", ".join(held))
            try:
                outcomes.update(_run_batch(config, held, sessions, lease_ttl, timeout))
            finally:
                for source in held:
                    release(sessions, CRAWL_PREFIX + source, HOLDER)
                    _log_finished(source, outcomes.get(source, "failed"), started)
        return outcomes
    finally:
        engine.dispose()


def _log_finished(source: str, outcome: str, started: float) -> None:
    logger.log(logging.INFO if outcome in ("ok", "stopped") else logging.WARNING,
               "crawl %s finished: %s in %.1fs", source, outcome, time.monotonic() - started)


@dataclass
class _Batch:
    """Sources due together, crawled by one child; the first to come due leads it."""

    sources: list[str] = field(default_factory=list)
    closed: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    outcomes: dict[str, str] = field(default_factory=dict)


_forming: dict[tuple[str, str], _Batch] = {}
_forming_lock = threading.Lock()


def _crawl_in_batch(config: Config, source: str, sessions: Any, lease_ttl: float, timeout: float,
                    window: float) -> str:
    key = (str(config.path), config.database_url)
    with _forming_lock:
        batch = _forming.get(key)
        leader = batch is None or len(batch.sources) >= MAX_BATCH
        if leader:
            batch = _forming[key] = _Batch()
        assert batch is not None
        batch.sources.append(source)
    if not leader:
        batch.done.wait()  # the leader renews every member's lease while the child runs
        return batch.outcomes.get(source, "failed")
    try:
        _stopping.wait(window)  # the others due now join
        with _forming_lock:
            batch.closed = True
            if _forming.get(key) is batch:
                del _forming[key]
        if _stopping.is_set():
            batch.outcomes.update({s: "stopped" for s in batch.sources})
        else:
            if len(batch.sources) > 1:
                logger.info("crawl %s together in one child", ", ".join(batch.sources))
            batch.outcomes.update(_run_batch(config, list(batch.sources), sessions, lease_ttl, timeout))
    finally:
        batch.done.set()
    return batch.outcomes.get(source, "failed")


def _crawl_command(config: Config, sources: list[str]) -> tuple[list[str], dict[str, str]]:
    """The same child as monitor.crawl.crawl_in_child(config.path, sources, trigger="schedule")."""
    cmd = [sys.executable, "-m", "monitor", "crawl", *sources, "--trigger", "schedule", "--quiet"]
    if config.path is not None:
        cmd += ["--config", str(Path(config.path))]
    env = dict(os.environ)
    env["POLICYWATCH_DATABASE_URL"] = config.database_url
    return cmd, env


def _run_batch(config: Config, sources: list[str], sessions: Any, lease_ttl: float,
               timeout: float) -> dict[str, str]:
    """Run one child for ``sources`` (their leases held by this process) and renew the leases
    while it runs: each source's outcome, from its run when the child ended by itself."""
    before = _last_run_id(sessions)
    stopped = _run_child(config, sources, sessions, lease_ttl, timeout)
    if stopped is not None:
        return {source: stopped for source in sources}
    return _run_outcomes(sessions, sources, before)


def _run_child(config: Config, sources: list[str], sessions: Any, lease_ttl: float,
               timeout: float) -> str | None:
    """None when the child ended by itself; else why it was stopped ("stopped", "timeout",
    "lost-lease")."""
    # Popen rather than crawl_in_child's subprocess.run: the leases must be renewed while the
    # child runs, and a SIGTERM to the daemon must reach the child.
    cmd, env = _crawl_command(config, sources)
    child = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL)
    with _children_lock:
        _children.add(child)
    started = time.monotonic()
    deadline = started + timeout
    renew_every = max(0.5, lease_ttl / 4)
    renewed = started
    what = ", ".join(sources)
    try:
        while True:
            try:
                child.wait(timeout=0.5)
                return "stopped" if _stopping.is_set() else None
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if _stopping.is_set():
                _stop_child(child)
                return "stopped"
            if now > deadline:
                logger.error("crawl %s exceeded %ss: stopping it", what, int(timeout))
                _stop_child(child)
                return "timeout"
            if now - renewed >= renew_every:
                renewed = now
                lost = [s for s in sources if not renew(sessions, CRAWL_PREFIX + s, HOLDER, lease_ttl)]
                if lost:
                    # our lease expired and another process took it: at most one crawl of a
                    # source, so the child stops (with it, the crawls of its other sources)
                    logger.error("crawl %s lost its lease: stopping the child of %s", ", ".join(lost), what)
                    _stop_child(child)
                    return "lost-lease"
    finally:
        with _children_lock:
            _children.discard(child)


def _last_run_id(sessions: Any) -> int:
    from sqlalchemy import func, select

    from storage.db import session_scope
    from storage.models import CrawlRun

    with session_scope(sessions) as session:
        return int(session.scalar(select(func.max(CrawlRun.id))) or 0)


# how a source's run ended, as the job's outcome ("partial": some pages failed, the rest stored)
_OUTCOME_OF_STATUS = {"ok": "ok", "partial": "ok", "failed": "failed", "interrupted": "failed"}


def _run_outcomes(sessions: Any, sources: list[str], after_run_id: int) -> dict[str, str]:
    """Each source's outcome from the run the child opened for it (a run after ``after_run_id``);
    "failed" for a source the child never opened a run for."""
    from sqlalchemy import select

    from storage.db import session_scope
    from storage.models import CrawlRun, SourceRow

    outcomes = {source: "failed" for source in sources}
    with session_scope(sessions) as session:
        rows = session.execute(
            select(SourceRow.name, CrawlRun.status)
            .join(CrawlRun, CrawlRun.source_id == SourceRow.id)
            .where(CrawlRun.id > after_run_id, SourceRow.name.in_(sources), CrawlRun.trigger == "schedule")
            .order_by(CrawlRun.id))
        for name, status in rows:
            outcomes[name] = _OUTCOME_OF_STATUS.get(status, "failed")
    return outcomes


def _stop_child(child: subprocess.Popen[bytes], grace: float = DEFAULT_STOP_TIMEOUT) -> None:
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(timeout=5)


def digest_job(config_path: str | None, cadence: str, database_url: str | None = None) -> str:
    """Send the digests of one cadence; a summary string ("sent 2, failed 0, nothing 3")."""
    from monitor.digest import DigestBusy, run_digests

    if _stopping.is_set():
        return "stopped"
    config = _load(config_path, database_url)
    engine = make_engine(config.database_url)
    try:
        logger.info("digest %s started", cadence)
        try:
            outcomes = run_digests(config, session_factory(engine), cadence=cadence, send=True)
        except DigestBusy as exc:
            logger.info("digest %s skipped: %s", cadence, exc)
            return "skipped"
        counts = {k: sum(1 for o in outcomes if o.status == k) for k in ("sent", "failed", "nothing")}
        summary = ", ".join(f"{k} {v}" for k, v in counts.items())
        logger.info("digest %s finished: %s", cadence, summary)
        return summary
    finally:
        engine.dispose()


# -- the daemon -------------------------------------------------------------------------------
def job_store(database_url: str) -> Any:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    return SQLAlchemyJobStore(engine=make_engine(database_url), tablename=JOBS_TABLE)


def make_scheduler(database_url: str, *, misfire_grace: int = DEFAULT_MISFIRE_GRACE,
                   timezone: Any = None) -> Any:
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler

    options: dict[str, Any] = {
        "jobstores": {"default": job_store(database_url)},
        "executors": {"default": ThreadPoolExecutor(JOB_THREADS)},
        "job_defaults": {"coalesce": True, "max_instances": 1, "misfire_grace_time": misfire_grace},
    }
    if timezone is not None:
        options["timezone"] = timezone
    return BackgroundScheduler(**options)


def sync_jobs(scheduler: Any, specs: list[JobSpec]) -> dict[str, list[str]]:
    """Make the stored jobs the desired ones: add new, replace changed, remove crawl and digest
    jobs that are no longer wanted (a source left the config). An unchanged job keeps its stored
    next run time, so a run missed while the daemon was down still fires (coalesced, within the
    misfire grace time)."""
    existing = {job.id: job for job in scheduler.get_jobs()}
    report: dict[str, list[str]] = {"added": [], "replaced": [], "kept": [], "removed": []}
    wanted = {spec.id for spec in specs}
    for spec in specs:
        old = existing.get(spec.id)
        if old is not None and old.name == spec.name and tuple(old.args) == spec.args \
                and old.func_ref == spec.func and old.next_run_time is not None:
            report["kept"].append(spec.id)
            continue
        scheduler.add_job(spec.func, trigger=spec.trigger, args=spec.args, id=spec.id, name=spec.name,
                          replace_existing=True)
        report["replaced" if old is not None else "added"].append(spec.id)
    for job_id in existing:
        if job_id not in wanted and job_id.startswith((CRAWL_PREFIX, DIGEST_PREFIX)):
            scheduler.remove_job(job_id)
            report["removed"].append(job_id)
    return report


def _job_listener(event: Any) -> None:
    from apscheduler.events import EVENT_JOB_MISSED

    if getattr(event, "exception", None) is not None:
        logger.error("job %s failed: %s", event.job_id, event.exception)
    elif event.code == EVENT_JOB_MISSED:
        logger.warning("job %s missed its run at %s (past the misfire grace time)",
                       event.job_id, event.scheduled_run_time)


def stop_children(grace: float = DEFAULT_STOP_TIMEOUT) -> None:
    """Forward a stop to running crawl children; kill those that outlive ``grace`` seconds."""
    with _children_lock:
        children = list(_children)
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()


def run_schedule(config: Config, *, database_url_override: str | None = None,
                 jitter: int = DEFAULT_JITTER, daily_hour: int = DEFAULT_DAILY_HOUR,
                 weekly_day: str = "mon", immediate_interval: int = DEFAULT_IMMEDIATE_INTERVAL,
                 misfire_grace: int = DEFAULT_MISFIRE_GRACE, max_runtime: float | None = None,
                 once: bool = False, stop_timeout: float = DEFAULT_STOP_TIMEOUT,
                 timezone: Any = None) -> int:
    """Run the daemon until SIGTERM/SIGINT (or ``max_runtime`` seconds); returns the exit code.

    ``once``: store the jobs, run every source's crawl now (under its lease) and the immediate
    digest, then stop.
    """
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED

    from monitor.digest import sync_subscribers

    _stopping.clear()
    engine = make_engine(config.database_url)
    from storage.db import check_schema

    check_schema(engine)
    sessions = session_factory(engine)
    digests = bool(config.smtp)
    if digests:
        from monitor.mailer import smtp_settings

        smtp_settings(config)  # a broken [smtp] is a start-up error, not a failure at 07:00
    else:
        logger.warning("no [smtp] in the config: digest jobs are not scheduled")
    sync_subscribers(config, sessions)  # ConfigError on a bad [[subscribers]] entry, now

    specs = desired_jobs(config, database_url=database_url_override, jitter=jitter,
                         daily_hour=daily_hour, weekly_day=weekly_day,
                         immediate_interval=immediate_interval, timezone=timezone, digests=digests)
    scheduler = make_scheduler(config.database_url, misfire_grace=misfire_grace, timezone=timezone)
    scheduler.add_listener(_job_listener, EVENT_JOB_ERROR | EVENT_JOB_MISSED)

    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        logger.info("received %s: stopping", signal.Signals(signum).name)
        _stopping.set()
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        scheduler.start(paused=True)
        report = sync_jobs(scheduler, specs)
        logger.info("jobs: %s", "; ".join(f"{k} {', '.join(v)}" for k, v in report.items() if v) or "none")
        if once:
            # every scheduled source at once, in one child (each under its lease)
            due = [spec.args[1] for spec in specs if spec.id.startswith(CRAWL_PREFIX)]
            if due and not stop.is_set():
                crawl_sources(config, due)
            if digests and not stop.is_set():
                digest_job(str(config.path) if config.path else None, "immediate", database_url_override)
            return 0
        scheduler.resume()
        for job in scheduler.get_jobs():
            logger.info("scheduled %s: next run %s", job.id, job.next_run_time)
        deadline = None if max_runtime is None else time.monotonic() + max_runtime
        while not stop.is_set():
            wait = 1.0 if deadline is None else min(1.0, max(0.0, deadline - time.monotonic()))
            if deadline is not None and wait <= 0:
                logger.info("max runtime of %ss reached: stopping", max_runtime)
                break
            stop.wait(wait)
        return 0
    finally:
        _stopping.set()
        if scheduler.running:
            scheduler.shutdown(wait=False)
        stop_children(stop_timeout)
        released = release_all(sessions, HOLDER)
        if released:
            logger.info("released %d lease(s)", released)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        engine.dispose()
        logger.info("scheduler stopped")


# -- status -----------------------------------------------------------------------------------
def stored_jobs(database_url: str) -> dict[str, dict[str, Any]]:
    """The jobs in the job store by id (next_run_time, name); empty if the scheduler never ran."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from sqlalchemy import inspect

    engine = make_engine(database_url)
    try:
        if JOBS_TABLE not in inspect(engine).get_table_names():
            return {}
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

        store = SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)
        store.start(BackgroundScheduler(), "default")
        out = {}
        for job in store.get_all_jobs():
            out[job.id] = {"next_run_time": job.next_run_time, "name": job.name}
        return out
    finally:
        engine.dispose()


def next_cron_run(expr: str, now: datetime | None = None, timezone: Any = None) -> datetime | None:
    import tzlocal

    tz = timezone or tzlocal.get_localzone()
    now = (now or datetime.now(tz)).astimezone(tz)
    trigger = cron_trigger(expr, timezone=tz)
    return trigger.get_next_fire_time(None, now)


def source_status(config: Config) -> list[dict[str, Any]]:
    """Per configured source: the last run, the next scheduled run and consecutive failures."""
    from storage.db import check_schema, session_scope
    from storage.documents import source_by_name
    from storage.runs import consecutive_failures, last_run

    engine = make_engine(config.database_url)
    check_schema(engine)
    sessions = session_factory(engine)
    jobs = stored_jobs(config.database_url)
    items = []
    with session_scope(sessions) as session:
        for source in config.sources:
            row = source_by_name(session, source.name)
            run = last_run(session, row.id) if row else None
            job = jobs.get(CRAWL_PREFIX + source.name)
            if job is not None:
                next_run, origin = job["next_run_time"], "job store"
            elif source.schedule:
                next_run, origin = next_cron_run(source.schedule), "cron"
            else:
                next_run, origin = None, "not scheduled"
            items.append({
                "source": source.name,
                "schedule": source.schedule,
                "last_run": None if run is None else {
                    "run_id": run.id, "trigger": run.trigger, "status": run.status,
                    "started_at": run.started_at.isoformat(timespec="seconds"),
                    "finished_at": run.finished_at.isoformat(timespec="seconds") if run.finished_at else None,
                    "pages_fetched": run.pages_fetched, "documents_seen": run.documents_seen,
                    "documents_new": run.documents_new, "versions_new": run.versions_new,
                    "errors": run.errors, "message": run.message,
                },
                "next_run": next_run.isoformat(timespec="seconds") if next_run else None,
                "next_run_from": origin,
                "consecutive_failures": consecutive_failures(session, row.id) if row else 0,
            })
    engine.dispose()
    return items


