"""Walk HTML list pages (index.html → index_2.html …, or a Hanweb column's record POSTs) and
request every detail page they link."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from crawler.extract.hanweb import RecordsRequest
from crawler.extract.listing import extract_listing
from crawler.items import FetchFailure, ListingPage
from crawler.sources import HtmlPagesSource
from crawler.spiders.base import PolicySpider


class HtmlPagesSpider(PolicySpider):
    source: HtmlPagesSource

    def _start_requests(self) -> Iterator[scrapy.Request]:
        for url in self.source.start_urls:
            yield self._list_request(url)

    def _list_request(self, url: str) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_list, errback=self.listing_failed_cb,
                              priority=10)

    def _records_request(self, records: RecordsRequest) -> scrapy.Request:
        """A Hanweb column's next records: a form POST, as the site's own script sends it."""
        return scrapy.FormRequest(records.url, formdata=list(records.form), callback=self.parse_list,
                                  errback=self.listing_failed_cb, priority=10,
                                  cb_kwargs={"records": records})

    def parse_list(self, response: Response, records: RecordsRequest | None = None) -> Iterator[Any]:
        self.list_pages += 1
        try:
            listing = extract_listing(
                response.url, response.body, _content_type(response),
                item_selector=self.source.item_selector, next_selector=self.source.next_selector,
                records=records,
            )
        except Exception as exc:  # a garbage list page: recorded, the crawl goes on
            self.listing_failed = True
            yield FetchFailure(url=response.url, status=response.status, detail=False,
                               reason=f"unreadable list page: {type(exc).__name__}: {exc}"[:500])
            return
        in_scope = [item for item in listing.items if self.in_scope(item.url)]
        self.look_up([item.url for item in in_scope])
        known = sum(1 for item in in_scope if self.is_known(item.url))
        for item in in_scope:
            request = self.detail_request(item.url, title=item.title)
            if request is not None:
                yield request
        if not self.may_stop_paging(len(in_scope), known):
            following = [self._list_request(u) for u in listing.next_urls if self.in_scope(u)]
            if listing.next_records is not None and self.in_scope(listing.next_records.url):
                following.append(self._records_request(listing.next_records))
            for request in following:
                if self.list_pages >= self.source.max_pages:
                    self.listing_truncated = True
                    break
                yield request
        # Last: in a distributed crawl this item marks the page done, so everything it led to
        # must already be queued when it does.
        yield ListingPage(url=response.url, items=len(listing.items), known=known)


def _content_type(response: Response) -> str | None:
    value = response.headers.get(b"Content-Type")
    return value.decode("latin-1") if value else None
