"""What a crawl is asked to do: the ``[crawl]`` options it reads and one job per source.

Kept apart from crawler.runner, which loads Scrapy and Twisted, so that a crawl can check its
config and start its helper processes (crawler.prestart) before it loads them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from crawler.sources import Source

# Options of the [crawl] config table and the Scrapy settings they set.
CRAWL_OPTIONS = {
    "download_delay": "DOWNLOAD_DELAY",
    "concurrency_per_domain": "CONCURRENT_REQUESTS_PER_DOMAIN",
    "obey_robots": "ROBOTSTXT_OBEY",
    "autothrottle": "AUTOTHROTTLE_ENABLED",
    "timeout": "DOWNLOAD_TIMEOUT",
    "retry_times": "RETRY_TIMES",
    "user_agent": "USER_AGENT",
    "max_download_bytes": "DOWNLOAD_MAXSIZE",
    "retry_backoff": "RETRY_BACKOFF_BASE",  # seconds before the first retry, doubled each time
    "retry_backoff_max": "RETRY_BACKOFF_MAX",
    "redirect_max": "REDIRECT_MAX_TIMES",
    "concurrency": "CONCURRENT_REQUESTS",
    "attachment_max_bytes": "POLICYWATCH_ATTACHMENT_MAXSIZE",
    "fetch_attachments": "POLICYWATCH_FETCH_ATTACHMENTS",
    "workers": "POLICYWATCH_WORKERS",  # page-analysis processes: "auto" (cores - 1) or a number
    "sources_at_once": "POLICYWATCH_SOURCES_AT_ONCE",  # sources crawled at the same time
}

# Sources crawled at the same time by one `policywatch crawl`; the others wait their turn. Every
# source crawling at once has its own Scrapy crawler, connection pool and database engine:
# 300 sources at once took 756 MB and 1,526 open files, past the usual limit of 1,024.
SOURCES_AT_ONCE = 32


@dataclass
class CrawlJob:
    source: Source
    source_id: int
    run_id: int
    urls: list[str] = field(default_factory=list)  # set: fetch these URLs only
    # set: share the crawl with other workers through this Redis (crawler.distributed)
    redis_url: str | None = None


def default_workers() -> int:
    """One page-analysis worker per core but one (the reactor and storage need a core of their own)."""
    return max((os.cpu_count() or 1) - 1, 0)


def analysis_workers(setting: Any) -> int:
    """The page-analysis workers ``[crawl] workers`` asks for (checked already): "auto" or a number."""
    return default_workers() if setting in (None, "auto") else max(int(setting), 0)
