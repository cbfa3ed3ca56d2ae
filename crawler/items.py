"""What spiders hand to the pipeline: plain dataclasses, no parsing done yet."""

from __future__ import annotations

from dataclasses import dataclass, field


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


@dataclass
class NotModified:
    """A conditional GET answered 304: the stored version still holds."""

    url: str


@dataclass
class FetchFailure:
    """A request that failed: HTTP error status, timeout, refused connection, unreadable page."""

    url: str
    status: int | None
    reason: str
    detail: bool = True  # a detail page (counts toward removal on 404/410) or a list page


@dataclass
class ListingPage:
    """A list page or API page was read; counted for the run, not stored."""

    url: str
    items: int
