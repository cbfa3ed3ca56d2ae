"""The common spider: conditional detail requests, chained attachment downloads, and failures
turned into recorded FetchFailures.

Spiders stay thin: they decide what to request and pass responses on. Extraction and storage
happen in crawler.extract, crawler.snapshot and the pipeline. At start a spider asks storage how
to walk its source (a full sweep or an incremental walk) and what it knows of the documents it
will meet (validators, raw hashes, attachments): all of them for a full sweep, list page by list
page for an incremental walk (crawler.known).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.analysis import shared_analyser
from crawler.extract.attachments import Attachment, guess_mime
from crawler.extract.keys import canonical_key
from crawler.items import DetailPage, FetchedAttachment, FetchFailure, NotModified
from crawler.known import KnownDocuments
from crawler.sources import Source

logger = logging.getLogger(__name__)

DEFAULT_ATTACHMENT_MAXSIZE = 20 * 1024 * 1024


def conditional_headers(etag: str | None, last_modified: str | None,
                        last_fetched_at: datetime | None) -> dict[str, str]:
    """If-None-Match / If-Modified-Since for a stored page.

    A Last-Modified within a second of our last fetch cannot prove that nothing changed after
    that fetch (HTTP dates have one-second resolution): then no If-Modified-Since is sent.
    """
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified and _last_modified_is_safe(last_modified, last_fetched_at):
        headers["If-Modified-Since"] = last_modified
    return headers


def _last_modified_is_safe(last_modified: str, last_fetched_at: datetime | None) -> bool:
    try:
        modified = parsedate_to_datetime(last_modified)
    except (TypeError, ValueError):
        return False
    if modified.tzinfo is None or last_fetched_at is None:
        return last_fetched_at is None and modified.tzinfo is not None
    return modified + timedelta(seconds=1) <= last_fetched_at


class PolicySpider(scrapy.Spider):
    name = "policywatch"
    conditional = True  # send the stored validators (a hand-given --url refetches in full)

    def __init__(self, source: Source, run_id: int | None = None, source_id: int | None = None,
                 distributed: bool = False, **kwargs: Any) -> None:
        super().__init__(name=source.name, **kwargs)
        self.source = source
        self.run_id = run_id
        self.source_id = source_id
        self.distributed = distributed  # one of several workers sharing a Redis frontier
        self.allowed_domains = source.domains()
        self.listing_failed = False
        self.listing_truncated = False
        self.listing_stopped_early = False  # an incremental walk stopped at a known page
        self.full_sweep = True
        self.known = KnownDocuments()  # nothing stored, until load_state says otherwise
        self._detail_keys: set[str] = set()
        self.list_pages = 0

    # -- start --------------------------------------------------------------------------------
    async def start(self) -> Any:  # Scrapy ≥ 2.13
        self.load_state()
        for request in self._start_requests():
            yield request

    def start_requests(self) -> Iterator[scrapy.Request]:  # older Scrapy
        self.load_state()
        yield from self._start_requests()

    def _start_requests(self) -> Iterator[scrapy.Request]:
        return iter(())

    def load_state(self) -> None:
        """Claim the run and read what storage knows of this source, once."""
        database_url = self.settings.get("POLICYWATCH_DATABASE_URL") if hasattr(self, "crawler") else None
        if not database_url or self.source_id is None or self.run_id is None:
            return
        from storage.db import make_engine, session_factory, session_scope
        from storage.documents import count_documents
        from storage.runs import begin_crawl

        engine = make_engine(database_url)
        try:
            with session_scope(session_factory(engine)) as session:
                plan = begin_crawl(session, self.source_id, self.run_id,
                                   full_sweep_every=self.source.full_sweep_every)
                stored = count_documents(session, self.source_id)
            self.full_sweep = plan.full_sweep
            self.known = KnownDocuments(database_url, self.source_id, stored=stored)
            if plan.full_sweep and self.conditional:  # a --url recrawl never asks
                self.known.load_all()
            logger.info("%s: %s walk (%s), %d known documents", self.name,
                        "full" if plan.full_sweep else "incremental", plan.reason, stored)
        finally:
            engine.dispose()

    def closed(self, reason: str | None) -> None:
        self.known.close()

    def is_known(self, url: str) -> bool:
        return canonical_key(url) in self.known

    def look_up(self, urls: list[str]) -> None:
        """Ask storage about a list page's documents at once, before they are counted or
        requested (crawler.known)."""
        if self.conditional:
            self.known.prefetch(canonical_key(url) for url in urls)

    def may_stop_paging(self, items: int, known: int) -> bool:
        """An incremental walk stops after a list page that brought only known documents."""
        if self.full_sweep or items == 0 or known < items:
            return False
        self.listing_stopped_early = True
        return True

    # -- details ------------------------------------------------------------------------------
    def detail_request(self, url: str, *, title: str | None = None) -> scrapy.Request | None:
        """One request per document: the same post under another URL is not fetched twice."""
        key = canonical_key(url)
        if key in self._detail_keys:
            return None
        self._detail_keys.add(key)
        known = self.known.get(key) if self.conditional else None
        headers = (conditional_headers(known.etag, known.last_modified, known.last_fetched_at)
                   if known is not None else {})
        return scrapy.Request(
            url, callback=self.parse_detail, errback=self.detail_failed, headers=headers,
            cb_kwargs={"title": title}, priority=1,
            # documents are deduplicated by canonical key above; Scrapy's URL filter would
            # silently drop a redirect back to a seen URL (a loop) instead of reporting it
            dont_filter=True,
            meta={"handle_httpstatus_list": [304], "policywatch_key": key},
        )

    async def parse_detail(self, response: Response, title: str | None = None) -> list[Any]:
        # A coroutine that returns a list, not an async generator: Scrapy then passes the output
        # through its spider middlewares as a plain list, instead of a chain of async generators
        # (one per middleware) that each page's wait for its analysis suspends and resumes.
        key = response.meta.get("policywatch_key") or canonical_key(response.url)
        known = self.known.get(key) if self.conditional else None
        self.known.forget(key)  # answered: the entry is not needed again
        previous = list(known.attachments) if known is not None else []
        if response.status == 304:
            item: Any = NotModified(url=response.url, previous_attachments=previous)
            return list(self._with_attachments(item, _links_of(previous)))
        headers = response.headers
        body = response.body
        content_type = _header(headers, b"Content-Type")
        item = DetailPage(
            url=response.url,
            body=body,
            status=response.status,
            content_type=content_type,
            etag=_header(headers, b"ETag"),
            last_modified=_header(headers, b"Last-Modified"),
            listed_title=title,
            previous_attachments=previous,
        )
        if known is not None and known.raw_hash == hashlib.sha256(body).hexdigest():
            item.raw_unchanged = True  # the very same bytes: not read again
            links = _links_of(previous)
        else:
            # read now (in a worker process): the attachment links are needed before the item
            # can be completed, and the snapshot travels with the item to storage
            analysis = await shared_analyser(self.settings).run(response.url, body, content_type)
            item.analysis = analysis
            links = list(analysis.links)
        return list(self._with_attachments(item, links))

    def detail_failed(self, failure: Failure) -> Iterator[Any]:
        yield failure_item(failure, detail=True)

    def listing_failed_cb(self, failure: Failure) -> Iterator[Any]:
        self.listing_failed = True
        yield failure_item(failure, detail=False)

    # -- attachments: detail → attachment 1 → … → one item ----------------------------------
    def _with_attachments(self, item: Any, links: list[Attachment]) -> Iterator[Any]:
        item.attachments = []
        if not self.settings.getbool("POLICYWATCH_FETCH_ATTACHMENTS", True):
            item.attachments = [FetchedAttachment(url=a.url, name=a.name, mime=a.mime,
                                                  status="skipped") for a in links]
            yield item
            return
        yield from self._next_attachment(item, list(links))

    def _next_attachment(self, item: Any, pending: list[Attachment]) -> Iterator[Any]:
        while pending:
            link = pending.pop(0)
            if not self.in_scope(link.url):
                item.attachments.append(FetchedAttachment(
                    url=link.url, name=link.name, mime=link.mime, status="off_domain",
                    reason="outside the source's allowed domains: not fetched"))
                continue
            previous = _entry_for(item.previous_attachments, link.url)
            headers = {}
            if previous is not None and previous.get("content_hash") and previous.get("status") == "ok":
                headers = conditional_headers(previous.get("etag"), previous.get("last_modified"), None)
            maxsize = self.settings.getint("POLICYWATCH_ATTACHMENT_MAXSIZE", DEFAULT_ATTACHMENT_MAXSIZE)
            yield scrapy.Request(
                link.url, callback=self.parse_attachment, errback=self.attachment_failed,
                headers=headers, priority=5, dont_filter=True,
                meta={"handle_httpstatus_list": [304], "download_maxsize": maxsize,
                      "download_warnsize": 0, "policywatch_attachment": (item, link, pending)},
            )
            return
        yield item

    def parse_attachment(self, response: Response) -> Iterator[Any]:
        item, link, pending = response.meta["policywatch_attachment"]
        content_type = _header(response.headers, b"Content-Type")
        mime = (content_type or "").split(";")[0].strip() or None
        if response.status == 304:
            item.attachments.append(FetchedAttachment(url=link.url, name=link.name, mime=link.mime,
                                                      status="not_modified", http_status=304))
        else:
            if mime in (None, "application/octet-stream", "text/html", "text/plain"):
                mime = link.mime or guess_mime(link.name) or mime
            item.attachments.append(FetchedAttachment(
                url=link.url, name=link.name, status="fetched", mime=mime, body=response.body,
                size=len(response.body), etag=_header(response.headers, b"ETag"),
                last_modified=_header(response.headers, b"Last-Modified"),
                http_status=response.status))
        yield from self._next_attachment(item, pending)

    def attachment_failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        item, link, pending = request.meta["policywatch_attachment"]
        failed = failure_item(failure, detail=False)
        status = "too_large" if _is_size_refusal(failure) else "failed"
        item.attachments.append(FetchedAttachment(
            url=link.url, name=link.name, mime=link.mime, status=status, http_status=failed.status,
            reason=failed.reason))
        yield from self._next_attachment(item, pending)

    def in_scope(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    @property
    def listing_complete(self) -> bool:
        if self.distributed:  # each worker walks only part of the listing
            return False
        return not self.listing_failed and not self.listing_truncated and not self.listing_stopped_early


def _links_of(entries: list[dict[str, Any]]) -> list[Attachment]:
    return [Attachment(url=e["url"], name=e.get("name") or "", mime=e.get("mime"))
            for e in entries if e.get("url")]


def _entry_for(entries: list[dict[str, Any]], url: str) -> dict[str, Any] | None:
    return next((e for e in entries if e.get("url") == url), None)


def _is_size_refusal(failure: Failure) -> bool:
    message = failure.getErrorMessage()
    if failure.check(DownloadCancelledError):
        return "max size" in message
    return bool(failure.check(IgnoreRequest)) and "DOWNLOAD_MAXSIZE" in message


def failure_item(failure: Failure, *, detail: bool) -> FetchFailure:
    request = getattr(failure, "request", None)
    url = request.url if request is not None else "?"
    attempts = int(request.meta.get("retry_times", 0)) + 1 if request is not None else 1
    if failure.check(HttpError):
        response = failure.value.response
        return FetchFailure(url=url, status=response.status, reason=f"HTTP {response.status}",
                            detail=detail, attempts=attempts)
    message = failure.getErrorMessage() or failure.type.__name__
    if _is_size_refusal(failure):
        reason = f"too large: {message}"
    elif failure.check(IgnoreRequest) and "max redirections" in message.lower():
        reason = f"redirect loop: {message}"
    else:
        reason = f"{failure.type.__name__}: {message}"
    return FetchFailure(url=url, status=None, reason=reason[:500], detail=detail, attempts=attempts)


def _header(headers: Any, name: bytes) -> str | None:
    value = headers.get(name)
    if value is None:
        return None
    return value.decode("latin-1", errors="replace")
