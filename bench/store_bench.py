"""What storing one version costs: ``store_snapshot`` + commit over synthetic snapshots.

    python bench/store_bench.py [--docs 1000] [--revise 5] [--url sqlite:///…|postgresql://…]

The snapshots are built first (extraction and parsing are not timed) from the synthetic site's
pages (``bench.site.ReleasedSite``: 5 seeds, varied titles and numbers, ``--revise`` % of them
edited in release 1). Then, against a fresh database brought up by the migrations, each snapshot
is stored in a transaction of its own (as the crawl pipeline does): first every document, then
the revised documents' release-1 pages. Prints milliseconds per stored version (wall clock, and
the CPU time of this process: steadier on a busy machine) and the bytes the database takes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def build_snapshots(docs: int, revise: int) -> tuple[list[Any], list[Any]]:
    """(release-0 snapshots of every document, release-1 snapshots of the revised ones)."""
    from bench.site import ReleasedSite
    from crawler.snapshot import build_snapshot

    site = ReleasedSite(docs, revise_percent=revise)
    base = "http://127.0.0.1:8000"

    def snap(index: int) -> Any:
        return build_snapshot(site.detail_url(base, index), site.detail(index),
                              "text/html; charset=utf-8", last_modified=site.last_modified(index))

    first = [snap(i) for i in range(docs)]
    site.release = 1
    revised = [snap(i) for i in site.revised_indexes()]
    return first, revised


def database_bytes(url: str) -> int:
    from sqlalchemy import text

    from storage.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                path = Path(engine.url.database or "")
                wal = Path(str(path) + "-wal")
                return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
            return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar())
    finally:
        engine.dispose()


def time_stores(url: str, first: list[Any], revised: list[Any]) -> dict[str, Any]:
    from storage.db import make_engine, session_factory, session_scope, upgrade
    from storage.documents import ensure_source, store_snapshot

    upgrade(url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    times: list[float] = []
    cpu = 0.0
    try:
        with session_scope(sessions) as session:
            source_id = ensure_source(session, "synthetic", "html_pages", {}).id
        for snapshot in [*first, *revised]:
            started, cpu_started = time.perf_counter(), time.process_time()
            with session_scope(sessions) as session:
                store_snapshot(session, source_id, snapshot)
            times.append((time.perf_counter() - started) * 1000)
            cpu += time.process_time() - cpu_started
    finally:
        engine.dispose()
    return {"versions": len(times), "mean_ms": statistics.fmean(times),
            "median_ms": statistics.median(times), "first_mean_ms": statistics.fmean(times[:len(first)]),
            "revised_mean_ms": statistics.fmean(times[len(first):]) if revised else float("nan"),
            "cpu_ms": cpu * 1000 / len(times),
            "bytes": database_bytes(url)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--revise", type=int, default=5)
    parser.add_argument("--url", default=None, help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--repeat", type=int, default=1, help="runs (fresh database each); best is shown")
    args = parser.parse_args(argv)
    first, revised = build_snapshots(args.docs, args.revise)
    runs = []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="pw-store-") as tmp:
            url = args.url or f"sqlite:///{Path(tmp) / f'store{i}.db'}"
            runs.append(time_stores(url, first, revised))
            if args.url:
                break  # a given database is not fresh twice
    best = min(runs, key=lambda r: r["mean_ms"])
    print(f"stored {best['versions']} versions ({len(first)} documents, {len(revised)} revised): "
          f"{best['mean_ms']:.2f} ms/version mean (median {best['median_ms']:.2f}; CPU {best['cpu_ms']:.2f}; "
          f"first versions {best['first_mean_ms']:.2f}, revisions {best['revised_mean_ms']:.2f}); "
          f"database {best['bytes'] / 2**20:.2f} MB, {best['bytes'] / best['versions']:,.0f} B/version")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
