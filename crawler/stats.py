"""Scrapy's in-memory stats collector, without the shim Scrapy puts on every access to it.

Why: since Scrapy 2.13 ``StatsCollector.__getattribute__`` runs on every attribute access of
the collector, its own methods' accesses to ``self._stats`` included: it formats a name, looks
up a cached wrapper and, for every attribute but the ten public methods, fails with an
AttributeError before the real lookup; the public methods are wrapped to warn when a caller
passes the deprecated ``spider`` argument. A count costs 1.7 µs through the shim, 0.1 µs
without it (``inc_value``, timeit), and Scrapy's core counts some fifteen stats a page: ~50 ms
of the crawl process's ~3.8 s of CPU in a first crawl of 2,000 pages (too little to show in the
wall time of a crawl on these noisy machines; py-spy put the shim at ~2 % of that process).
The counts are the same; a ``spider`` argument (scrapy-redis still passes one) is accepted and
ignored, without a warning.
"""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector


class PlainStats(MemoryStatsCollector):
    """MemoryStatsCollector with Python's own attribute lookup (``STATS_CLASS``)."""

    __getattribute__ = object.__getattribute__
