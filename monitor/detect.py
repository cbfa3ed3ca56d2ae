"""After a crawl run: compare what it stored with what came before and write change events.

Reads stored versions and structure only; never parses HTML.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.extract.keys import canonical_key
from monitor.config import DetectionSettings
from storage.events import add_event
from storage.models import CrawlRun, Document, SourceRow, Version, utcnow
from storage.runs import errors_of_run

logger = logging.getLogger(__name__)


@dataclass
class DetectionResult:
    run_id: int
    baseline: bool
    events: int


def detect_run(session: Session, run_id: int, settings: DetectionSettings) -> DetectionResult:
    """Write the change events of one finished crawl run."""
    run = session.get(CrawlRun, run_id)
    if run is None:
        raise LookupError(f"no crawl run {run_id}")
    source = session.get(SourceRow, run.source_id) if run.source_id else None
    baseline = source is not None and source.baseline_at is None and run.trigger != "url"
    silent = baseline and settings.baseline
    count = 0
    # Only ids first: a run may have written thousands of versions, each with its text and
    # structure; they are loaded one pair at a time and let go after.
    written = session.execute(
        select(Version.id, Version.document_id, Version.seq)
        .where(Version.crawl_run_id == run_id).order_by(Version.id)
    ).all()
    for version_id, document_id, seq in written:
        if seq == 1 and silent:
            continue  # a baseline flags nothing: don't even load the version
        doc = session.get(Document, document_id)
        version = session.get(Version, version_id)
        if doc is None or version is None:
            continue
        previous = None
        if seq == 1:
            count += _new_document(session, doc, version)
        else:
            previous = session.scalar(select(Version).where(
                Version.document_id == doc.id, Version.seq == seq - 1))
            if previous is not None:
                count += _version_changed(session, doc, previous, version)
        session.flush()
        for loaded in (version, previous):
            if loaded is not None:
                session.expunge(loaded)
    if source is not None:
        count += _removals(session, source, run, settings, silent)
        if baseline and run.status in ("ok", "partial") and run.documents_seen > 0:
            source.baseline_at = utcnow()
    return DetectionResult(run_id=run_id, baseline=silent, events=count)


def _new_document(session: Session, doc: Document, version: Version) -> int:
    # The same post listed by two sources of one site is one document to the reader.
    twin = session.scalar(select(Document).where(
        Document.canonical_key == doc.canonical_key, Document.id != doc.id,
        Document.first_seen_at <= doc.first_seen_at))
    if twin is not None:
        return 0
    meta = (version.structure or {}).get("metadata") or {}
    previous_edition = _previous_edition(session, doc)
    count = 0
    if previous_edition is not None:
        old_doc, old_version = previous_edition
        add_event(session, type="new_edition", source_id=doc.source_id, document_id=doc.id,
                  related_document_id=old_doc.id, version_to_id=version.id,
                  version_from_id=old_version.id, before=old_doc.title, after=doc.title,
                  summary=f"新一版: {doc.title}(上一版: {old_doc.title})",
                  details={"series_key": doc.series_key, "previous_document_id": old_doc.id})
        count += 1
        count += _store_drafts(session, doc, old_version, version, _compare("editions", old_version,
                                                                           version))
    else:
        number = f" {doc.doc_number}" if doc.doc_number else ""
        add_event(session, type="new_document", source_id=doc.source_id, document_id=doc.id,
                  version_to_id=version.id, after=doc.title,
                  summary=f"新文件: {doc.title}{number}",
                  details={"kind": meta.get("kind"), "published": meta.get("published")})
        count += 1
    count += _injected(session, doc, None, version)
    return count


def _previous_edition(session: Session, doc: Document) -> tuple[Document, Version] | None:
    if not doc.series_key:
        return None
    candidates = session.scalars(select(Document).where(
        Document.series_key == doc.series_key, Document.id != doc.id,
        Document.first_seen_at <= doc.first_seen_at))
    best: tuple[Document, Version] | None = None
    for other in candidates:
        if other.canonical_key == doc.canonical_key:
            continue
        if doc.year is not None and other.year is not None and other.year >= doc.year:
            continue
        version = session.scalar(select(Version).where(Version.document_id == other.id)
                                 .order_by(Version.seq.desc()).limit(1))
        if version is None:
            continue
        if best is None or (other.year or 0, other.id) > (best[0].year or 0, best[0].id):
            best = (other, version)
    return best


def _version_changed(session: Session, doc: Document, previous: Version, version: Version) -> int:
    if _twin_reported(session, doc, previous, version):
        return 0
    return _store_drafts(session, doc, previous, version, _compare("versions", previous, version))


def _twin_reported(session: Session, doc: Document, previous: Version, version: Version) -> bool:
    """The same post in another source already went through this very revision."""
    twins = select(Document.id).where(Document.canonical_key == doc.canonical_key,
                                      Document.id != doc.id)
    candidates = session.scalars(select(Version).where(
        Version.document_id.in_(twins), Version.content_hash == version.content_hash,
        Version.id < version.id, Version.seq > 1))
    for twin_version in candidates:
        before = session.scalar(select(Version.content_hash).where(
            Version.document_id == twin_version.document_id, Version.seq == twin_version.seq - 1))
        if before == previous.content_hash:
            return True
    return False


def _compare(mode: str, old: Version, new: Version) -> list[Any]:
    try:
        from monitor.compare import compare_editions, compare_versions
    except ImportError:  # the compare engine is optional until it lands
        return []
    old_view, new_view = version_view(old), version_view(new)
    if mode == "editions":
        return compare_editions(old_view, new_view)
    return compare_versions(old_view, new_view)


def version_view(version: Version) -> Any:
    from monitor.events import VersionView

    return VersionView(title=version.title, normalized_text=version.normalized_text,
                       structure=version.structure or {}, attachments=list(version.attachments or []))


def _store_drafts(session: Session, doc: Document, old: Version, new: Version,
                  drafts: list[Any]) -> int:
    for draft in drafts:
        add_event(session, type=str(draft.type), source_id=doc.source_id, document_id=doc.id,
                  version_from_id=old.id, version_to_id=new.id, task_label=draft.task_label,
                  task_title=draft.task_title, before=draft.before, after=draft.after,
                  summary=draft.summary, details=draft.details)
    return len(drafts)


def _injected(session: Session, doc: Document, old: Version | None, new: Version) -> int:
    """Spam on a first version is an alert too (later versions go through the compare engine)."""
    if old is not None:
        return 0
    injected = (new.structure or {}).get("injected") or []
    if not injected:
        return 0
    texts = "; ".join(i.get("text", "") for i in injected)[:300]
    add_event(session, type="content_injected", source_id=doc.source_id, document_id=doc.id,
              version_to_id=new.id, after=texts,
              summary=f"页面含有非政府内容(疑似被篡改): {texts[:80]}",
              details={"injected": injected})
    return 1


def _removals(session: Session, source: SourceRow, run: CrawlRun, settings: DetectionSettings,
              silent: bool) -> int:
    """document_removed after N consecutive 404/410, or N complete listings without it."""
    count = 0
    if run.listing_complete and run.trigger != "url":
        # Pages that failed this run were counted by their own 404 already (or must not count).
        failed = {canonical_key(e.url) for e in errors_of_run(session, run.id)}
        missing = session.scalars(select(Document).where(
            Document.source_id == source.id, Document.status == "active",
            Document.last_seen_at < run.started_at))
        for doc in missing:
            if doc.canonical_key not in failed:
                doc.missing_count += 1
    gone = session.scalars(select(Document).where(
        Document.source_id == source.id, Document.status == "active",
        Document.missing_count >= settings.removal_threshold))
    for doc in gone:
        doc.status = "removed"
        if not silent:
            add_event(session, type="document_removed", source_id=source.id, document_id=doc.id,
                      before=doc.title,
                      summary=f"文件已撤下或不可访问: {doc.title}",
                      details={"missing_count": doc.missing_count})
            count += 1
    return count


