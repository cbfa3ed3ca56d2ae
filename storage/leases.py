"""Named leases in the database: at most one holder across processes, expiring if the holder dies.

Acquiring is one atomic statement on every backend: an UPDATE that takes the row over only when it
has expired or already belongs to the caller (rowcount says whether it did), else an INSERT that the
primary key makes fail when another process got there first. No SELECT-then-write race.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import session_scope
from storage.models import Lease, utcnow


def make_holder(role: str = "pw") -> str:
    """A holder id unique to this process: host, pid and a random part (pids are reused)."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(sessions: sessionmaker[Session], name: str, holder: str, ttl: float,
            *, now: datetime | None = None) -> bool:
    """Take the lease ``name`` for ``ttl`` seconds; True when ``holder`` now holds it.

    Re-acquiring a lease one already holds extends it. Each attempt is its own transaction.
    """
    now = now or utcnow()
    expires = now + timedelta(seconds=ttl)
    with session_scope(sessions) as session:
        taken = session.execute(
            update(Lease)
            .where(Lease.name == name, or_(Lease.expires_at < now, Lease.holder == holder))
            .values(holder=holder, acquired_at=now, expires_at=expires)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:
            return True
    try:
        with session_scope(sessions) as session:
            session.add(Lease(name=name, holder=holder, acquired_at=now, expires_at=expires))
            session.flush()
    except IntegrityError:
        return False  # another holder has a live lease (or inserted it a moment ago)
    return True


def renew(sessions: sessionmaker[Session], name: str, holder: str, ttl: float,
          *, now: datetime | None = None) -> bool:
    """Extend a lease ``holder`` still holds; False when it was lost (expired and taken over)."""
    now = now or utcnow()
    with session_scope(sessions) as session:
        result = session.execute(
            update(Lease)
            .where(Lease.name == name, Lease.holder == holder)
            .values(expires_at=now + timedelta(seconds=ttl))
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


def release(sessions: sessionmaker[Session], name: str, holder: str) -> bool:
    """Give a lease back; only its holder can. True when a row was released."""
    with session_scope(sessions) as session:
        result = session.execute(
            delete(Lease).where(Lease.name == name, Lease.holder == holder)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


def release_all(sessions: sessionmaker[Session], holder: str) -> int:
    """Give back every lease of ``holder`` (a clean shutdown)."""
    with session_scope(sessions) as session:
        result = session.execute(
            delete(Lease).where(Lease.holder == holder).execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)


def current(sessions: sessionmaker[Session], name: str) -> Lease | None:
    """The lease row, live or expired, or None."""
    with session_scope(sessions) as session:
        return session.scalar(select(Lease).where(Lease.name == name))


def live_leases(sessions: sessionmaker[Session], *, now: datetime | None = None) -> list[Lease]:
    now = now or utcnow()
    with session_scope(sessions) as session:
        return list(session.scalars(select(Lease).where(Lease.expires_at >= now).order_by(Lease.name)))
