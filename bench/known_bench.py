"""What a crawl of a source holds of its stored documents, as the source grows: an incremental walk
of 21 list pages (what an unchanged recrawl walks) against loading every document at start (what
every crawl did before session 8, and a full sweep still does up to 50,000 documents,
``crawler.known.LOAD_ALL_MOST``).

    python bench/known_bench.py [--docs 1000,10000,100000]

For each size N, a source with N stored documents (each with an ETag, a Last-Modified, a raw
hash and one version) is written to a migrated SQLite database; then, five times each, the
median wall time and, once, the memory kept and at peak (tracemalloc) of
``crawler.known.KnownDocuments``: ``load_all()`` against 21 ``prefetch`` calls of 20 keys.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PAGES, PER_PAGE = 21, 20


def _fill(url: str, docs: int) -> tuple[int, list[str]]:
    """A source with ``docs`` stored documents; its id and its keys, newest first."""
    from sqlalchemy import insert

    from storage.db import make_engine, session_factory, session_scope
    from storage.documents import ensure_source
    from storage.models import Blob, Document, Version, utcnow

    engine = make_engine(url)
    try:
        with session_scope(session_factory(engine)) as session:
            source_id = ensure_source(session, "big", "html_pages", {}).id
            now = utcnow()
            keys = [f"www.example.gov.cn/post_{5_000_000 + n}" for n in range(docs)]
            for start in range(0, docs, 5_000):
                chunk = keys[start:start + 5_000]
                session.execute(insert(Document), [
                    {"source_id": source_id, "canonical_key": key, "url": f"https://{key}.html",
                     "title": "关于印发工作要点的通知", "etag": f'"{n:032x}"',
                     "last_modified": "Tue, 14 Nov 2023 22:13:20 GMT", "version_count": 1,
                     "raw_hash": f"{n:064x}", "last_fetched_at": now}
                    for n, key in enumerate(chunk, start)])
            ids = dict(session.execute(Document.__table__.select()
                                       .with_only_columns(Document.canonical_key, Document.id)).all())
            # one blob for every version's contents: what is measured reads no blob
            blob = session.execute(insert(Blob).returning(Blob.id),
                                   [{"digest": bytes(16), "data": b""}]).scalar_one()
            session.execute(insert(Version), [
                {"document_id": ids[key], "seq": 1, "url": f"https://{key}.html", "title": "",
                 "content_hash": f"{n:064x}", "attachments": [], "text_id": blob,
                 "normalized_id": blob, "page_id": blob} for n, key in enumerate(keys)])
    finally:
        engine.dispose()
    return source_id, keys[::-1]


def _load_all(url: str, source_id: int, docs: int) -> object:
    from crawler.known import KnownDocuments

    # every entry, whatever the size (a crawl loads at most crawler.known.LOAD_ALL_MOST at once)
    known = KnownDocuments(url, source_id, stored=docs, load_all_most=docs)
    known.load_all()
    known.close()
    return known


def _walk(url: str, source_id: int, docs: int, keys: list[str]) -> object:
    from crawler.known import KnownDocuments

    known = KnownDocuments(url, source_id, stored=docs)
    for page in range(PAGES):
        known.prefetch(keys[page * PER_PAGE:(page + 1) * PER_PAGE])
    known.close()
    return known


def _measure(fn: Callable[[], object]) -> tuple[float, float, float]:
    fn()
    times = []
    for _ in range(5):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    kept = fn()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept
    return statistics.median(times) * 1000, current / 1e6, peak / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", default="1000,10000,100000")
    args = parser.parse_args(argv)
    try:
        sizes = [int(n) for n in args.docs.split(",") if n.strip()]
    except ValueError:
        parser.error("--docs takes numbers separated by commas")
    if not sizes or min(sizes) < PAGES * PER_PAGE:
        parser.error(f"each size must be at least {PAGES * PER_PAGE}")

    from storage.db import upgrade

    print(f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"Command: python bench/known_bench.py --docs {args.docs}\n")
    print("| stored documents | load all at start: ms, MB kept (peak) | incremental walk of 21 list pages: ms, MB kept (peak) |")
    print("|---|---|---|")
    for docs in sizes:
        with tempfile.TemporaryDirectory(prefix="pw-known-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'known.db'}"
            upgrade(url)
            source_id, keys = _fill(url, docs)

            loaded = _measure(partial(_load_all, url, source_id, docs))
            walked = _measure(partial(_walk, url, source_id, docs, keys))
            print(f"| {docs:,} | {loaded[0]:.0f} ms, {loaded[1]:.2f} MB ({loaded[2]:.2f}) "
                  f"| {walked[0]:.0f} ms, {walked[1]:.2f} MB ({walked[2]:.2f}) |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
