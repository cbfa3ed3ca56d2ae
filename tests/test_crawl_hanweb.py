"""A Hanweb column crawled for real, with no selectors: the records in the page's datastore, then
the later ones by POST to the site's dataproxy, as the site's own script asks for them. The site
is a local HTTP server that answers the POST only with the column's form fields."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from storage.db import session_scope
from storage.models import CrawlRun, Document, Version
from tests.conftest import FAST_CRAWL, run_policywatch
from tests.test_extract_hanweb import column_page, proxy_answer

TOTAL = 20
PROXY = "/module/web/jpage/dataproxy.jsp"

DETAIL = """<html><head><meta charset="utf-8"><title>{title}</title></head><body>
<div class="nav"><a href="/">首页</a></div>
<table class="xxgk"><tr><td>发布日期:2024-01-05</td></tr></table>
<div id="zoom">
<p>各市、县(市、区)人民政府,省级有关单位:</p>
<p>现将有关事项通知如下。</p>
<p>一、重点任务</p>
<p>(一)推进第{n}批试点。到2024年底,完成{n}0个项目建设。(省经信厅牵头)</p>
</div></body></html>"""


class HanwebSite:
    """The column page (first records 1-6 of 20, three to a page), the proxy, the articles."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, list[str]]]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: str, ctype: str = "text/html; charset=utf-8") -> None:
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                path = urlsplit(self.path).path
                if path == "/col/col1229019365/index.html":
                    self._send(200, column_page(6, total=TOTAL, per_page=3))
                elif path.startswith("/art/"):
                    n = int(path.rsplit("_", 1)[1].split(".")[0]) - 2500000
                    self._send(200, DETAIL.format(title=f"关于第{n}批试点的通知", n=n))
                else:
                    self._send(404, "not found")

            def do_POST(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode("utf-8"))
                query = parse_qs(parts.query)
                site.posts.append((parts.query, form))
                if parts.path != PROXY or form.get("columnid") != ["1229019365"] or "unitid" not in form:
                    self._send(400, "bad request")
                    return
                start, end = int(query["startrecord"][0]), int(query["endrecord"][0])
                self._send(200, proxy_answer(start, min(end, TOTAL)), "text/xml; charset=utf-8")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def hanweb() -> Iterator[HanwebSite]:
    site = HanwebSite()
    site.thread.start()
    yield site
    site.server.shutdown()
    site.server.server_close()


def _config(tmp_path: Path, db_url: str, site: HanwebSite, extra: str = "") -> Path:
    config = tmp_path / "policywatch.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n\n[[sources]]\nname = "zj-column"\n'
                      f'kind = "html_pages"\nstart_urls = ["{site.base}/col/col1229019365/index.html"]\n'
                      f'allowed_domains = ["127.0.0.1"]\n{extra}' + FAST_CRAWL, encoding="utf-8")
    return config


def test_a_hanweb_column_is_crawled_through_its_record_posts(hanweb, tmp_path, db_url, sessions) -> None:
    config = _config(tmp_path, db_url, hanweb)
    result = run_policywatch("crawl", "--config", str(config), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert [query for query, _ in hanweb.posts] == ["startrecord=7&endrecord=15&perpage=3",
                                                    "startrecord=16&endrecord=20&perpage=3"]
    assert all(form["col"] == ["1"] and form["webid"] == ["3109"] for _, form in hanweb.posts)
    with session_scope(sessions) as s:
        urls = set(s.scalars(select(Document.url)))
        assert len(urls) == TOTAL, sorted(urls)
        assert {int(u.rsplit("_", 1)[1].split(".")[0]) - 2500000 for u in urls} == set(range(1, TOTAL + 1))
        version = s.scalars(select(Version).join(Document).where(Document.url.like("%_2500017.html"))).one()
        assert version.title == "关于第17批试点的通知" and "完成170个项目建设" in version.text
        run = s.scalars(select(CrawlRun)).one()
        assert run.status == "ok" and run.listing_complete

    # the next crawl walks incrementally: the column page brings only known records, no POST
    again = run_policywatch("crawl", "--config", str(config), "--format", "json")
    assert again.returncode == 0, again.stderr
    assert len(hanweb.posts) == 2


def test_max_pages_counts_the_record_posts(hanweb, tmp_path, db_url, sessions) -> None:
    config = _config(tmp_path, db_url, hanweb, "max_pages = 2\n")
    result = run_policywatch("crawl", "--config", str(config), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert len(hanweb.posts) == 1
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count(Document.id))) == 15
        assert not s.scalars(select(CrawlRun)).one().listing_complete
