"""A synthetic government site for the crawl benchmark: N detail pages built from the seed texts
(varied titles and numbers), an HTML list paginated 20 a page, ETag/Last-Modified and 304s.

A small threaded HTTP server on 127.0.0.1 that counts requests, statuses and bytes sent.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
from collections import Counter
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SEEDS = Path(__file__).resolve().parent.parent / "replica" / "data" / "seeds"
PAGE_SIZE = 20
LIST_PATH = "/zwgk/tzgg/"
_DETAIL_RE = re.compile(r"^/zwgk/tzgg/content/post_(\d+)\.html$")
_LIST_RE = re.compile(r"^/zwgk/tzgg/index(?:_(\d+))?\.html$")
_BASE_ID = 5_000_000
_EPOCH = 1_700_000_000  # Last-Modified of document 0, one hour older per document


def _seed_texts() -> list[tuple[str, list[str]]]:
    seeds = []
    for path in sorted(SEEDS.glob("*.txt")):
        lines = [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip()]
        seeds.append((lines[0], lines[1:]))
    return seeds


class SyntheticSite:
    def __init__(self, documents: int = 2000) -> None:
        self.documents = documents
        self._seeds = _seed_texts()
        self._cache: dict[int, bytes] = {}
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # content ---------------------------------------------------------------------------------
    def detail(self, index: int) -> bytes:
        if index not in self._cache:
            title, lines = self._seeds[index % len(self._seeds)]
            number = 1000 + index
            title = f"{re.sub(r'20[0-9]{2}', str(2000 + index % 25), title)}(第{number}号)"
            body = "".join(f"<p>{html.escape(re.sub(r'5000', str(5000 + index), line))}</p>" for line in lines)
            page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                    f"</head><body><div class='position'>当前位置:首页 &gt; 通知公告</div>"
                    f"<div class='classify'><table><tr><td>文号</td><td>粤工信函〔2024〕{number}号</td></tr>"
                    f"<tr><td>发布日期</td><td>2024-01-{1 + index % 28:02d}</td></tr></table></div>"
                    f"<h1 class='title'>{html.escape(title)}</h1><div class='article-content'>{body}</div>"
                    f"<div class='visit'>浏览量:{index * 7}</div></body></html>")
            self._cache[index] = page.encode("utf-8")
        return self._cache[index]

    def list_page(self, page: int) -> bytes:
        start = (page - 1) * PAGE_SIZE
        items = "".join(
            f"<li><a href='{LIST_PATH}content/post_{_BASE_ID + i}.html'>文件 {i}</a><span>2024-01-01</span></li>"
            for i in range(start, min(start + PAGE_SIZE, self.documents)))
        pages = (self.documents + PAGE_SIZE - 1) // PAGE_SIZE
        nxt = f"<a class='next' href='index_{page + 1}.html'>下一页</a>" if page < pages else ""
        return (f"<html><head><meta charset='utf-8'><title>通知公告</title></head><body>"
                f"<ul class='list'>{items}</ul><div class='page'>{nxt}</div></body></html>").encode()

    def last_modified(self, index: int) -> str:
        return formatdate(_EPOCH - index * 3600, usegmt=True)

    # HTTP ------------------------------------------------------------------------------------
    def respond(self, path: str, headers: Any) -> tuple[int, dict[str, str], bytes]:
        match = _DETAIL_RE.match(path)
        if match and 0 <= int(match.group(1)) - _BASE_ID < self.documents:
            index = int(match.group(1)) - _BASE_ID
            body = self.detail(index)
            etag = '"' + hashlib.md5(body).hexdigest() + '"'
            modified = self.last_modified(index)
            out = {"Content-Type": "text/html; charset=utf-8", "ETag": etag, "Last-Modified": modified}
            if headers.get("If-None-Match") == etag or headers.get("If-Modified-Since") == modified:
                return 304, out, b""
            return 200, out, body
        match = _LIST_RE.match(path)
        if match:
            page = int(match.group(1) or 1)
            if match.group(1) != "1" and 1 <= page <= (self.documents + PAGE_SIZE - 1) // PAGE_SIZE:
                return 200, {"Content-Type": "text/html; charset=utf-8"}, self.list_page(page)
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow:\n"
        return 404, {"Content-Type": "text/html"}, b"<html><body>404</body></html>"

    def start(self) -> str:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The headers and the body go out in two sends; on a keep-alive connection Nagle's
            # algorithm would hold the body until the client's delayed ACK (~40 ms), capping
            # any keep-alive client at ~400 pages/s (measured: 340 → 1,100 without it).
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802
                status, headers, body = site.respond(self.path.split("?", 1)[0], self.headers)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                kind = "detail" if "/content/" in self.path else "list"
                with site._lock:
                    site.counts[f"{kind}_{status}"] += 1
                    site.counts["requests"] += 1
                    site.counts["bytes"] += len(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128

        self._server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
