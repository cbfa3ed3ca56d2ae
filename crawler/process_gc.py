"""The cyclic garbage collector of a long-lived crawl process (the crawl process, the storage
process), told what it keeps once it has started."""

from __future__ import annotations

import gc

# Young objects collected once this many more are allocated than freed (CPython's default: 700).
GC_YOUNG_THRESHOLD = 10_000


def settle_gc() -> None:
    """Once a long-lived process has imported and built what it keeps, tell the cyclic garbage
    collector so. ``gc.freeze`` moves every object alive now (the modules of Scrapy, Twisted,
    SQLAlchemy: hundreds of thousands) out of the generations a collection walks, and a higher
    first threshold makes fewer, larger young collections. Measured on a first crawl of 2,000
    pages: the crawl process spent 0.74 s of its ~5 s of CPU collecting; 0.17 s after this."""
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)
