"""The first-crawl aim, measured against noise: urlwatch's first check and policywatch's first
crawl of the same fresh site, one after the other, ``--repeat`` times; each pair gives a ratio.

    python bench/aim_bench.py [--docs 2000] [--repeat 5] [--backends sqlite]

On a shared machine one run's ratio moves by ±0.15 with the load of the moment; pairs measured
back to back see about the same load, and the median of their ratios is the figure to quote.
Needs `pip install -e '.[bench]'` (urlwatch); PostgreSQL as for ``python -m bench``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backends", default="sqlite", help="comma-separated: sqlite,postgresql")
    args = parser.parse_args(argv)
    backends = tuple(b.strip() for b in args.backends.split(",") if b.strip())
    if args.docs < 1 or args.repeat < 1 or set(backends) - {"sqlite", "postgresql"}:
        parser.error("bad arguments")

    from bench.pipeline import BenchOptions, aim_first_crawls

    opts = BenchOptions(docs=args.docs, backends=backends)
    pg_server = None
    if "postgresql" in backends:
        from tests.servers import PostgresServer

        pg_server = PostgresServer().start()
    pairs: list[dict[str, float]] = []
    try:
        for attempt in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="pw-aim-") as tmp:
                out = aim_first_crawls(args.docs, opts, Path(tmp), _stamp(attempt + 1),
                                       pg_server, uw=True, pair=attempt + 1)
            row = {"urlwatch": out["urlwatch_first"]["seconds"]}
            for backend, result in out["backends"].items():
                row[backend] = result["seconds"]
            pairs.append(row)
    finally:
        if pg_server is not None:
            pg_server.stop()

    print(f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print("policywatch's bytecode: compiled before the runs, as pip does for an installed package "
          "(bench.pipeline.precompile)")
    print(f"Command: python bench/aim_bench.py --docs {args.docs} --repeat {args.repeat} --backends {args.backends}\n")
    print("| pair | urlwatch (s) | " + " | ".join(f"{b} (s) | {b} ÷ urlwatch (speed)" for b in backends) + " |")
    print("|---|---|" + "---|---|" * len(backends))
    for index, row in enumerate(pairs, 1):
        cells = " | ".join(f"{row[b]:.1f} | {row['urlwatch'] / row[b]:.2f}×" for b in backends)
        print(f"| {index} | {row['urlwatch']:.1f} | {cells} |")
    medians = " | ".join(f"{statistics.median(r[b] for r in pairs):.1f} | "
                         f"**{statistics.median(r['urlwatch'] / r[b] for r in pairs):.2f}×**" for b in backends)
    print(f"| median | {statistics.median(r['urlwatch'] for r in pairs):.1f} | {medians} |")
    return 0


def _stamp(attempt: int):  # noqa: ANN202
    return lambda msg: print(f"[{attempt}] {msg}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
