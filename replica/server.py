"""ReplicaServer: the four Guangdong sites as real HTTP servers on 127.0.0.1, one thread each."""

from __future__ import annotations

import hashlib
import re
import socket
import struct
import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import render
from .catalog import (
    GKMLPT_CATEGORIES,
    GKMLPT_SIDS,
    GKMLPT_TREES,
    LIST_PATHS,
    RELEASES,
    SITES,
    SOURCE_NAMES,
    Catalog,
    Document,
    build_catalog,
)

Response = tuple[int, dict[str, str], bytes]
_DETAIL_RE = re.compile(r"^(?P<prefix>/.*/)content/(?:(?P<a>\d+)/(?P<b>\d+)/)?(?P<kind>m?post)_(?P<id>\d+)\.html$")
_LIST_RE = re.compile(r"^(?P<prefix>/.*/)(?:index(?:_(?P<page>\d+))?\.html)?$")
_API_RE = re.compile(r"^/gkmlpt/api/all/(?P<cat>\d+)$")
_NOT_FOUND = "<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>"


BROWSER_MARKERS = ("Mozilla/", "Chrome/", "Safari/", "Firefox/")
FAULT_KINDS = ("slow", "flaky", "redirect_loop", "huge", "gzip_bomb", "reset")


@dataclass
class Fault:
    """A misbehaviour of one path (see ReplicaServer.set_fault)."""

    kind: str
    delay: float = 0.0  # slow: seconds before answering
    failures: int = 2  # flaky: answer ``status`` this many times, then normally
    status: int = 503
    size: int = 50 * 1024 * 1024  # huge / gzip_bomb: bytes of (decompressed) body
    served: int = field(default=0)


def _html(status: int, body: str | bytes, content_type: str = "text/html; charset=utf-8") -> Response:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return status, {"Content-Type": content_type}, data


class ReplicaServer:
    """Serve the replica sites gd, gdii, gz and gxj on ephemeral (or given) ports of 127.0.0.1."""

    sites = SITES

    def __init__(self, release: int = 0, *, port_base: int | None = None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port_base = port_base
        self.request_log: list[tuple[str, str, int]] = []
        self._release = 0
        self.set_release(release)
        self._overrides: dict[tuple[str, str], Response] = {}
        self._faults: dict[tuple[str, str], Fault] = {}
        self._robots: dict[str, list[str]] = {}
        self.reset_non_browser: set[str] = set()  # sites that drop connections from bot UAs
        self.user_agents: list[str] = []
        self._lock = threading.Lock()
        self._servers: dict[str, ThreadingHTTPServer] = {}
        self._threads: list[threading.Thread] = []

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> ReplicaServer:
        if self._servers:
            return self
        for index, site in enumerate(SITES):
            port = 0 if self.port_base is None else self.port_base + index
            server = _QuietServer((self.host, port), self._handler_class(site))
            server.daemon_threads = True
            thread = threading.Thread(target=server.serve_forever, name=f"replica-{site}", daemon=True)
            thread.start()
            self._servers[site] = server
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> ReplicaServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # configuration ---------------------------------------------------------------------------
    def base_url(self, site: str) -> str:
        if site not in self._servers:
            raise KeyError(f"site {site!r} is not running (known: {', '.join(SITES)})")
        return f"http://{self.host}:{self._servers[site].server_address[1]}"

    @property
    def release(self) -> int:
        return self._release

    def set_release(self, n: int) -> None:
        if n not in RELEASES:
            raise ValueError(f"unknown release {n}; known: {RELEASES}")
        self._release = n

    @property
    def catalog(self) -> Catalog:
        return build_catalog(self._release)

    def set_response(self, site: str, path: str, *, status: int = 200, body: bytes | None = None,
                     headers: dict[str, str] | None = None) -> None:
        """Serve a fixed response for site+path (path with or without query; a full URL is accepted)."""
        if site not in SITES:
            raise KeyError(f"unknown site {site!r}")
        parts = urlsplit(path)
        key = parts.path + (f"?{parts.query}" if parts.query else "")
        if body is None:
            body = b"" if status < 400 else f"<html><body><h1>{status}</h1></body></html>".encode()
        merged = {"Content-Type": "text/html; charset=utf-8", **(headers or {})}
        with self._lock:
            self._overrides[(site, key)] = (status, merged, body)

    def clear_overrides(self) -> None:
        with self._lock:
            self._overrides.clear()
            self._faults.clear()
            self._robots.clear()
            self.reset_non_browser.clear()

    def set_fault(self, site: str, path: str, kind: str, **options: float | int) -> None:
        """Make site+path misbehave:

        - ``slow``: answer after ``delay`` seconds (a short download timeout gives up first);
        - ``flaky``: answer ``status`` (503) ``failures`` (2) times, then normally;
        - ``redirect_loop``: 302 to itself, for ever;
        - ``huge``: a 200 of ``size`` bytes (50 MB), streamed, with its Content-Length;
        - ``gzip_bomb``: a small gzip body that inflates to ``size`` bytes;
        - ``reset``: close the connection without an answer (TCP reset).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r} (known: {', '.join(FAULT_KINDS)})")
        if site not in SITES:
            raise KeyError(f"unknown site {site!r}")
        with self._lock:
            self._faults[(site, urlsplit(path).path)] = Fault(kind, **options)  # type: ignore[arg-type]

    def set_robots(self, site: str, disallow: list[str]) -> None:
        """Serve a /robots.txt on site that disallows these path prefixes to every agent."""
        with self._lock:
            self._robots[site] = list(disallow)

    def robots_txt(self, site: str) -> bytes:
        lines = ["User-agent: *"] + [f"Disallow: {p}" for p in self._robots.get(site, [])]
        if not self._robots.get(site):
            lines.append("Disallow:")
        return ("\n".join(lines) + "\n").encode()

    def serve_encoded(self, site: str, path: str, encoding: str, *, header_charset: bool = False,
                      meta_charset: str | None = None) -> bytes:
        """Serve the current page at path re-encoded (e.g. GBK) with or without a charset in the
        header; ``meta_charset`` rewrites its <meta> charset (None: remove it). Returns the body."""
        status, headers, body = self._route(site, path, {})
        if status != 200:
            raise KeyError(f"{site}{path} is not a page of the replica")
        content_type = headers.get("Content-Type", "text/html")
        text = body.decode("gb18030" if site == "gxj" else "utf-8")
        meta = f'<meta charset="{meta_charset}">' if meta_charset else ""
        text = re.sub(r'<meta (?:charset="[^"]*"|http-equiv="Content-Type" content="[^"]*")>', meta, text,
                      count=1)
        data = text.encode(encoding)
        ctype = f"text/html; charset={encoding}" if header_charset else content_type.split(";")[0]
        self.set_response(site, path, body=data, headers={"Content-Type": ctype})
        return data

    def fault(self, site: str, raw_path: str) -> Fault | None:
        with self._lock:
            return self._faults.get((site, urlsplit(raw_path).path))

    def documents(self) -> list[dict[str, Any]]:
        """The documents of the current release with every URL the replica links them under."""
        result = []
        for doc in self.catalog.documents:
            base = self.base_url(doc.site)
            result.append({
                "site": doc.site, "post_id": doc.post_id, "title": doc.title,
                "urls": [base + path for path in doc.paths], "kind": doc.kind, "seed": doc.seed,
                "date": doc.date, "published": doc.published, "doc_number": doc.doc_number,
                "publisher": doc.publisher, "attachments": [base + att.path for att in doc.attachments],
            })
        return result

    def start_urls(self) -> dict[str, str]:
        """The first list page of each site's HTML list, keyed by source name."""
        return {SOURCE_NAMES[site]: f"{self.base_url(site)}{LIST_PATHS[site]}index.html" for site in SITES}

    def config_toml(self, database_url: str) -> str:
        """A policywatch.toml with one source per list of this replica."""
        lines = ["[database]", f"url = {_toml_string(database_url)}", ""]
        for site in SITES:
            lines += ["[[sources]]", f'name = "{SOURCE_NAMES[site]}"', 'kind = "html_pages"',
                      f'start_urls = ["{self.base_url(site)}{LIST_PATHS[site]}index.html"]',
                      f'allowed_domains = ["{self.host}"]', 'schedule = "0 7 * * *"', ""]
            if site in GKMLPT_CATEGORIES:
                categories = ", ".join(str(c) for c in GKMLPT_CATEGORIES[site])
                lines += ["[[sources]]", f'name = "{site}-gkmlpt"', 'kind = "gkmlpt_api"',
                          f'site = "{self.base_url(site)}"', f"categories = [{categories}]",
                          'schedule = "0 7 * * *"', ""]
        return "\n".join(lines)

    # request handling ------------------------------------------------------------------------
    def handle(self, site: str, raw_path: str, request_headers: dict[str, str] | None = None) -> Response:
        """Answer one GET for site (usable without sockets); logs (site, path?query, status)."""
        parts = urlsplit(raw_path)
        key = parts.path + (f"?{parts.query}" if parts.query else "")
        with self._lock:
            override = self._overrides.get((site, key)) or self._overrides.get((site, parts.path))
        if override is not None:
            response = override
        else:
            response = self._route(site, parts.path, parse_qs(parts.query))
            response = self._conditional(response, request_headers or {})
        self._log(site, raw_path, response[0])
        return response

    def _log(self, site: str, raw_path: str, status: int) -> None:
        parts = urlsplit(raw_path)
        key = parts.path + (f"?{parts.query}" if parts.query else "")
        with self._lock:
            self.request_log.append((site, key, status))

    def _conditional(self, response: Response, request_headers: dict[str, str]) -> Response:
        status, headers, body = response
        if status != 200:
            return response
        etag = '"' + hashlib.md5(body).hexdigest() + '"'
        headers = {**headers, "ETag": etag}
        lowered = {name.lower(): value for name, value in request_headers.items()}
        if lowered.get("if-none-match") == etag:
            return 304, headers, b""
        return status, headers, body

    def _route(self, site: str, path: str, query: dict[str, list[str]]) -> Response:
        base = self.base_url(site) if site in self._servers else f"http://{self.host}"
        catalog = self.catalog
        if path in ("", "/", "/index.html"):
            return _html(200, render.home_page(site, base))
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, self.robots_txt(site)
        if site in GKMLPT_SIDS:
            if path in ("/gkmlpt/index", "/gkmlpt/", "/gkmlpt"):
                return _html(200, render.gkmlpt_index(site, catalog))
            match = _API_RE.match(path)
            if match:
                return self._api(site, int(match.group("cat")), query, base)
        if path.startswith("/attachment/"):
            found = catalog.attachment(site, path)
            if found is None:
                return _html(404, _NOT_FOUND)
            doc, att = found
            headers = {"Content-Type": att.mime, "Last-Modified": _http_date(doc)}
            return 200, headers, render.attachment_bytes(doc, att)
        match = _DETAIL_RE.match(path)
        if match:
            return self._detail(site, match, base)
        match = _LIST_RE.match(path)
        if match and match.group("prefix") == LIST_PATHS[site]:
            return self._list(site, match.group("page"), base)
        return _html(404, _NOT_FOUND)

    def _detail(self, site: str, match: re.Match[str], base: str) -> Response:
        doc = self.catalog.find(site, int(match.group("id")))
        if doc is None:
            return _html(404, _NOT_FOUND)
        if match.group("prefix") == "/gkmlpt/":
            pid = doc.post_id
            if (doc.gkmlpt_path is None or match.group("kind") != "post"
                    or (match.group("a"), match.group("b")) != (str(pid // 1000000), str(pid // 1000))):
                return _html(404, _NOT_FOUND)
            body, content_type = render.detail_page(doc, base, platform=True)
        elif match.group("prefix") == LIST_PATHS[site] and match.group("a") is None:
            body, content_type = render.detail_page(doc, base)
        else:
            return _html(404, _NOT_FOUND)
        return 200, {"Content-Type": content_type, "Last-Modified": _http_date(doc)}, body

    def _list(self, site: str, page_text: str | None, base: str) -> Response:
        page = int(page_text) if page_text else 1
        docs = self.catalog.site_documents(site)
        if page_text == "1" or page < 1 or page > render.page_count(len(docs)):
            return _html(404, _NOT_FOUND)
        html = render.list_page(site, docs, page, base)
        if site == "gxj":
            return 200, {"Content-Type": "text/html"}, html.encode("gb18030")
        return _html(200, html, "text/html" if site in ("gd", "gz") else "text/html; charset=utf-8")

    def _api(self, site: str, category_id: int, query: dict[str, list[str]], base: str) -> Response:
        page_values = query.get("page") or ["1"]
        sid = (query.get("sid") or [None])[0]
        try:
            page = int(page_values[0])
        except ValueError:
            return _html(400, "<html><body>bad page</body></html>")
        if (sid is None and page > 1) or (sid is not None and sid != GKMLPT_SIDS[site]):
            return _html(404, _NOT_FOUND)
        if category_id not in _all_category_ids(site):
            return _html(404, _NOT_FOUND)
        body = render.api_page(site, self.catalog, category_id, page, base)
        return 200, {"Content-Type": "application/json; charset=utf-8"}, body

    def _handler_class(self, site: str) -> type[BaseHTTPRequestHandler]:
        replica = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "nginx"
            sys_version = ""
            protocol_version = "HTTP/1.1"

            def _respond(self, send_body: bool) -> None:
                agent = self.headers.get("User-Agent", "")
                with replica._lock:
                    replica.user_agents.append(agent)
                if site in replica.reset_non_browser and not agent.startswith(BROWSER_MARKERS):
                    replica._log(site, self.path, 0)
                    self._reset()
                    return
                fault = replica.fault(site, self.path)
                if fault is not None and self._misbehave(fault, send_body):
                    return
                status, headers, body = replica.handle(site, self.path, dict(self.headers.items()))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if send_body and body:
                    self.wfile.write(body)

            def _reset(self) -> None:
                # SO_LINGER 0: close with a TCP reset, as a firewall dropping the client does
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()

            def _misbehave(self, fault: Fault, send_body: bool) -> bool:
                """Act out a fault; True when the request was answered (or dropped) here."""
                with replica._lock:
                    fault.served += 1
                    served = fault.served
                if fault.kind == "slow":
                    time.sleep(fault.delay)
                    return False
                if fault.kind == "flaky":
                    if served > fault.failures:
                        return False
                    replica._log(site, self.path, fault.status)
                    self._send(fault.status, {"Content-Type": "text/html", "Connection": "close"},
                               b"<html><body>Service Unavailable</body></html>", send_body)
                    return True
                if fault.kind == "redirect_loop":
                    replica._log(site, self.path, 302)
                    self._send(302, {"Location": self.path}, b"", send_body)
                    return True
                if fault.kind == "reset":
                    replica._log(site, self.path, 0)
                    self._reset()
                    return True
                if fault.kind == "gzip_bomb":
                    replica._log(site, self.path, 200)
                    self._send(200, {"Content-Type": "text/html; charset=utf-8",
                                     "Content-Encoding": "gzip"}, _gzip_zeros(fault.size), send_body)
                    return True
                # huge: stream zeros with an honest Content-Length until the client hangs up
                replica._log(site, self.path, 200)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(fault.size))
                self.end_headers()
                chunk = b"\0" * 65536
                sent = 0
                try:
                    while send_body and sent < fault.size:
                        part = chunk[: min(len(chunk), fault.size - sent)]
                        self.wfile.write(part)
                        sent += len(part)
                except OSError:
                    self.close_connection = True
                return True

            def _send(self, status: int, headers: dict[str, str], body: bytes, send_body: bool) -> None:
                if headers.get("Connection") == "close":
                    self.close_connection = True
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if send_body and body:
                    try:
                        self.wfile.write(body)
                    except OSError:
                        self.close_connection = True

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._respond(True)

            def do_HEAD(self) -> None:  # noqa: N802
                self._respond(False)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr
                return

        return Handler


class _QuietServer(ThreadingHTTPServer):
    """A client hanging up (a refused huge body, a timeout) is expected here, not an error."""

    request_queue_size = 128  # socketserver's 5 drops connects under a burst of crawler requests

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


_BOMBS: dict[int, bytes] = {}


def _gzip_zeros(size: int) -> bytes:
    """A gzip body (zlib with wbits 31) that inflates to ``size`` zero bytes (about 1/1000 of it), built in chunks."""
    if size not in _BOMBS:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
        chunk = b"\0" * (1 << 20)
        parts = []
        left = size
        while left > 0:
            parts.append(compressor.compress(chunk[: min(left, len(chunk))]))
            left -= len(chunk)
        parts.append(compressor.flush())
        _BOMBS[size] = b"".join(parts)
    return _BOMBS[size]


def _all_category_ids(site: str) -> list[int]:
    def walk(nodes: list) -> list[int]:
        ids: list[int] = []
        for node_id, _name, children in nodes:
            ids.append(node_id)
            ids.extend(walk(children))
        return ids

    return walk(GKMLPT_TREES.get(site, []))


def _http_date(doc: Document) -> str:
    moment = datetime.strptime(doc.published, "%Y-%m-%d %H:%M:%S").replace(tzinfo=render.CHINA_TZ)
    return formatdate(moment.timestamp(), usegmt=True)


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
