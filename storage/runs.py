"""Crawl runs and fetch errors: errors are data, kept with their reason and attempt count."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import CrawlRun, FetchError, SourceRow, utcnow


def start_run(session: Session, source_id: int | None, trigger: str = "manual") -> CrawlRun:
    run = CrawlRun(source_id=source_id, trigger=trigger, started_at=utcnow(), status="running")
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
                                                      CrawlRun.status != "running")
                               .order_by(CrawlRun.id.desc()).limit(50)):
        if run.status == "failed":
            count += 1
        else:
            break
    return count


def runs_since(session: Session, since: datetime) -> list[CrawlRun]:
    return list(session.scalars(select(CrawlRun).where(CrawlRun.started_at >= since)))
