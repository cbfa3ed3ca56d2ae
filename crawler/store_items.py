"""Store what a crawl yields (pages, 304s, failures), many items per transaction.

``ItemStore.write`` takes a batch of jobs and writes them in one transaction. If that fails, it
writes each job again in a transaction of its own, so one bad page costs only itself, and the
failure is recorded as a fetch error: a page is never silently lost. It runs wherever the
pipeline puts it: in the crawl process, or in the storage process (``crawler.store_process``),
which is why jobs are plain picklable data and the outcome of each is returned, not logged.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crawler.analysis import Analysis, analyse
from crawler.extract.keys import canonical_key
from crawler.extract.page import ExtractionError
from crawler.items import DetailPage, FetchedAttachment, FetchFailure, ListingPage, NotModified
from crawler.snapshot import attachments_changed, build_snapshot, content_hash, resolve_attachments
from storage.db import make_engine, session_factory, session_scope
from storage.documents import (
    Lookahead,
    latest_page,
    look_ahead,
    mark_missing,
    raw_hash,
    store_attachment_blob,
    store_snapshot,
    stored_raw_hash,
    touch,
)
from storage.runs import record_fetch_error

logger = logging.getLogger(__name__)


@dataclass
class StoreJob:
    """One item of a crawl to store, with the source and run it belongs to."""

    item: Any
    source_id: int
    run_id: int | None

    @property
    def url(self) -> str:
        return str(getattr(self.item, "url", "?"))


@dataclass
class Stored:
    """What storing one job did: the run's counts it adds, and the storage failure (already
    recorded as a fetch error) when there was one."""

    counts: Counter[str] = field(default_factory=Counter)
    error: str | None = None


class ItemStore:
    """Writes jobs to one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)
        self.transactions = 0

    @classmethod
    def open(cls, database_url: str) -> ItemStore:
        return cls(make_engine(database_url))

    def close(self) -> None:
        self.engine.dispose()

    def write(self, jobs: list[StoreJob]) -> list[Stored]:
        """Store ``jobs`` in one transaction; if it fails, each one alone."""
        results = [Stored() for _ in jobs]
        try:
            with session_scope(self.sessions) as session:
                ahead = _look_ahead(session, jobs)
                for job, result in zip(jobs, results, strict=True):
                    store_job(session, job, result.counts, ahead)
                    # every flush walks every object the session holds: without this a batch
                    # of n pages would cost n² (the rows are written, only forgotten)
                    session.flush()
                    session.expunge_all()
        except Exception as exc:
            if len(jobs) == 1:
                return [self.record_failure(jobs[0], f"{type(exc).__name__}: {exc}")]
            # find the bad one: each job in its own transaction
            return [self.write([job])[0] for job in jobs]
        self.transactions += 1
        return results

    def record_failure(self, job: StoreJob, reason: str) -> Stored:
        """Record that a job could not be stored (its page is a fetch error of the run)."""
        stored = Stored(Counter(errors=1), f"storage error: {reason}"[:500])
        try:
            with session_scope(self.sessions) as session:
                record_error(session, job.run_id, job.source_id, job.url, None, stored.error or "")
        except Exception as exc:  # the database itself is gone: the caller's log is all that is left
            stored.error = f"{stored.error}; recording it failed too: {type(exc).__name__}: {exc}"[:1000]
        return stored


def _look_ahead(session: Session, jobs: list[StoreJob]) -> Lookahead | None:
    """The batch's lookups asked at once (storage.documents.Lookahead), for its parsed pages;
    not on SQLite, in-process, where a query a page costs a few µs and SQLAlchemy's IN query
    for the batch more."""
    if session.get_bind().dialect.name == "sqlite":
        return None
    pages = [(job.source_id, job.item.analysis.snapshot) for job in jobs
             if isinstance(job.item, DetailPage) and job.item.analysis is not None
             and job.item.analysis.snapshot is not None]
    return look_ahead(session, pages) if len(pages) > 1 else None


def store_job(session: Session, job: StoreJob, counts: Counter[str],
              lookahead: Lookahead | None = None) -> None:
    """Store one item in the session's transaction and count it for the run."""
    item, source_id, run_id = job.item, job.source_id, job.run_id
    if isinstance(item, ListingPage):
        counts["pages_fetched"] += 1
    elif isinstance(item, DetailPage):
        counts["pages_fetched"] += 1
        _store_detail(session, item, source_id, run_id, counts, lookahead)
    elif isinstance(item, NotModified):
        counts["pages_fetched"] += 1
        counts["not_modified"] += 1
        _store_not_modified(session, item, source_id, run_id, counts)
    elif isinstance(item, FetchFailure):
        counts["errors"] += 1
        record_error(session, run_id, source_id, item.url, item.status, item.reason, item.attempts)
        if item.detail and item.status in (404, 410):
            mark_missing(session, source_id, canonical_key(item.url))
    else:
        raise TypeError(f"not a crawl item: {type(item).__name__}")


def record_error(session: Session, run_id: int | None, source_id: int, url: str, status: int | None,
                 reason: str, attempts: int = 1) -> None:
    error = record_fetch_error(session, run_id=run_id, source_id=source_id, url=url,
                               status=status, reason=reason)
    if attempts > 1:
        error.attempts = max(error.attempts, attempts)


def _store_detail(session: Session, item: DetailPage, source_id: int, run_id: int | None,
                  counts: Counter[str], lookahead: Lookahead | None = None) -> None:
    entries, files = resolve_attachments(item.attachments, item.previous_attachments)
    fetched_hash = raw_hash(item.body)
    key = canonical_key(item.url)
    if item.raw_unchanged or item.analysis is None:
        if (stored_raw_hash(session, source_id, key) == fetched_hash
                and not attachments_changed(entries, item.previous_attachments)):
            # the very bytes already stored: nothing to parse, nothing to write
            touch(session, source_id, key, item.url, etag=item.etag,
                  last_modified=item.last_modified, fetched_raw_hash=fetched_hash)
            _record_attachment_problems(session, item.attachments, source_id, run_id, counts)
            counts["documents_seen"] += 1
            counts["unchanged"] += 1
            counts["raw_unchanged"] += 1
            return
    analysis: Analysis | None = item.analysis
    if analysis is None:  # the spider skipped equal bytes, but the stored page changed since
        analysis = analyse(item.url, item.body, item.content_type)
    if analysis.snapshot is None:
        counts["errors"] += 1
        record_error(session, run_id, source_id, item.url, item.status, analysis.error or "unreadable page")
        return
    snapshot = analysis.snapshot
    snapshot.raw = item.body
    snapshot.status = item.status
    snapshot.etag = item.etag
    snapshot.last_modified = item.last_modified
    if entries != snapshot.attachments:  # else the hash the worker made holds (no attachments)
        snapshot.attachments = entries
        snapshot.content_hash = content_hash(snapshot.title, snapshot.normalized_text,
                                             snapshot.structure, entries)
    _store(session, snapshot, files, item.attachments, source_id, run_id, counts, lookahead)


def _store_not_modified(session: Session, item: NotModified, source_id: int, run_id: int | None,
                        counts: Counter[str]) -> None:
    entries, files = resolve_attachments(item.attachments, item.previous_attachments)
    key = canonical_key(item.url)
    stored = None
    if attachments_changed(entries, item.previous_attachments):
        stored = latest_page(session, source_id, key)
    if stored is None:
        touch(session, source_id, key, item.url)
        _record_attachment_problems(session, item.attachments, source_id, run_id, counts)
        counts["documents_seen"] += 1
        counts["unchanged"] += 1
        return
    # the page holds but an attachment changed: rebuild the stored page with it
    try:
        snapshot = build_snapshot(item.url, stored.raw, stored.content_type, status=200,
                                  etag=stored.etag, last_modified=stored.last_modified,
                                  attachments=entries)
    except ExtractionError as exc:
        counts["errors"] += 1
        record_error(session, run_id, source_id, item.url, 200, f"unreadable page: {exc}")
        return
    _store(session, snapshot, files, item.attachments, source_id, run_id, counts)


def _store(session: Session, snapshot: Any, files: list[Any], fetched: list[FetchedAttachment],
           source_id: int, run_id: int | None, counts: Counter[str],
           lookahead: Lookahead | None = None) -> None:
    for file in files:
        store_attachment_blob(session, content_hash=file.content_hash, raw=file.raw,
                              mime=file.mime, text=file.text, text_status=file.text_status,
                              text_error=file.text_error, url=file.url)
    outcome = store_snapshot(session, source_id, snapshot, run_id=run_id, lookahead=lookahead)
    _record_attachment_problems(session, fetched, source_id, run_id, counts)
    counts["documents_seen"] += 1
    if outcome.status == "new":
        counts["documents_new"] += 1
        counts["versions_new"] += 1
    elif outcome.status == "changed":
        counts["versions_new"] += 1
    else:
        counts["unchanged"] += 1


def _record_attachment_problems(session: Session, fetched: list[FetchedAttachment], source_id: int,
                                run_id: int | None, counts: Counter[str]) -> None:
    for att in fetched:
        if att.status in ("failed", "too_large"):
            counts["errors"] += 1
            counts["attachment_errors"] += 1
            record_error(session, run_id, source_id, att.url, att.http_status,
                         f"attachment {att.status}: {att.reason or ''}".strip())
