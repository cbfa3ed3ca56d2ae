"""What storing a new, distinct document costs as the store grows, when every document has one
line in common (a salutation such as 各地级以上市人民政府，省政府各部门、各直属机构：).

    python bench/common_line_bench.py [--docs 1000,10000] [--backends sqlite,postgresql]

Such a line can be one of the min-hashes of every text that has it (``storage.content.sketch``),
and a near-duplicate lookup that counted every text sharing a key grew with the store: each new
document's lookup read them all. For each size N: N distinct documents with the line are stored
(batches of 500), then 300 more, one transaction, timed (wall clock, milliseconds a document).
A flat figure from the smaller N to the larger is what this measures. PostgreSQL: a throwaway
server as for ``python -m bench`` (Debian's ``postgresql``).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TIMED = 300


@dataclass
class _Page:
    """What store_snapshot reads of a snapshot."""

    url: str
    canonical_key: str
    text: str
    title: str = "关于下达专项资金安排的通知"
    content_hash: str = ""
    structure: dict[str, Any] = field(default_factory=lambda: {"schema": 1, "metadata": {}})
    attachments: list[dict[str, Any]] = field(default_factory=list)
    content_type: str | None = "text/html; charset=utf-8"
    encoding: str | None = "utf-8"
    etag: str | None = None
    last_modified: str | None = None

    @property
    def normalized_text(self) -> str:
        return self.text

    @property
    def raw(self) -> bytes:
        body = "".join(f"<p>{line}</p>" for line in self.text.split("\n"))
        return f"<html><head><title>{self.title}</title></head><body>{body}</body></html>".encode()


def _lines(n: int) -> list[str]:
    return [f"第{n}号文件 关于第{n}批第{k}项专项资金的安排意见如下所述" for k in range(8)]


def _common_line(sample: int = 300) -> str:
    """A line whose min-hash is below those of the documents' own lines: in every sketch."""
    from storage.content import sketch

    lowest = min(sketch(line)[0] for n in range(sample) for line in _lines(n))
    for i in range(1_000_000):
        line = f"各地级以上市人民政府,省政府各部门、各直属机构{i}:"
        if sketch(line)[0] < lowest:
            return line
    raise RuntimeError("no such line")


def _page(n: int, common: str) -> _Page:
    text = "\n".join([common, *_lines(n)])
    return _Page(f"http://h/post_{n}.html", f"h/post_{n}", text, content_hash=f"h{n}")


def measure(url: str, docs: int, common: str) -> float:
    """Milliseconds a document to store TIMED more after ``docs``."""
    from storage.db import make_engine, session_factory, session_scope, upgrade
    from storage.documents import ensure_source, store_snapshot

    upgrade(url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    try:
        with session_scope(sessions) as s:
            source = ensure_source(s, "bench", "html_pages", {}).id
        for start in range(0, docs, 500):
            with session_scope(sessions) as s:
                for n in range(start, min(start + 500, docs)):
                    store_snapshot(s, source, _page(n, common))
        began = time.perf_counter()
        with session_scope(sessions) as s:
            for n in range(10**7, 10**7 + TIMED):
                store_snapshot(s, source, _page(n, common))
        return (time.perf_counter() - began) / TIMED * 1000
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", default="1000,10000", help="comma-separated store sizes")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    try:
        sizes = [int(n) for n in args.docs.split(",") if n.strip()]
    except ValueError:
        parser.error("--docs: comma-separated integers")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not sizes or min(sizes) < 1 or set(backends) - {"sqlite", "postgresql"}:
        parser.error("bad arguments")
    common = _common_line()
    print(f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print("| backend | " + " | ".join(f"after {n:,}" for n in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for backend in backends:
        cells = []
        if backend == "sqlite":
            for n in sizes:
                with tempfile.TemporaryDirectory(prefix="pw-common-") as tmp:
                    cells.append(measure(f"sqlite:///{Path(tmp) / 'c.db'}", n, common))
        else:
            from tests.servers import PostgresServer

            with PostgresServer() as server:
                cells = [measure(server.create_database(f"common{n}"), n, common) for n in sizes]
        print(f"| {backend} | " + " | ".join(f"{ms:.2f} ms" for ms in cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
