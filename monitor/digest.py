"""Tell people what changed: per subscriber, the matching events not yet delivered, rendered as one
multipart email (plain text + HTML), sent, and then written to the delivery ledger.

Exactly-once rests on the order of two steps: the ledger rows are written, in one transaction,
only after ``send_message`` returned (the server accepted the message). A failed send records
nothing, so the events stay pending for the next run. The one window left is a crash between the
server's "250 OK" and the commit: then the next run sends those events again (at-least-once there,
never lost). One digest run at a time across processes, through the lease ``digest``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from monitor.config import Config, ConfigError
from monitor.mailer import MailerError, SmtpConnection, SmtpSettings, smtp_settings
from monitor.subscriptions import config_subscribers, matches
from storage.db import session_scope
from storage.deliveries import record_deliveries, undelivered_events, version_structures
from storage.documents import NotFound
from storage.leases import acquire, make_holder, release, renew
from storage.models import utcnow
from storage.subscribers import list_subscribers, sync_config_subscribers

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
DIGEST_LEASE = "digest"
DIGEST_LEASE_TTL = 600.0
MAX_EVENTS_PER_MESSAGE = 500  # the rest stays pending and follows in the next digest
NEW_SUBSCRIBER_BACKFILL = timedelta(days=7)  # a new subscriber gets the last week, not all history
SUBJECT_TITLE_CHARS = 40
PREVIEW_SENDER = Address(display_name="policywatch", addr_spec="policywatch@localhost")

TASK_TYPES = ("task_added", "task_removed", "task_reworded", "responsibility_changed", "target_changed")
NEW_TYPES = ("new_document", "new_edition")
TYPE_LABELS = {
    "new_document": "新文件", "new_edition": "新一期", "task_added": "新增任务",
    "task_removed": "删除任务", "task_reworded": "任务表述修改", "responsibility_changed": "责任单位变化",
    "target_changed": "目标调整", "wording_changed": "文字修改", "metadata_changed": "元数据变化",
    "attachment_changed": "附件变化", "document_removed": "文件已撤下", "content_injected": "疑似被篡改",
}
ROLE_LABELS = {"lead": "牵头", "responsible": "负责", "implementing": "落实"}


class DigestBusy(RuntimeError):
    """Another process is sending digests right now."""


# -- text helpers -----------------------------------------------------------------------------
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def header_safe(text: Any, limit: int | None = None) -> str:
    """Text fit for a mail header: no CR/LF or other control or format characters, spaces collapsed,
    cut to ``limit`` characters with …. Crawled titles are untrusted."""
    value = "" if text is None else str(text)
    value = "".join(" " if unicodedata.category(ch)[0] == "C" or ch in "\u2028\u2029" else ch
                    for ch in value)
    value = " ".join(value.split())
    if limit is not None and len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return value


def char_highlights(before: str, after: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(before segments, after segments): ("equal"|"del", text) and ("equal"|"ins", text)."""
    try:
        from monitor.textdiff import inline_diff

        return inline_diff(before, after)
    except Exception:  # another engineer's module, still moving: fall back to plain difflib
        logger.debug("monitor.textdiff unavailable, using difflib", exc_info=True)
    from difflib import SequenceMatcher

    left: list[tuple[str, str]] = []
    right: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if tag == "equal":
            left.append(("equal", before[i1:i2]))
            right.append(("equal", after[j1:j2]))
            continue
        if i2 > i1:
            left.append(("del", before[i1:i2]))
        if j2 > j1:
            right.append(("ins", after[j1:j2]))
    return left, right


# -- the digest model -------------------------------------------------------------------------
@dataclass
class DocumentGroup:
    document: dict[str, Any]
    new: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    wording: list[dict[str, Any]] = field(default_factory=list)
    other: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SourceGroup:
    name: str
    documents: list[DocumentGroup] = field(default_factory=list)


@dataclass
class Digest:
    events: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    sources: list[SourceGroup]
    subject: str
    text: str
    html: str

    @property
    def event_ids(self) -> list[int]:
        return [e["id"] for e in self.events]


def _task_departments(structure: dict[str, Any], label: str | None) -> dict[str, list[str]]:
    if not label:
        return {}
    for task in structure.get("tasks") or []:
        if task.get("label") == label:
            return {role: list(task.get(role) or []) for role in ROLE_LABELS if task.get(role)}
    return {}


def enrich_events(session: Session, events: list[dict[str, Any]]) -> None:
    """Add what the digest shows and the filters match on: task departments by role."""
    wanted = []
    for e in events:
        if e["type"] in TASK_TYPES and e.get("task"):
            wanted.append(e.get("version_from_id") if e["type"] == "task_removed" else e.get("version_to_id"))
    structures = version_structures(session, [w for w in wanted if w is not None])
    for e in events:
        roles: dict[str, list[str]] = {}
        if e["type"] in TASK_TYPES and e.get("task"):
            vid = e.get("version_from_id") if e["type"] == "task_removed" else e.get("version_to_id")
            roles = _task_departments(structures.get(vid) or {}, (e["task"] or {}).get("label"))
        e["roles"] = roles
        e["departments"] = [d for names in roles.values() for d in names]


def _present(event: dict[str, Any]) -> dict[str, Any]:
    """Template-ready view of one event (highlights, labels, department changes)."""
    before, after = event.get("before"), event.get("after")
    view = dict(event)
    view["label"] = TYPE_LABELS.get(event["type"], event["type"])
    task = event.get("task") or {}
    view["show_task"] = bool(task) and not (task.get("title") and task["title"] in (event.get("summary") or ""))
    view["before_segments"] = view["after_segments"] = None
    if before and after:
        view["before_segments"], view["after_segments"] = char_highlights(before, after)
    role_changes = []
    for role, change in ((event.get("details") or {}).get("roles") or {}).items():
        if role == "clause" or not isinstance(change, dict):
            continue
        role_changes.append({"role": ROLE_LABELS.get(role, role), "added": change.get("added") or [],
                             "removed": change.get("removed") or []})
    view["role_changes"] = role_changes
    view["role_list"] = [{"role": ROLE_LABELS[r], "names": names} for r, names in (event.get("roles") or {}).items()]
    return view


def group_events(events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[SourceGroup]]:
    """Alerts (content_injected) apart; the rest by source, then document, in event order."""
    alerts = [_present(e) for e in events if e["type"] == "content_injected"]
    sources: OrderedDict[str, OrderedDict[Any, DocumentGroup]] = OrderedDict()
    for e in events:
        if e["type"] == "content_injected":
            continue
        doc = e.get("document") or {"id": None, "url": None, "title": "(no document)", "doc_number": None}
        docs = sources.setdefault(e.get("source") or "-", OrderedDict())
        group = docs.setdefault(doc.get("id"), DocumentGroup(document=doc))
        view = _present(e)
        if e["type"] in NEW_TYPES:
            group.new.append(view)
        elif e["type"] in TASK_TYPES:
            group.tasks.append(view)
        elif e["type"] == "wording_changed":
            group.wording.append(view)
        else:
            group.other.append(view)
    return alerts, [SourceGroup(name, list(docs.values())) for name, docs in sources.items()]


def build_subject(events: list[dict[str, Any]]) -> str:
    """Counts plus at most one sanitized, truncated title: nothing crawled can shape the header."""
    docs = {(e.get("document") or {}).get("id") for e in events}
    alerts = sum(1 for e in events if e["type"] == "content_injected")
    titles = [header_safe((e.get("document") or {}).get("title")) for e in events if e.get("document")]
    first = next((t for t in titles if t), "")
    parts = ["[policywatch]"]
    if alerts:
        parts.append(f"⚠ {alerts} 处疑似篡改 ·")
    parts.append(f"{len(events)} 项变化 · {len(docs)} 份文件")
    subject = " ".join(parts)
    if first:
        subject += ": " + header_safe(first, SUBJECT_TITLE_CHARS)
    return header_safe(subject)


@lru_cache(maxsize=1)
def _env() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        # HTML templates always escape (crawled text is untrusted); the text one must not
        autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.filters["safe_url"] = safe_url
    return env


def safe_url(url: Any) -> str:
    """Only http(s) links go into href (no javascript: or data: from a crawled value)."""
    value = header_safe(url)
    return value if value.lower().startswith(("http://", "https://")) else "#"


def build_digest(session: Session, events: list[dict[str, Any]], *, recipient: str,
                 generated_at: datetime | None = None) -> Digest:
    """Render the digest of these events (already enriched) for one recipient."""
    alerts, sources = group_events(events)
    context = {
        "recipient": recipient, "alerts": alerts, "sources": sources, "count": len(events),
        "documents": len({(e.get("document") or {}).get("id") for e in events}),
        "generated_at": (generated_at or utcnow()).strftime("%Y-%m-%d %H:%M UTC"),
        "labels": TYPE_LABELS,
    }
    env = _env()
    text = env.get_template("digest.txt.j2").render(**context)
    html = env.get_template("digest.html.j2").render(**context)
    return Digest(events=events, alerts=alerts, sources=sources, subject=build_subject(events),
                  text=text, html=html)


def build_message(digest: Digest, *, sender: Address, recipient: str,
                  now: datetime | None = None) -> EmailMessage:
    """One multipart/alternative message; headers built from sanitized values only."""
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = header_safe(digest.subject, 200)
    message["From"] = sender
    message["To"] = Address(addr_spec=recipient)
    message["Date"] = format_datetime(now or utcnow())
    message["Message-ID"] = make_msgid("digest", domain=sender.domain or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    message["X-Policywatch-Events"] = str(len(digest.events))
    message.set_content(digest.text)
    message.add_alternative(digest.html, subtype="html")
    return message


# -- a run ------------------------------------------------------------------------------------
@dataclass
class Outcome:
    email: str
    status: str  # "sent" | "failed" | "nothing" | "preview"
    events: int = 0
    message_id: str | None = None
    error: str | None = None
    message: EmailMessage | None = None
    digest: Digest | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"email": self.email, "status": self.status, "events": self.events,
                "message_id": self.message_id, "error": self.error}


def pending_for(session: Session, subscriber: Any, *, limit: int = MAX_EVENTS_PER_MESSAGE) -> list[dict[str, Any]]:
    """The events one subscriber should get next: matching, undelivered, detected since it
    subscribed (less the backfill week), oldest first, at most ``limit``."""
    filters = subscriber.filters or {}
    since = subscriber.created_at - NEW_SUBSCRIBER_BACKFILL if subscriber.created_at else None
    events = undelivered_events(session, subscriber.id, since=since,
                                sources=filters.get("sources"), types=filters.get("types"))
    enrich_events(session, events)
    return [e for e in events if matches(e, filters)][:limit]


def sync_subscribers(config: Config, sessions: sessionmaker[Session]) -> dict[str, int]:
    entries = config_subscribers(config)  # ConfigError on a bad entry, before touching the table
    with session_scope(sessions) as session:
        return sync_config_subscribers(session, entries)


def run_digests(config: Config, sessions: sessionmaker[Session], *, cadence: str | None = None,
                to: str | None = None, send: bool = True,
                limit: int = MAX_EVENTS_PER_MESSAGE) -> list[Outcome]:
    """Build (and with ``send``, deliver) the digest of every selected subscriber.

    ``cadence`` picks the subscribers of one cadence (the scheduler's jobs); ``to`` one address.
    Raises ConfigError for a bad [smtp] or [[subscribers]] and DigestBusy when another process
    is sending; a failed send is an Outcome with status "failed", not an exception.
    """
    settings: SmtpSettings | None = smtp_settings(config) if send else None
    if not send and config.smtp:
        try:
            settings = smtp_settings(config)
        except ConfigError:
            settings = None  # a preview does not need a working [smtp]
    sender = settings.sender if settings else PREVIEW_SENDER
    sync_subscribers(config, sessions)
    with session_scope(sessions) as session:
        subscribers = list_subscribers(session, cadence=cadence, email=to)
    if to and not subscribers:
        raise NotFound(f"no subscriber {to!r}: add it with 'policywatch subscribers add'")

    holder = make_holder("digest")
    if send and not acquire(sessions, DIGEST_LEASE, holder, DIGEST_LEASE_TTL):
        raise DigestBusy("another process is sending digests right now; try again later")
    outcomes: list[Outcome] = []
    connection = SmtpConnection(settings) if (send and settings is not None) else None
    try:
        for subscriber in subscribers:
            with session_scope(sessions) as session:
                events = pending_for(session, subscriber, limit=limit)
                if not events:
                    outcomes.append(Outcome(subscriber.email, "nothing"))
                    continue
                digest = build_digest(session, events, recipient=subscriber.email)
            message = build_message(digest, sender=sender, recipient=subscriber.email)
            outcome = Outcome(subscriber.email, "preview", events=len(events),
                              message_id=message["Message-ID"], message=message, digest=digest)
            outcomes.append(outcome)
            if connection is None:
                continue
            try:
                connection.send(message)
            except MailerError as exc:
                outcome.status, outcome.error = "failed", str(exc)
                logger.warning("digest to %s not sent (%d events stay pending): %s",
                               subscriber.email, len(events), exc)
                continue
            # accepted by the server: record every event of the message, in one transaction
            with session_scope(sessions) as session:
                record_deliveries(session, subscriber.id, digest.event_ids,
                                  message_id=message["Message-ID"])
            outcome.status = "sent"
            logger.info("digest sent to %s: %d events, %s", subscriber.email, len(events),
                        message["Message-ID"])
            renew(sessions, DIGEST_LEASE, holder, DIGEST_LEASE_TTL)
    finally:
        if connection is not None:
            connection.close()
        if send:
            release(sessions, DIGEST_LEASE, holder)
    return outcomes
