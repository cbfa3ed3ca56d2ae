"""Subscribers: who gets digests, how often, with which filters (from the config or the CLI)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Subscriber, utcnow


def get_subscriber(session: Session, email: str) -> Subscriber | None:
    return session.scalar(select(Subscriber).where(func.lower(Subscriber.email) == email.lower()))


def upsert_subscriber(session: Session, email: str, *, cadence: str, filters: dict[str, Any],
                      origin: str) -> tuple[Subscriber, bool]:
    """Create or update a subscriber by address (case-insensitive); True when it was created."""
    row = get_subscriber(session, email)
    if row is None:
        row = Subscriber(email=email, cadence=cadence, filters=filters, origin=origin,
                         created_at=utcnow())
        session.add(row)
        session.flush()
        return row, True
    row.cadence = cadence
    row.filters = filters
    row.origin = origin
    return row, False


def remove_subscriber(session: Session, email: str) -> Subscriber | None:
    """Delete a subscriber (its delivery ledger goes with it); the removed row, or None."""
    row = get_subscriber(session, email)
    if row is not None:
        session.delete(row)
        session.flush()
    return row


def list_subscribers(session: Session, *, cadence: str | None = None,
                     email: str | None = None) -> list[Subscriber]:
    query = select(Subscriber)
    if cadence:
        query = query.where(Subscriber.cadence == cadence)
    if email:
        query = query.where(func.lower(Subscriber.email) == email.lower())
    return list(session.scalars(query.order_by(Subscriber.email)))


def sync_config_subscribers(session: Session, entries: list[dict[str, Any]]) -> dict[str, int]:
    """Make the config's subscribers the rows with origin "config".

    ``entries`` are validated dicts with email, cadence and filters. A config entry takes over a
    CLI row with the same address; a config row whose entry left the config is removed.
    Returns counts: added, updated, removed.
    """
    counts = {"added": 0, "updated": 0, "removed": 0}
    wanted = {e["email"].lower() for e in entries}
    for entry in entries:
        row = get_subscriber(session, entry["email"])
        if row is not None and (row.cadence, row.filters, row.origin) == (
                entry["cadence"], entry["filters"], "config"):
            continue
        _, created = upsert_subscriber(session, entry["email"], cadence=entry["cadence"],
                                       filters=entry["filters"], origin="config")
        counts["added" if created else "updated"] += 1
    for row in list(session.scalars(select(Subscriber).where(Subscriber.origin == "config"))):
        if row.email.lower() not in wanted:
            session.delete(row)
            counts["removed"] += 1
    session.flush()
    return counts
