"""An Atom 1.0 feed of change events, for feed readers: one entry per event, stable ids.

Built with xml.etree, which escapes text; characters XML 1.0 forbids (control characters that
crawled pages sometimes carry) are dropped first, or the feed would not parse.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_ID = "tag:policywatch,2024:events"
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value: Any) -> str:
    return _XML_ILLEGAL.sub("", "" if value is None else str(value))


def entry_id(event_id: int) -> str:
    """A tag: URI that stays the same for an event whatever its summary or URL becomes."""
    return f"tag:policywatch,2024:event:{int(event_id)}"


def _rfc3339(value: str | datetime | None) -> str:
    if value is None:
        moment = datetime.now(UTC)
    elif isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _content_html(event: dict[str, Any]) -> str:
    """The entry's content as HTML source (the XML writer escapes it once more, as Atom wants)."""
    parts = [f"<p>{html.escape(xml_text(event.get('summary')))}</p>"]
    doc = event.get("document") or {}
    if doc.get("title"):
        number = f" ({html.escape(xml_text(doc['doc_number']))})" if doc.get("doc_number") else ""
        parts.append(f"<p>{html.escape(xml_text(doc['title']))}{number}</p>")
    task = event.get("task") or {}
    if task:
        parts.append(f"<p>{html.escape(xml_text(task.get('label') or ''))} "
                     f"{html.escape(xml_text(task.get('title') or ''))}</p>")
    if event.get("before"):
        parts.append(f"<p>原:<del>{html.escape(xml_text(event['before']))}</del></p>")
    if event.get("after"):
        parts.append(f"<p>新:<ins>{html.escape(xml_text(event['after']))}</ins></p>")
    return "\n".join(parts)


def atom_feed(events: list[dict[str, Any]], *, title: str = "policywatch: changes",
              self_url: str | None = None) -> bytes:
    """The feed document (UTF-8 bytes) for events in the public JSON shape, newest first."""
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            element.text = xml_text(text)
        return element

    ordered = sorted(events, key=lambda e: e["id"], reverse=True)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "id", FEED_ID)
    sub(feed, "title", title)
    sub(feed, "updated", _rfc3339(max((e["detected_at"] for e in ordered), default=None)))
    author = sub(feed, "author")
    sub(author, "name", "policywatch")
    sub(feed, "generator", "policywatch")
    if self_url:
        sub(feed, "link", rel="self", href=xml_text(self_url))
    for event in ordered:
        entry = sub(feed, "entry")
        sub(entry, "id", entry_id(event["id"]))
        sub(entry, "title", event.get("summary") or event.get("type") or "change")
        sub(entry, "updated", _rfc3339(event.get("detected_at")))
        doc = event.get("document") or {}
        if doc.get("url"):
            sub(entry, "link", rel="alternate", href=xml_text(doc["url"]))
        sub(entry, "category", term=xml_text(event.get("type")))
        if event.get("source"):
            sub(entry, "category", term=xml_text(event["source"]),
                scheme="tag:policywatch,2024:source")
        sub(entry, "content", _content_html(event), type="html")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"
