"""Crawl runs and fetch errors (errors are data, kept with their reason and attempt count), and
the start of a run: claiming it, marking dead runs interrupted, full sweep or incremental walk."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import CrawlRun, FetchError, SourceRow, utcnow

# A run not ended yet: "queued" until its source's turn comes (a crawl takes a few sources at a
# time), then "running".
OPEN = ("queued", "running")


def start_run(session: Session, source_id: int | None, trigger: str = "manual", *,
              queued: bool = False) -> CrawlRun:
    """Open a run. ``queued``: its crawl starts later (``begin_crawl``, when its turn comes). The
    opening process is recorded either way, so a queued run of a process that died is found."""
    run = CrawlRun(source_id=source_id, trigger=trigger, started_at=utcnow(),
                   status="queued" if queued else "running", pid=os.getpid(),
                   host=socket.gethostname()[:255])
    session.add(run)
    session.flush()
    return run


def finish_run(session: Session, run_id: int, *, status: str, counts: dict[str, Any],
               message: str | None = None) -> CrawlRun:
    run = session.get(CrawlRun, run_id)
    if run is None:
        raise LookupError(f"no crawl run {run_id}")
    run.finished_at = utcnow()
    run.status = status
    for key in ("pages_fetched", "documents_seen", "documents_new", "versions_new", "unchanged",
                "errors"):
        if key in counts:
            setattr(run, key, int(counts[key]))
    run.listing_complete = bool(counts.get("listing_complete", False))
    run.message = message
    return run


def record_fetch_error(session: Session, *, run_id: int | None, source_id: int | None, url: str,
                       status: int | None, reason: str) -> FetchError:
    """Record a failed fetch; a repeat of the same URL in the same run counts as another attempt."""
    existing = session.scalar(
        select(FetchError).where(FetchError.crawl_run_id == run_id, FetchError.url == url)
    )
    if existing is not None:
        existing.attempts += 1
        existing.status = status
        existing.reason = reason[:2000]
        existing.occurred_at = utcnow()
        return existing
    error = FetchError(crawl_run_id=run_id, source_id=source_id, url=url, status=status,
                       reason=reason[:2000])
    session.add(error)
    session.flush()
    return error


def errors_of_run(session: Session, run_id: int) -> list[FetchError]:
    return list(session.scalars(select(FetchError).where(FetchError.crawl_run_id == run_id)
                                .order_by(FetchError.id)))


def recent_runs(session: Session, *, source: str | None = None, limit: int = 20) -> list[CrawlRun]:
    query = select(CrawlRun)
    if source:
        query = query.join(SourceRow, CrawlRun.source_id == SourceRow.id).where(SourceRow.name == source)
    return list(session.scalars(query.order_by(CrawlRun.id.desc()).limit(limit)))


def last_run(session: Session, source_id: int) -> CrawlRun | None:
    return session.scalar(select(CrawlRun).where(CrawlRun.source_id == source_id)
                          .order_by(CrawlRun.id.desc()).limit(1))


def consecutive_failures(session: Session, source_id: int) -> int:
    count = 0
    for run in session.scalars(select(CrawlRun).where(CrawlRun.source_id == source_id,
                                                      CrawlRun.status.not_in(OPEN))
                               .order_by(CrawlRun.id.desc()).limit(50)):
        if run.status == "failed":
            count += 1
        else:
            break
    return count


def runs_since(session: Session, since: datetime) -> list[CrawlRun]:
    return list(session.scalars(select(CrawlRun).where(CrawlRun.started_at >= since)))


# -- the start of a crawl run ------------------------------------------------------------------

STALE_RUN_WITHOUT_PID = timedelta(hours=6)


@dataclass(frozen=True)
class CrawlPlan:
    """How a run walks its source: a full sweep of every list page or an incremental walk."""

    full_sweep: bool
    reason: str
    interrupted_runs: list[int]


def begin_crawl(session: Session, source_id: int, run_id: int, *, full_sweep_every: int = 10,
                now: datetime | None = None) -> CrawlPlan:
    """Claim a run for this process (a queued run starts running now), mark runs of the source
    left open by a dead process as 'interrupted', and decide whether this run sweeps the whole
    listing.

    A run walks incrementally (stops paging at the first list page with only known documents)
    only when the previous run finished its walk cleanly and fewer than ``full_sweep_every``
    runs passed since the last complete sweep.
    """
    now = now or utcnow()
    run = session.get(CrawlRun, run_id)
    if run is None:
        raise LookupError(f"no crawl run {run_id}")
    run.pid = os.getpid()
    run.host = socket.gethostname()[:255]
    if run.status == "queued":  # its time counts from its turn, not from the wait before it
        run.status = "running"
        run.started_at = now
    interrupted = []
    for other in session.scalars(select(CrawlRun).where(
            CrawlRun.source_id == source_id, CrawlRun.status.in_(OPEN), CrawlRun.id != run_id)):
        if _run_is_dead(other, now):
            other.status = "interrupted"
            other.finished_at = now
            other.listing_complete = False
            other.message = "interrupted: the crawling process died"
            interrupted.append(other.id)
    history = list(session.scalars(
        select(CrawlRun).where(CrawlRun.source_id == source_id, CrawlRun.id != run_id,
                               CrawlRun.trigger != "url", CrawlRun.status.not_in(OPEN))
        .order_by(CrawlRun.id.desc()).limit(max(full_sweep_every, 1) + 1)))
    plan = _plan(history, full_sweep_every)
    run.full_sweep = plan[0]
    return CrawlPlan(full_sweep=plan[0], reason=plan[1], interrupted_runs=interrupted)


def _plan(history: list[CrawlRun], every: int) -> tuple[bool, str]:
    if every <= 1:
        return True, "every run sweeps"
    if not history:
        return True, "first run"
    last = history[0]
    if last.status != "ok" or last.message:
        return True, f"previous run {last.id} was {last.status}"
    for index, run in enumerate(history):
        if run.full_sweep and run.listing_complete:
            if index + 1 >= every:
                return True, f"{index + 1} runs since the last full sweep"
            return False, "incremental"
    return True, "no complete sweep in recent runs"


def _run_is_dead(run: CrawlRun, now: datetime) -> bool:
    if run.pid is None:
        started = run.started_at
        return started is not None and now - started > STALE_RUN_WITHOUT_PID
    if run.host and run.host != socket.gethostname()[:255]:
        return False  # another machine's run: its own next crawl will judge it
    if run.pid == os.getpid():
        return False
    try:
        os.kill(run.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
