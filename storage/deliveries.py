"""The delivery ledger: which event reached which subscriber, written after the SMTP server said yes.

One row per (subscriber, event), unique: an event is in a subscriber's digest until its row exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from storage.content import structures_by_version
from storage.events import event_dict
from storage.models import ChangeEvent, Delivery, Document, SourceRow, Subscriber, Version, utcnow


def undelivered_events(session: Session, subscriber_id: int, *, since: datetime | None = None,
                       sources: list[str] | None = None, types: list[str] | None = None,
                       kinds: list[str] | None = None) -> list[dict[str, Any]]:
    """Events not yet delivered to the subscriber, oldest first, in the public JSON shape plus
    ``details`` and ``document.kind`` (for filters and the digest).

    ``sources``, ``types`` and ``kinds`` narrow the query in SQL; text filters (keywords,
    departments) are applied by the caller.
    """
    vfrom = aliased(Version)
    vto = aliased(Version)
    delivered = exists().where(Delivery.subscriber_id == subscriber_id,
                               Delivery.event_id == ChangeEvent.id)
    query = (
        select(ChangeEvent, SourceRow.name, Document, vfrom.seq, vto.seq)
        .outerjoin(SourceRow, ChangeEvent.source_id == SourceRow.id)
        .outerjoin(Document, ChangeEvent.document_id == Document.id)
        .outerjoin(vfrom, ChangeEvent.version_from_id == vfrom.id)
        .outerjoin(vto, ChangeEvent.version_to_id == vto.id)
        .where(~delivered)
    )
    if since is not None:
        query = query.where(ChangeEvent.detected_at >= since)
    if sources:
        query = query.where(SourceRow.name.in_(sources))
    if types:
        query = query.where(ChangeEvent.type.in_(types))
    if kinds:
        query = query.where(Document.kind.in_(kinds))
    out = []
    for event, source_name, doc, seq_from, seq_to in session.execute(query.order_by(ChangeEvent.id)):
        item = event_dict(event, source_name, doc, seq_from, seq_to)
        item["details"] = event.details or {}
        item["version_from_id"] = event.version_from_id
        item["version_to_id"] = event.version_to_id
        if item["document"] is not None and doc is not None:
            item["document"]["kind"] = doc.kind
        out.append(item)
    return out


def version_structures(session: Session, version_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The structure JSON of some versions, by id (task departments for the digest)."""
    return {vid: structure or {} for vid, structure in structures_by_version(session, version_ids).items()}


def record_deliveries(session: Session, subscriber_id: int, event_ids: Iterable[int], *,
                      message_id: str | None, now: datetime | None = None) -> int:
    """Record that these events reached the subscriber (call right after the server accepted the
    message, and commit). Events already recorded are skipped. Returns the rows written."""
    now = now or utcnow()
    ids = sorted(set(event_ids))
    if not ids:
        return 0
    already = set(session.scalars(select(Delivery.event_id).where(
        Delivery.subscriber_id == subscriber_id, Delivery.event_id.in_(ids))))
    rows = [Delivery(subscriber_id=subscriber_id, event_id=i, delivered_at=now, message_id=message_id)
            for i in ids if i not in already]
    session.add_all(rows)
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is not None:
        subscriber.last_digest_at = now
    session.flush()
    return len(rows)


def delivery_counts(session: Session) -> dict[int, int]:
    """Delivered events per subscriber id."""
    return {sid: n for sid, n in session.execute(
        select(Delivery.subscriber_id, func.count(Delivery.id)).group_by(Delivery.subscriber_id))}


def deliveries_of(session: Session, subscriber_id: int) -> list[Delivery]:
    return list(session.scalars(select(Delivery).where(Delivery.subscriber_id == subscriber_id)
                                .order_by(Delivery.event_id)))
