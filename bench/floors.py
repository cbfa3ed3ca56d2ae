"""The floors every crawl figure is divided by: what the bare minimum costs on this machine.

- fetch floor: a plain concurrent fetch of the detail pages — ``http.client`` with one
  keep-alive connection per thread, 16 threads — pages/s (the HTTP server shares the machine);
- parse floor: BeautifulSoup with lxml extracting the body text (``.article-content``
  ``get_text``) of the same pages, one core, pages/s;
- Scrapy floor: Scrapy itself, with policywatch's concurrency, fetching the same detail pages
  with a spider that does nothing with them — what the mandated framework costs before any
  extraction or storage (pages/s from the engine's start, interpreter start excluded);
- policywatch's own stages, each alone: the analysis of a page (``build_snapshot``) and the
  storing of its version (``store_snapshot``, one transaction each, fresh SQLite), CPU per page
  in one process, no fetching and no queues. With the Scrapy floor's CPU per page and the start
  of a one-document crawl they bound the pipeline from below (``bench.pipeline.ideal_pipeline``).

Each runs in a child process of its own (``python -m bench.floors fetch|parse …``), so the
server threads of the benchmark process do not share its interpreter lock.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

ROOT_HINT = "run from the repository root: python -m bench.floors …"


def fetch_floor(base: str, docs: int, threads: int = 16) -> dict[str, float]:
    from bench.synthetic import _BASE_ID, LIST_PATH

    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    if host not in ("127.0.0.1", "localhost"):
        raise ValueError("the fetch floor only talks to 127.0.0.1")
    local = threading.local()

    def get(index: int) -> int:
        path = f"{LIST_PATH}content/post_{_BASE_ID + index}.html"
        for _attempt in range(3):  # bounded: a dropped keep-alive connection is reopened
            conn = getattr(local, "conn", None)
            if conn is None:
                conn = local.conn = http.client.HTTPConnection(host, port, timeout=30)
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                if response.status != 200:
                    raise RuntimeError(f"HTTP {response.status} for {path}")
                return len(body)
            except (http.client.HTTPException, OSError):
                conn.close()
                local.conn = None
        raise RuntimeError(f"could not fetch {path}")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        sizes = list(pool.map(get, range(docs)))
    seconds = time.perf_counter() - started
    return {"pages": docs, "seconds": seconds, "pages_per_s": docs / seconds, "bytes": sum(sizes),
            "threads": threads}


def parse_floor(docs: int, sample: int) -> dict[str, float]:
    from bs4 import BeautifulSoup

    from bench.synthetic import SyntheticSite

    site = SyntheticSite(docs)
    count = min(docs, sample)
    pages = [site.detail(i) for i in range(count)]
    BeautifulSoup(pages[0], "lxml")  # import/parser warm-up outside the timing
    chars = 0
    started = time.perf_counter()
    for page in pages:
        soup = BeautifulSoup(page, "lxml")
        body = soup.select_one(".article-content")
        if body is None:
            raise RuntimeError("no .article-content in a synthetic page")
        chars += len(body.get_text("\n"))
    seconds = time.perf_counter() - started
    return {"pages": count, "seconds": seconds, "pages_per_s": count / seconds,
            "bytes": sum(len(p) for p in pages), "text_chars": chars}


def scrapy_floor(base: str, docs: int, concurrency: int = 16) -> dict[str, float]:
    import resource

    import scrapy
    from scrapy.crawler import CrawlerProcess

    from bench.synthetic import _BASE_ID, LIST_PATH

    if urlsplit(base).hostname not in ("127.0.0.1", "localhost"):
        raise ValueError("the Scrapy floor only talks to 127.0.0.1")
    sizes: list[int] = []

    class FloorSpider(scrapy.Spider):
        name = "floor"

        async def start(self):  # type: ignore[override]
            for index in range(docs):
                yield scrapy.Request(f"{base}{LIST_PATH}content/post_{_BASE_ID + index}.html", dont_filter=True)

        def parse(self, response):  # type: ignore[override]
            sizes.append(len(response.body))
            return iter(())

    process = CrawlerProcess({"LOG_LEVEL": "ERROR", "CONCURRENT_REQUESTS": concurrency,
                              "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency, "DOWNLOAD_DELAY": 0,
                              "ROBOTSTXT_OBEY": False, "COOKIES_ENABLED": False, "CONCURRENT_ITEMS": 4,
                              "TELNETCONSOLE_ENABLED": False})
    process.crawl(FloorSpider)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    process.start()
    seconds = time.perf_counter() - started
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    if len(sizes) != docs:
        raise RuntimeError(f"the Scrapy floor fetched {len(sizes)} of {docs} pages")
    return {"pages": docs, "seconds": seconds, "pages_per_s": docs / seconds, "bytes": sum(sizes),
            "cpu_seconds": cpu}


def stages_floor(docs: int, sample: int) -> dict[str, float]:
    import tempfile
    from pathlib import Path

    from bench.site import ReleasedSite
    from bench.store_bench import time_stores
    from crawler.snapshot import build_snapshot

    site = ReleasedSite(docs)  # release 0: the pages a first crawl fetches
    count = min(docs, sample)
    base = "http://127.0.0.1:8000"
    pages = [(site.detail_url(base, i), site.detail(i), site.last_modified(i)) for i in range(count)]
    build_snapshot(*pages[0][:2], "text/html; charset=utf-8")  # imports and caches outside the timing
    started = time.process_time()
    snapshots = [build_snapshot(url, body, "text/html; charset=utf-8", last_modified=modified)
                 for url, body, modified in pages]
    analysis = time.process_time() - started
    with tempfile.TemporaryDirectory(prefix="pw-stages-") as tmp:
        stored = time_stores(f"sqlite:///{Path(tmp) / 'stages.db'}", snapshots, [])
    return {"pages": count, "analysis_ms": analysis * 1000 / count, "store_ms": stored["cpu_ms"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="which", required=True)
    fetch = sub.add_parser("fetch")
    fetch.add_argument("--base", required=True)
    fetch.add_argument("--docs", type=int, required=True)
    fetch.add_argument("--threads", type=int, default=16)
    scrapy_p = sub.add_parser("scrapy")
    scrapy_p.add_argument("--base", required=True)
    scrapy_p.add_argument("--docs", type=int, required=True)
    parse = sub.add_parser("parse")
    parse.add_argument("--docs", type=int, required=True)
    parse.add_argument("--sample", type=int, default=2000)
    stages = sub.add_parser("stages")
    stages.add_argument("--docs", type=int, required=True)
    stages.add_argument("--sample", type=int, default=2000)
    args = parser.parse_args(argv)
    if args.which == "fetch":
        result = fetch_floor(args.base, args.docs, args.threads)
    elif args.which == "scrapy":
        result = scrapy_floor(args.base, args.docs)
    elif args.which == "stages":
        result = stages_floor(args.docs, args.sample)
    else:
        result = parse_floor(args.docs, args.sample)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
