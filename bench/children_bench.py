"""What batching the scheduler's crawls saves: N sources (one list page of 20 documents each)
crawled by one `policywatch crawl` child, then by a child each (the scheduler before session 5),
one after the other; wall time and the children's CPU.

    python bench/children_bench.py [--sources 30]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sources_bench import _config  # noqa: E402
from bench.synthetic import SyntheticSite  # noqa: E402
from storage.db import upgrade  # noqa: E402


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=30)
    args = parser.parse_args(argv)
    site = SyntheticSite(20 * args.sources)
    base = site.start()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="pw-children-") as tmp:
            for mode in ("one child", "a child each"):
                url = f"sqlite:///{Path(tmp) / (mode.replace(' ', '-') + '.db')}"
                upgrade(url)
                config = _config(Path(tmp) / f"{mode.replace(' ', '-')}.toml", url, base, args.sources, 1, 32)
                names = [f"s{i}" for i in range(args.sources)]
                batches = [names] if mode == "one child" else [[name] for name in names]
                cpu, started = _children_cpu(), time.perf_counter()
                for batch in batches:
                    subprocess.run([sys.executable, "-m", "monitor", "crawl", *batch, "--config", str(config), "-q"],
                                   cwd=str(ROOT), check=True, capture_output=True)
                rows.append((mode, time.perf_counter() - started, _children_cpu() - cpu))
    finally:
        site.stop()
    print(f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"Command: python bench/children_bench.py --sources {args.sources}\n")
    print("| crawl children | time (s) | CPU (s) |\n|---|---|---|")
    for mode, seconds, cpu in rows:
        print(f"| {mode} ({args.sources} sources) | {seconds:.1f} | {cpu:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
