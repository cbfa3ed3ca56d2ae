"""Page through the gkmlpt platform's JSON list API and request every article's detail page.

The platform wants the site id (sid) on every API call, and its pages repeat past the end, so
the walk stops when it has collected the category's post_count articles (or a page adds nothing).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.http import Response

from crawler.extract.gkmlpt import (
    find_category,
    gkmlpt_api_url,
    parse_gkmlpt_api,
    parse_gkmlpt_index,
)
from crawler.extract.keys import canonical_key
from crawler.items import FetchFailure, ListingPage
from crawler.sources import GkmlptApiSource
from crawler.spiders.base import PolicySpider


class GkmlptApiSpider(PolicySpider):
    source: GkmlptApiSource

    def _start_requests(self) -> Iterator[scrapy.Request]:
        yield scrapy.Request(f"{self.source.site}/gkmlpt/index", callback=self.parse_index,
                             errback=self.listing_failed_cb, priority=10)

    def parse_index(self, response: Response) -> Iterator[Any]:
        try:
            site = parse_gkmlpt_index(response.body)
        except Exception as exc:  # a garbage or hacked index page: recorded, the crawl goes on
            self.listing_failed = True
            yield FetchFailure(url=response.url, status=response.status, detail=False,
                               reason=f"unreadable gkmlpt index: {type(exc).__name__}: {exc}"[:500])
            return
        for category_id in self.source.categories:
            category = find_category(site.tree, category_id)
            if category is None:
                self.listing_failed = True
                yield FetchFailure(url=response.url, status=None, detail=False,
                                   reason=f"category {category_id} is not in the site's tree")
                continue
            state = {"category": category_id, "expected": category.post_count, "seen": set(),
                     "sid": site.sid}
            yield self._api_request(state, 1)
        yield ListingPage(url=response.url, items=0)  # last: see HtmlPagesSpider.parse_list

    def _api_request(self, state: dict[str, Any], page: int) -> scrapy.Request:
        url = gkmlpt_api_url(self.source.site, state["category"], page, state["sid"])
        return scrapy.Request(url, callback=self.parse_api, errback=self.listing_failed_cb,
                              cb_kwargs={"state": state, "page": page}, priority=10,
                              dont_filter=True)

    def parse_api(self, response: Response, state: dict[str, Any], page: int) -> Iterator[Any]:
        self.list_pages += 1
        try:
            result = parse_gkmlpt_api(response.body)
        except Exception as exc:
            self.listing_failed = True
            yield FetchFailure(url=response.url, status=response.status, detail=False,
                               reason=f"unreadable gkmlpt list: {type(exc).__name__}: {exc}"[:500])
            return
        seen: set[str] = state["seen"]
        self.look_up([urljoin(self.source.site + "/", article.url) for article in result.articles])
        added = 0
        fresh_in_scope = 0
        known = 0
        requests = []
        for article in result.articles:
            url = urljoin(self.source.site + "/", article.url)
            key = canonical_key(url)
            if key in seen:
                continue
            seen.add(key)
            added += 1
            if not self.in_scope(url):
                continue
            fresh_in_scope += 1
            known += self.is_known(url)
            request = self.detail_request(url, title=article.title)
            if request is not None:
                requests.append(request)
        yield from requests
        yield from self._next_page(state, page, added, fresh_in_scope, known, result.total)
        yield ListingPage(url=response.url, items=len(result.articles), known=known)  # last

    def _next_page(self, state: dict[str, Any], page: int, added: int, fresh_in_scope: int,
                   known: int, total: int | None) -> Iterator[Any]:
        expected = state["expected"] or total
        if added == 0 or (expected and len(state["seen"]) >= expected):
            return
        if self.may_stop_paging(fresh_in_scope, known):
            return
        if page >= self.source.max_pages:
            self.listing_truncated = True
            return
        yield self._api_request(state, page + 1)
