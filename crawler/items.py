"""What spiders hand to the pipeline: plain dataclasses, no parsing done yet."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FetchedAttachment:
    """The outcome of fetching one attachment linked from a detail page.

    status: ``fetched`` (body holds the file), ``not_modified`` (a 304: the stored hash holds),
    ``failed`` (HTTP error, timeout …), ``too_large`` (over the attachment size limit: not
    downloaded), ``off_domain`` (outside the source's allowed domains: not fetched) or
    ``skipped`` (attachments are not fetched by configuration).
    """

    url: str
    name: str
    status: str
    mime: str | None = None
    body: bytes | None = field(default=None, repr=False)
    size: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    http_status: int | None = None
    reason: str | None = None


@dataclass
class DetailPage:
    """A fetched detail page, to be extracted and stored."""

    url: str
    body: bytes = field(repr=False)  # kept out of log lines
    status: int
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    listed_title: str | None = None
    # crawler.analysis.Analysis: the page read by the spider (snapshot or why it is unreadable)
    analysis: Any = field(default=None, repr=False)
    raw_unchanged: bool = False  # the very bytes of the stored version: not read again
    attachments: list[FetchedAttachment] = field(default_factory=list)
    # the latest stored version's attachment entries (for hashes of 304/failed attachments)
    previous_attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class NotModified:
    """A conditional GET answered 304: the stored version still holds (unless an attachment
    changed, in which case the stored page is rebuilt with the new attachment)."""

    url: str
    attachments: list[FetchedAttachment] = field(default_factory=list)
    previous_attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FetchFailure:
    """A request that failed: HTTP error status, timeout, refused connection, unreadable page."""

    url: str
    status: int | None
    reason: str
    detail: bool = True  # a detail page (counts toward removal on 404/410) or a list page
    attempts: int = 1


@dataclass
class ListingPage:
    """A list page or API page was read; counted for the run, not stored."""

    url: str
    items: int
    known: int = 0  # items already stored (an incremental walk stops at a page of known items)
