"""Who wants which events: address and cadence checks, subscriber filters and how an event matches.

A subscriber's filters are a dict stored as JSON: ``sources``, ``types``, ``keywords``,
``departments``, ``kinds`` (each a list; empty or missing means "any"). Within one filter any value
may match; all given filters must match.
"""

from __future__ import annotations

import json
import re
from typing import Any

from monitor.config import Config, ConfigError
from monitor.events import EVENT_TYPES

CADENCES = ("immediate", "daily", "weekly")
# crawler.document.metadata.KINDS, written out: importing the parsers would cost every command
# ~40 ms of start (test_cli checks that the two agree)
DOCUMENT_KINDS = ("notice", "work_points", "action_plan", "regulation", "measures", "opinion", "plan",
                  "interpretation", "proposal_reply", "other")
FILTER_KEYS = ("sources", "types", "keywords", "departments", "kinds")
SUBSCRIBER_KEYS = {"email", "cadence", *FILTER_KEYS}

# A deliberately plain check: one @, a dotted domain, nothing that could break a header.
_EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
                       r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


class SubscriptionError(ValueError):
    """A subscriber or filter is invalid; the message is one line for the user."""


def validate_email(address: str) -> str:
    """The address, stripped, or SubscriptionError naming it."""
    value = (address or "").strip()
    if not _EMAIL_RE.match(value) or ".." in value.split("@")[0]:
        shown = "".join(ch if ch.isprintable() else "?" for ch in value)[:80]
        raise SubscriptionError(f"not a valid email address: {shown!r}")
    return value


def normalize_filters(raw: dict[str, Any], *, known_sources: list[str] | None = None) -> dict[str, list[str]]:
    """Check and clean a filter dict; unknown keys, types or kinds raise SubscriptionError."""
    out: dict[str, list[str]] = {}
    for key, values in raw.items():
        if key not in FILTER_KEYS:
            raise SubscriptionError(f"unknown filter {key!r} (known: {', '.join(FILTER_KEYS)})")
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
            raise SubscriptionError(f"filter {key!r} must be a list of strings")
        cleaned = []
        for value in values:
            value = value.strip()
            if value and value not in cleaned:
                cleaned.append(value)
        if key == "types":
            for value in cleaned:
                if value not in EVENT_TYPES:
                    raise SubscriptionError(f"filter 'types': unknown event type {value!r} "
                                            f"(known: {', '.join(EVENT_TYPES)})")
        if key == "kinds":
            for value in cleaned:
                if value not in DOCUMENT_KINDS:
                    raise SubscriptionError(f"filter 'kinds': unknown document kind {value!r} "
                                            f"(known: {', '.join(DOCUMENT_KINDS)})")
        if key == "sources" and known_sources is not None:
            for value in cleaned:
                if value not in known_sources:
                    raise SubscriptionError(f"filter 'sources': unknown source {value!r} "
                                            f"(known: {', '.join(known_sources) or 'none configured'})")
        if cleaned:
            out[key] = cleaned
    return out


def validate_cadence(value: Any) -> str:
    if value not in CADENCES:
        raise SubscriptionError(f"cadence must be one of {', '.join(CADENCES)}, not {value!r}")
    return str(value)


def config_subscribers(config: Config) -> list[dict[str, Any]]:
    """The config's [[subscribers]] entries, validated: dicts with email, cadence, filters.

    Raises ConfigError naming the entry and the key.
    """
    where = str(config.path) if config.path else "config"
    known = [s.name for s in config.sources] or None  # no sources configured: nothing to check against
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, entry in enumerate(config.subscribers, start=1):
        label = f"{where}: [[subscribers]] entry {index}"
        for key in entry:
            if key not in SUBSCRIBER_KEYS:
                raise ConfigError(f"{label}: unknown key {key!r}")
        if "email" not in entry:
            raise ConfigError(f"{label}: key 'email' is required")
        try:
            email = validate_email(entry["email"] if isinstance(entry["email"], str) else "")
        except SubscriptionError as exc:
            raise ConfigError(f"{label}, key 'email': {exc}") from None
        label = f"{where}: [[subscribers]] {email}"
        if email.lower() in seen:
            raise ConfigError(f"{label}, key 'email': defined twice")
        seen.add(email.lower())
        try:
            cadence = validate_cadence(entry.get("cadence", "daily"))
        except SubscriptionError as exc:
            raise ConfigError(f"{label}, key 'cadence': {exc}") from None
        filters: dict[str, list[str]] = {}
        for key in FILTER_KEYS:
            if key not in entry:
                continue
            try:
                filters.update(normalize_filters({key: entry[key]}, known_sources=known))
            except SubscriptionError as exc:
                raise ConfigError(f"{label}, key {key!r}: {exc}") from None
        out.append({"email": email, "cadence": cadence, "filters": filters})
    return out


def _haystack(event: dict[str, Any], *parts: str) -> str:
    doc = event.get("document") or {}
    task = event.get("task") or {}
    texts = {
        "title": " ".join(str(x) for x in (doc.get("title"), task.get("title")) if x),
        "summary": event.get("summary") or "",
        "before": event.get("before") or "",
        "after": event.get("after") or "",
        "details": json.dumps(event.get("details") or {}, ensure_ascii=False),
        "departments": " ".join(event.get("departments") or []),
    }
    return "\n".join(texts[p] for p in parts).casefold()


def matches(event: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    """Does an event (the dict of storage.deliveries.undelivered_events) pass the filters?"""
    if filters.get("sources") and event.get("source") not in filters["sources"]:
        return False
    if filters.get("types") and event.get("type") not in filters["types"]:
        return False
    if filters.get("kinds") and ((event.get("document") or {}).get("kind") or "other") not in filters["kinds"]:
        return False
    if filters.get("keywords"):
        text = _haystack(event, "title", "summary", "before", "after")
        if not any(k.casefold() in text for k in filters["keywords"]):
            return False
    if filters.get("departments"):
        text = _haystack(event, "before", "after", "details", "departments")
        if not any(d.casefold() in text for d in filters["departments"]):
            return False
    return True


def describe_filters(filters: dict[str, list[str]]) -> str:
    """One line for tables: 'sources=a,b types=task_added' or 'everything'."""
    parts = [f"{k}={','.join(v)}" for k, v in filters.items() if v]
    return " ".join(parts) or "everything"
