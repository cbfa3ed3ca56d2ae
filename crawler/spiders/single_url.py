"""Fetch given detail URLs by hand (``policywatch crawl --url``), no listing walk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import scrapy

from crawler.sources import Source
from crawler.spiders.base import PolicySpider


class SingleUrlSpider(PolicySpider):
    conditional = False  # a re-crawl by hand fetches the page in full

    def __init__(self, source: Source, urls: list[str], **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        self.urls = list(urls)

    def _start_requests(self) -> Iterator[scrapy.Request]:
        for url in self.urls:
            request = self.detail_request(url)
            if request is not None:
                yield request.replace(dont_filter=True)

    @property
    def listing_complete(self) -> bool:
        return False  # a hand-picked URL says nothing about the rest of the listing
