"""Change-event types and the plain data carried between the compare engine and storage.

The event types are the public contract (docs/architecture.md, "Change events"); the values are
the strings stored in the database and written to the JSON feed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    NEW_DOCUMENT = "new_document"
    NEW_EDITION = "new_edition"
    TASK_ADDED = "task_added"
    TASK_REMOVED = "task_removed"
    TASK_REWORDED = "task_reworded"
    RESPONSIBILITY_CHANGED = "responsibility_changed"
    TARGET_CHANGED = "target_changed"
    WORDING_CHANGED = "wording_changed"
    METADATA_CHANGED = "metadata_changed"
    ATTACHMENT_CHANGED = "attachment_changed"
    DOCUMENT_REMOVED = "document_removed"
    CONTENT_INJECTED = "content_injected"


# Module-level constants, for callers that prefer plain strings (StrEnum members compare equal to them).
NEW_DOCUMENT = EventType.NEW_DOCUMENT
NEW_EDITION = EventType.NEW_EDITION
TASK_ADDED = EventType.TASK_ADDED
TASK_REMOVED = EventType.TASK_REMOVED
TASK_REWORDED = EventType.TASK_REWORDED
RESPONSIBILITY_CHANGED = EventType.RESPONSIBILITY_CHANGED
TARGET_CHANGED = EventType.TARGET_CHANGED
WORDING_CHANGED = EventType.WORDING_CHANGED
METADATA_CHANGED = EventType.METADATA_CHANGED
ATTACHMENT_CHANGED = EventType.ATTACHMENT_CHANGED
DOCUMENT_REMOVED = EventType.DOCUMENT_REMOVED
CONTENT_INJECTED = EventType.CONTENT_INJECTED

EVENT_TYPES: tuple[str, ...] = tuple(t.value for t in EventType)


@dataclass
class EventDraft:
    """One detected change, before storage gives it an id, a timestamp and its document/versions."""

    type: str
    task_label: str | None
    task_title: str | None
    before: str | None
    after: str | None
    summary: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": str(self.type),
            "task": (
                {"label": self.task_label, "title": self.task_title}
                if self.task_label is not None or self.task_title is not None
                else None
            ),
            "before": self.before,
            "after": self.after,
            "summary": self.summary,
            "details": self.details,
        }


@dataclass
class VersionView:
    """What the compare engine needs of one stored Version.

    attachments: each ``{"url": str, "name": str, "content_hash": str | None}``.
    structure: the structure JSON of docs/design.md.
    """

    title: str
    normalized_text: str
    structure: dict[str, Any]
    attachments: list[dict[str, Any]] = field(default_factory=list)
