"""Parse throughput over the seed documents: clean + normalize + understand, docs/s and ms per 25 KB."""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.document import clean_text, normalize_for_compare, understand  # noqa: E402

logger = logging.getLogger(__name__)
SEEDS = ROOT / "replica" / "data" / "seeds"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=40, help="passes over the five seeds")
    args = parser.parse_args(argv)
    docs = [(p.name, p.read_text("utf-8")) for p in sorted(SEEDS.glob("*.txt"))]
    for _, text in docs:  # warm up (regex compilation, caches)
        understand(text)
    per_doc_ms: list[float] = []
    per_25kb_ms: list[float] = []
    total_bytes = 0
    started = time.perf_counter()
    for _ in range(args.rounds):
        for _, text in docs:
            t0 = time.perf_counter()
            clean_text(text)
            normalize_for_compare(text)
            understand(text)
            ms = (time.perf_counter() - t0) * 1000
            size = len(text.encode("utf-8"))
            total_bytes += size
            per_doc_ms.append(ms)
            per_25kb_ms.append(ms * 25_000 / size)
    elapsed = time.perf_counter() - started
    n = len(per_doc_ms)
    print(f"machine: {platform.platform()} | python {platform.python_version()} | {os.cpu_count()} CPUs | {platform.processor() or platform.machine()}")
    print(f"documents: {len(docs)} seeds x {args.rounds} rounds = {n} parses, {total_bytes / n / 1000:.1f} KB average")
    print("work per document: clean_text + normalize_for_compare + understand (each cleans once)")
    print(f"throughput: {n / elapsed:.0f} docs/s, {total_bytes / elapsed / 1e6:.2f} MB/s")
    print(f"per document: p50 {statistics.median(per_doc_ms):.2f} ms, p95 {_percentile(per_doc_ms, 0.95):.2f} ms")
    print(f"per 25 KB:    p50 {statistics.median(per_25kb_ms):.2f} ms, p95 {_percentile(per_25kb_ms, 0.95):.2f} ms (target < 5 ms)")
    for name, text in docs:
        t0 = time.perf_counter()
        for _ in range(10):
            understand(text)
        print(f"  {name}: {len(text.encode('utf-8')) / 1000:.1f} KB, understand {(time.perf_counter() - t0) * 100:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
