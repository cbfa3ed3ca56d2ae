"""The crawl's Scrapy stats collector (crawler.stats): the same counts as Scrapy's own, without
its per-access shim, and quiet about the ``spider`` argument scrapy-redis still passes."""

from __future__ import annotations

import warnings

from scrapy.spiders import Spider
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from crawler.runner import base_settings
from crawler.stats import PlainStats


def _stats(cls: type) -> MemoryStatsCollector:
    crawler = get_crawler(Spider, {**base_settings("sqlite://", None), "STATS_CLASS": cls})
    return crawler.stats


def test_a_crawl_counts_with_the_plain_collector() -> None:
    stats = _stats(base_settings("sqlite://", None)["STATS_CLASS"])
    assert type(stats) is PlainStats
    assert type(stats).__getattribute__ is object.__getattribute__  # no shim left on the path


def _count(stats: MemoryStatsCollector) -> list[str]:
    """Count as a crawl does; the warnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stats.open_spider()
        for _ in range(3):
            stats.inc_value("downloader/response_count")
        stats.inc_value("downloader/response_bytes", 500, start=10)
        stats.max_value("max", 4)
        stats.max_value("max", 2)
        stats.min_value("min", 4)
        stats.min_value("min", 2)
        stats.set_value("finish_reason", "finished")
        stats.inc_value("passed/spider", spider=Spider("s"))  # as scrapy-redis calls it
    return [str(w.message) for w in caught]


def test_it_counts_what_scrapys_collector_counts() -> None:
    plain, scrapys = _stats(PlainStats), _stats(MemoryStatsCollector)
    plain_warnings, scrapys_warnings = _count(plain), _count(scrapys)
    assert plain.get_stats() == scrapys.get_stats() == {
        "downloader/response_count": 3, "downloader/response_bytes": 510, "max": 4, "min": 2,
        "finish_reason": "finished", "passed/spider": 1}
    assert plain_warnings == []
    # Scrapy's own (2.13 on) warns about the spider argument, a warning that says nothing to a user
    assert all("spider" in message for message in scrapys_warnings)
