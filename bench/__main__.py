"""python -m bench [--docs 10000] [--revise 5] [--backends sqlite,postgresql] [--quick] [--out FILE]

The whole-pipeline benchmark (see bench/pipeline.py): policywatch's crawls, storage, diff and
digest next to the fetch and parse floors and urlwatch, on SQLite and PostgreSQL. Prints a
Markdown report (and writes it to --out).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=None, help="documents (default 10000; 1000 with --quick)")
    parser.add_argument("--revise", type=int, default=5, help="percent revised in release 1 (default 5)")
    parser.add_argument("--backends", default=None,
                        help="comma-separated: sqlite,postgresql (default both; sqlite with --quick)")
    parser.add_argument("--quick", action="store_true", help="1,000 documents, SQLite only (for iteration)")
    parser.add_argument("--out", type=Path, default=None, help="also write the Markdown report here")
    parser.add_argument("--no-urlwatch", action="store_true", help="skip the urlwatch peer")
    parser.add_argument("--profile", action="store_true",
                        help="also profile a first crawl (cProfile, up to --profile-docs documents)")
    parser.add_argument("--profile-docs", type=int, default=2000)
    parser.add_argument("--aim-docs", type=int, default=2000,
                        help="also crawl a fresh site of this many documents, with urlwatch, for the "
                             "first-crawl aims (default 2000; 0 = off)")
    parser.add_argument("--aim-pairs", type=int, default=3,
                        help="back-to-back pairs (urlwatch, then each backend) for those aims; the "
                             "median of their ratios decides (default 3)")
    parser.add_argument("--parse-sample", type=int, default=2000,
                        help="pages timed by the parse floor (default 2000)")
    args = parser.parse_args(argv)

    from bench.pipeline import BenchOptions, run_bench

    docs = args.docs if args.docs is not None else (1000 if args.quick else 10_000)
    backends = args.backends or ("sqlite" if args.quick else "sqlite,postgresql")
    names = tuple(b.strip() for b in backends.split(",") if b.strip())
    unknown = set(names) - {"sqlite", "postgresql"}
    if unknown or docs < 1 or not 1 <= args.revise <= 100 or args.aim_pairs < 1:
        parser.error(f"bad arguments: backends {sorted(unknown)}, docs {docs}, revise {args.revise}, "
                     f"aim pairs {args.aim_pairs}")
    opts = BenchOptions(docs=docs, revise=args.revise, backends=names, urlwatch=not args.no_urlwatch,
                        parse_sample=args.parse_sample, profile=args.profile,
                        profile_docs=args.profile_docs, aim_docs=args.aim_docs,
                        aim_pairs=args.aim_pairs, out=args.out,
                        command=shlex.join(["python", "-m", "bench", *argv]))
    result = run_bench(opts)
    print(result.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
