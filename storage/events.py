"""Store and query change events; rows come back as the public JSON contract."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from storage.models import ChangeEvent, Document, SourceRow, Version, utcnow


def add_event(session: Session, *, type: str, source_id: int | None, document_id: int | None,
              summary: str, version_from_id: int | None = None, version_to_id: int | None = None,
              task_label: str | None = None, task_title: str | None = None,
              before: str | None = None, after: str | None = None,
              details: dict[str, Any] | None = None, related_document_id: int | None = None,
              detected_at: datetime | None = None) -> ChangeEvent:
    event = ChangeEvent(
        type=type, detected_at=detected_at or utcnow(), source_id=source_id,
        document_id=document_id, related_document_id=related_document_id,
        version_from_id=version_from_id, version_to_id=version_to_id, task_label=task_label,
        task_title=task_title, before=before, after=after, summary=summary, details=details or {},
    )
    session.add(event)
    session.flush()
    return event


def query_events(session: Session, *, since: datetime | None = None, source: str | None = None,
                 types: list[str] | None = None, document_id: int | None = None,
                 after_id: int | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Events, oldest first, as dicts in the public contract's shape."""
    vfrom = aliased(Version)
    vto = aliased(Version)
    query = (
        select(ChangeEvent, SourceRow.name, Document, vfrom.seq, vto.seq)
        .outerjoin(SourceRow, ChangeEvent.source_id == SourceRow.id)
        .outerjoin(Document, ChangeEvent.document_id == Document.id)
        .outerjoin(vfrom, ChangeEvent.version_from_id == vfrom.id)
        .outerjoin(vto, ChangeEvent.version_to_id == vto.id)
    )
    if since is not None:
        query = query.where(ChangeEvent.detected_at >= since)
    if source:
        query = query.where(SourceRow.name == source)
    if types:
        query = query.where(ChangeEvent.type.in_(types))
    if document_id is not None:
        query = query.where(ChangeEvent.document_id == document_id)
    if after_id is not None:
        query = query.where(ChangeEvent.id > after_id)
    query = query.order_by(ChangeEvent.id)
    if limit:
        query = query.limit(limit)
    return [
        event_dict(event, source_name, doc, seq_from, seq_to)
        for event, source_name, doc, seq_from, seq_to in session.execute(query)
    ]


def event_dict(event: ChangeEvent, source_name: str | None, doc: Document | None,
               seq_from: int | None, seq_to: int | None) -> dict[str, Any]:
    task = None
    if event.task_label is not None or event.task_title is not None:
        task = {"label": event.task_label, "title": event.task_title}
    return {
        "id": event.id,
        "type": event.type,
        "detected_at": event.detected_at.isoformat(timespec="seconds"),
        "source": source_name,
        "document": None if doc is None else {
            "id": doc.id, "url": doc.url, "title": doc.title, "doc_number": doc.doc_number,
        },
        "version_from": seq_from,
        "version_to": seq_to,
        "task": task,
        "before": event.before,
        "after": event.after,
        "summary": event.summary,
    }


def events_for_versions(session: Session, version_to_id: int) -> list[ChangeEvent]:
    return list(session.scalars(select(ChangeEvent).where(ChangeEvent.version_to_id == version_to_id)))
