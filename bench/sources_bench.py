"""Many sources in one `policywatch crawl`: time, peak RSS (the crawl and its helper processes)
and the crawl process's most open file descriptors, for N sources of one list page each.

    python bench/sources_bench.py --sources 300 [--at-once 32] [--pages 1]

`--at-once N` (as many as the sources) shows what crawling every source at the same time costs.
Every source reads the same synthetic site on 127.0.0.1 (20 documents a list page) under its own
name, so each stores its own documents. Politeness off, as in the other crawl benchmarks.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synthetic import LIST_PATH, SyntheticSite  # noqa: E402
from storage.db import upgrade  # noqa: E402


def _config(path: Path, database_url: str, base: str, sources: int, pages: int, at_once: int) -> Path:
    parts = [f'[database]\nurl = "{database_url}"\n\n[crawl]\nautothrottle = false\ndownload_delay = 0\n'
             f"obey_robots = false\nsources_at_once = {at_once}\n\n"]
    for index in range(sources):
        parts.append(
            f'[[sources]]\nname = "s{index}"\nkind = "html_pages"\nstart_urls = ["{base}{LIST_PATH}index.html"]\n'
            f'allowed_domains = ["127.0.0.1"]\nitem_selector = "ul.list li a"\nnext_selector = "div.page a.next"\n'
            f"max_pages = {pages}\ndownload_delay = 0\nobey_robots = false\n\n")
    path.write_text("".join(parts), encoding="utf-8")
    return path


def run(sources: int, pages: int, at_once: int) -> dict[str, object]:
    import psutil

    site = SyntheticSite(max(20 * pages, 20))
    base = site.start()
    try:
        with tempfile.TemporaryDirectory(prefix="pw-sources-bench-") as tmp:
            database_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            upgrade(database_url)
            config = _config(Path(tmp) / "c.toml", database_url, base, sources, pages, at_once)
            out_path, err_path = Path(tmp) / "out.json", Path(tmp) / "err.txt"
            with out_path.open("w") as out, err_path.open("w") as err:
                started = time.perf_counter()
                child = subprocess.Popen([sys.executable, "-m", "monitor", "crawl", "--config", str(config),
                                          "-q", "--format", "json"], cwd=str(ROOT), stdout=out, stderr=err)
                proc = psutil.Process(child.pid)
                peak = fds = 0
                while child.poll() is None:  # ends with the child
                    try:
                        rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
                        peak, fds = max(peak, rss), max(fds, proc.num_fds())
                    except psutil.Error:
                        pass
                    time.sleep(0.1)
                seconds = time.perf_counter() - started
            if child.returncode not in (0, 1):
                raise SystemExit(f"crawl failed: {err_path.read_text()[-2000:]}")
            reports = json.loads(out_path.read_text())
    finally:
        site.stop()
    return {"sources": sources, "at_once": at_once, "seconds": seconds, "peak_rss_mb": peak / 2**20,
            "max_fds": fds, "documents": sum(r["documents_seen"] for r in reports),
            "errors": sum(r["errors"] for r in reports), "statuses": dict(Counter(r["status"] for r in reports))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=300)
    parser.add_argument("--pages", type=int, default=1, help="list pages per source (20 documents each)")
    parser.add_argument("--at-once", type=int, default=32, help="[crawl] sources_at_once")
    args = parser.parse_args(argv)
    result = run(args.sources, args.pages, args.at_once)
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"command: python bench/sources_bench.py --sources {args.sources} --pages {args.pages} "
          f"--at-once {args.at_once}")
    print(f"{result['sources']} sources, {result['at_once']} at once: {result['seconds']:.1f} s, "
          f"{result['documents']} documents ({result['documents'] / result['seconds']:.0f}/s), "
          f"peak RSS {result['peak_rss_mb']:.0f} MB, at most {result['max_fds']} open files, "
          f"runs {result['statuses']}, errors {result['errors']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
