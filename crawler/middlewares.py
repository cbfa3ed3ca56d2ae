"""Downloader middlewares.

BackoffRetryMiddleware: retries with exponential backoff that never block the reactor. Scrapy's
RetryMiddleware decides *whether* to retry (5xx, 408/429, timeouts, refused or reset
connections, bounded by RETRY_TIMES); this subclass only decides *when*: the retry request is
handed back after base * 2**(attempt-1) seconds (capped, with jitter) through a Twisted timer,
so other requests keep flowing while a flaky server recovers.

ByteScanMetaRefreshMiddleware: Scrapy's meta-refresh redirects, without decoding every page.
"""

from __future__ import annotations

import functools
import logging
import random
from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import HtmlResponse, Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.task import deferLater

logger = logging.getLogger(__name__)


def backoff_delay(attempt: int, base: float, cap: float, jitter: float = 0.0) -> float:
    """Seconds to wait before retry number ``attempt`` (1, 2, …): base * 2**(attempt-1), capped;
    ``jitter`` (0..1) takes up to that fraction off so that retries of many pages spread out."""
    if base <= 0:
        return 0.0
    delay = min(base * 2 ** max(attempt - 1, 0), cap)
    return delay * (1 - jitter * random.random())


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Any:
        return await self._later(super().process_response(request, response))

    async def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> Any:
        return await self._later(super().process_exception(request, exception))

    async def _later(self, result: Any) -> Any:
        if not isinstance(result, Request):
            return result
        attempt = int(result.meta.get("retry_times", 1))
        delay = backoff_delay(attempt, self.backoff_base, self.backoff_max, jitter=0.25)
        if delay > 0:
            logger.debug("retry %d of %s in %.2fs", attempt, result.url, delay)
            await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))
        return result


# Scrapy looks for a refresh in the first 4,096 characters of the decoded page; no character of
# an ASCII-compatible encoding (UTF-8, GBK, GB18030, Big5…) takes more than four bytes.
_REFRESH_SCAN_BYTES = 4 * 4096
_PRINTABLE_ASCII = "".join(map(chr, range(0x20, 0x7F)))


@functools.lru_cache(maxsize=64)
def _ascii_compatible(encoding: str) -> bool:
    """Whether ``encoding`` writes every ASCII character as that very byte (not UTF-16, UTF-7…)."""
    try:
        return _PRINTABLE_ASCII.encode(encoding) == _PRINTABLE_ASCII.encode("ascii")
    except (LookupError, UnicodeError):
        return False


def cannot_refresh(response: HtmlResponse) -> bool:
    """True when the page surely holds no meta refresh that Scrapy would follow: the word
    'refresh' (in any case) appears nowhere in the bytes Scrapy would read, in an encoding
    where it could not hide in other bytes."""
    head = response.body[:_REFRESH_SCAN_BYTES]
    return b"refresh" not in head.lower() and _ascii_compatible(response.encoding)


class ByteScanMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's MetaRefreshMiddleware decodes every HTML page in full (``response.text``) to look
    for ``<meta http-equiv="refresh">`` in its first 4,096 characters; nearly no page has one,
    and nothing else in the crawl process needs the decoded text (pages are read from their
    bytes). A scan of the bytes rules the refresh out first, ten times cheaper; a page that
    might hold one goes to Scrapy's own check, which decides exactly as before."""

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Any:
        if isinstance(response, HtmlResponse) and cannot_refresh(response):
            return response
        return super().process_response(request, response)
