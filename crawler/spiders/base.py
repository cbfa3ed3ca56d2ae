"""The common spider: requests detail pages and turns failures into recorded FetchFailures.

Spiders stay thin: they decide what to request and pass responses on. Extraction and storage
happen in crawler.snapshot and the pipeline.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.extract.keys import canonical_key
from crawler.items import DetailPage, FetchFailure
from crawler.sources import Source


class PolicySpider(scrapy.Spider):
    name = "policywatch"

    def __init__(self, source: Source, run_id: int | None = None, source_id: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(name=source.name, **kwargs)
        self.source = source
        self.run_id = run_id
        self.source_id = source_id
        self.allowed_domains = source.domains()
        self.listing_failed = False
        self.listing_truncated = False
        self._detail_keys: set[str] = set()
        self.list_pages = 0

    # -- details ------------------------------------------------------------------------------
    def detail_request(self, url: str, *, title: str | None = None) -> scrapy.Request | None:
        """One request per document: the same post under another URL is not fetched twice."""
        key = canonical_key(url)
        if key in self._detail_keys:
            return None
        self._detail_keys.add(key)
        return scrapy.Request(
            url, callback=self.parse_detail, errback=self.detail_failed,
            cb_kwargs={"title": title}, priority=1,
        )

    def parse_detail(self, response: Response, title: str | None = None) -> Iterator[Any]:
        headers = response.headers
        yield DetailPage(
            url=response.url,
            body=response.body,
            status=response.status,
            content_type=_header(headers, b"Content-Type"),
            etag=_header(headers, b"ETag"),
            last_modified=_header(headers, b"Last-Modified"),
            listed_title=title,
        )

    def detail_failed(self, failure: Failure) -> Iterator[Any]:
        yield failure_item(failure, detail=True)

    def listing_failed_cb(self, failure: Failure) -> Iterator[Any]:
        self.listing_failed = True
        yield failure_item(failure, detail=False)

    def in_scope(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    @property
    def listing_complete(self) -> bool:
        return not self.listing_failed and not self.listing_truncated


def failure_item(failure: Failure, *, detail: bool) -> FetchFailure:
    request = getattr(failure, "request", None)
    url = request.url if request is not None else "?"
    if failure.check(HttpError):
        response = failure.value.response
        return FetchFailure(url=url, status=response.status, reason=f"HTTP {response.status}",
                            detail=detail)
    reason = failure.getErrorMessage() or failure.type.__name__
    return FetchFailure(url=url, status=None, reason=f"{failure.type.__name__}: {reason}"[:500],
                        detail=detail)


def _header(headers: Any, name: bytes) -> str | None:
    value = headers.get(name)
    if value is None:
        return None
    return value.decode("latin-1", errors="replace")
