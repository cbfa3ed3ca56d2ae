"""Crawl benchmark: a first crawl of a synthetic site, then unchanged recrawls (incremental and
full sweep): documents/s, requests, bytes, 304 share, time, and the crawl child's peak RSS.

    python bench/crawl_bench.py [--docs 2000]

Politeness is off for the measurement (no delay, no AutoThrottle, no robots, 16 concurrent).
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synthetic import LIST_PATH, SyntheticSite  # noqa: E402
from storage.db import upgrade  # noqa: E402


def _config(path: Path, database_url: str, base: str, full_sweep_every: int) -> Path:
    path.write_text(
        f'[database]\nurl = "{database_url}"\n\n'
        f'[[sources]]\nname = "synthetic"\nkind = "html_pages"\n'
        f'start_urls = ["{base}{LIST_PATH}index.html"]\nallowed_domains = ["127.0.0.1"]\n'
        f'item_selector = "ul.list li a"\nnext_selector = "div.page a.next"\nmax_pages = 1000\n'
        f"full_sweep_every = {full_sweep_every}\nconcurrency_per_domain = 16\ndownload_delay = 0\n"
        f"obey_robots = false\n\n"
        "[crawl]\nautothrottle = false\ndownload_delay = 0\nobey_robots = false\n"
        "concurrency = 16\nconcurrency_per_domain = 16\n", encoding="utf-8")
    return path


def _crawl(config: Path) -> dict[str, float]:
    import psutil

    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "monitor", "crawl", "--config", str(config), "-q",
                              "--format", "json"], cwd=str(ROOT), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    peak = 0
    proc = psutil.Process(child.pid)
    while child.poll() is None:
        try:
            peak = max(peak, proc.memory_info().rss)
        except psutil.Error:
            break
        time.sleep(0.05)
    out, err = child.communicate()
    elapsed = time.perf_counter() - started
    if child.returncode not in (0, 1):
        raise SystemExit(f"crawl failed: {err[-2000:]}")
    report = json.loads(out)[0]
    return {"seconds": elapsed, "peak_rss_mb": peak / 2**20, **report}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=2000)
    args = parser.parse_args(argv)
    site = SyntheticSite(args.docs)
    base = site.start()
    rows = []
    with tempfile.TemporaryDirectory(prefix="pw-crawl-bench-") as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(database_url)
        incremental = _config(Path(tmp) / "incremental.toml", database_url, base, 10)
        full = _config(Path(tmp) / "full.toml", database_url, base, 1)
        for label, config in (("first crawl", incremental), ("unchanged recrawl (incremental)", incremental),
                              ("unchanged recrawl (full sweep)", full)):
            site.reset_counts()
            result = _crawl(config)
            counts = dict(site.counts)
            detail_requests = sum(v for k, v in counts.items() if k.startswith("detail_"))
            not_fetched = args.docs - detail_requests
            answered_304 = counts.get("detail_304", 0)
            rows.append({
                "run": label, "seconds": result["seconds"],
                "docs_per_s": result["documents_seen"] / result["seconds"],
                "requests": counts.get("requests", 0), "detail_requests": detail_requests,
                "detail_304": answered_304, "skipped": not_fetched,
                "cheap_share": (answered_304 + not_fetched) / args.docs,
                "mb_sent": counts.get("bytes", 0) / 2**20, "versions_new": result["versions_new"],
                "peak_rss_mb": result["peak_rss_mb"], "status": result["status"],
            })
    site.stop()
    first = rows[0]["seconds"]
    print(f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"Command: python bench/crawl_bench.py --docs {args.docs}\n")
    print("| run | time (s) | docs/s | requests | detail requests | 304 | not requested | 304 or skipped "
          "| MB sent | new versions | peak RSS (MB) | speed-up vs first |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['run']} | {r['seconds']:.1f} | {r['docs_per_s']:.1f} | {r['requests']} | "
              f"{r['detail_requests']} | {r['detail_304']} | {r['skipped']} | {r['cheap_share']:.1%} | "
              f"{r['mb_sent']:.2f} | {r['versions_new']} | {r['peak_rss_mb']:.0f} | "
              f"{first / r['seconds']:.1f}× |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
