"""Hanweb columns: the records in the page's datastore, and the POSTs for the next ones, read
from the page's own nextgroup link and jpage call (crawler.extract.hanweb)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from crawler.extract.hanweb import RecordsRequest
from crawler.extract.listing import extract_listing

BASE = "https://www.example.gov.cn/col/col1229019365/index.html"


def _record(n: int) -> str:
    return (f'<record><![CDATA[<li><a href="/art/2024/1/{n % 28 + 1}/art_1229019365_{2500000 + n}.html" '
            f'target="_blank">关于第{n}批试点的通知</a><span>2024-01-05</span></li>]]></record>')


def column_page(first: int, *, total: int | None = None, per_page: int | None = 5,
                link: str = "/module/web/jpage/dataproxy.jsp?page=1&amp;webid=3109&amp;path=/"
                            "&amp;columnid=1229019365&amp;unitid=4096789&amp;webname=%E6%9F%90%E7%9C%81"
                            "&amp;permissiontype=0") -> str:
    records = "".join(_record(n) for n in range(1, first + 1))
    call = ", ".join(part for part in (f"totalRecord: {total}" if total is not None else "",
                                       f"perPage: {per_page}" if per_page is not None else "") if part)
    return (f"""<html><head><meta charset="utf-8"><title>通知公告</title></head><body>
<div class="nav"><a href="/">首页</a></div>
<div id="4096789"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="{link}"></a>]]></nextgroup>
<recordset>{records}</recordset></datastore></script></div>
<script>$('#4096789').jpage({{ {call}, proxyUrl: 'dataproxy.jsp' }});</script>
</body></html>""")


def proxy_answer(start: int, end: int, *, total: int | None = None) -> str:
    records = "".join(_record(n) for n in range(start, end + 1))
    total_tag = f"<totalrecord>{total}</totalrecord>" if total is not None else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><datastore><nextgroup><![CDATA[<a href="/module/web/'
            f'jpage/dataproxy.jsp?page=2&webid=3109&columnid=1229019365&unitid=4096789"></a>]]></nextgroup>'
            f"<recordset>{records}</recordset>{total_tag}</datastore>")


def test_a_column_page_asks_for_the_records_after_its_own() -> None:
    listing = extract_listing(BASE, column_page(4, total=23).encode(), "text/html")
    assert len(listing.items) == 4 and listing.items[0].title == "关于第1批试点的通知"
    more = listing.next_records
    assert more is not None and (more.start, more.end) == (5, 19)  # three of its pages of five
    parts = urlsplit(more.url)
    assert parts.netloc == "www.example.gov.cn" and parts.path == "/module/web/jpage/dataproxy.jsp"
    assert parse_qs(parts.query) == {"startrecord": ["5"], "endrecord": ["19"], "perpage": ["5"]}
    form = dict(more.form)
    assert form == {"webid": "3109", "path": "/", "columnid": "1229019365", "unitid": "4096789",
                    "webname": "某省", "permissiontype": "0", "col": "1", "appid": "1",
                    "sourceContentType": "1"}


def test_the_proxy_answers_are_followed_to_the_total() -> None:
    first = extract_listing(BASE, column_page(4, total=23).encode(), "text/html").next_records
    answer = extract_listing(first.url, proxy_answer(5, 19).encode(), "text/xml", records=first)
    assert [item.title for item in answer.items] == [f"关于第{n}批试点的通知" for n in range(5, 20)]
    assert answer.items[0].url == "https://www.example.gov.cn/art/2024/1/6/art_1229019365_2500005.html"
    second = answer.next_records
    assert second is not None and (second.start, second.end) == (20, 23) and second.form == first.form
    # the total, from the page's jpage call or the answer's <totalrecord>, ends the walk
    last = extract_listing(second.url, proxy_answer(20, 23, total=23).encode(), "text/xml", records=second)
    assert len(last.items) == 4 and last.next_records is None


def test_a_short_answer_is_the_last_and_an_empty_one_ends_it() -> None:
    asked = RecordsRequest(url="https://www.example.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=5",
                           form=(("columnid", "1"),), start=5, end=19)
    full = extract_listing(asked.url, proxy_answer(5, 19).encode(), "text/xml", records=asked)
    assert full.next_records is not None and full.next_records.start == 20  # no total: ask on
    short = extract_listing(asked.url, proxy_answer(5, 11).encode(), "text/xml", records=asked)
    assert len(short.items) == 7 and short.next_records is None
    error_page = b"<html><body><h1>500 Internal Server Error</h1></body></html>"
    broken = extract_listing(asked.url, error_page, "text/html", records=asked)
    assert broken.items == [] and broken.next_records is None


def test_the_page_size_defaults_to_jpages_and_the_link_may_be_elsewhere() -> None:
    listing = extract_listing(BASE, column_page(3, per_page=None, link="../../module/jpage/dataproxy.jsp?"
                                                 "columnid=9&amp;unitid=8").encode(), "text/html")
    more = listing.next_records
    assert (more.start, more.end) == (4, 48) and "perpage=15" in more.url
    assert more.url.startswith("https://www.example.gov.cn/module/jpage/dataproxy.jsp?")


def test_no_post_without_a_proxy_on_this_host() -> None:
    elsewhere = column_page(3, link="https://other.example.com/module/jpage/dataproxy.jsp?columnid=9")
    assert extract_listing(BASE, elsewhere.encode(), "text/html").next_records is None
    not_a_proxy = column_page(3, link="/col/col1229019365/index_2.html")
    assert extract_listing(BASE, not_a_proxy.encode(), "text/html").next_records is None
    all_there = column_page(3, total=3)
    assert extract_listing(BASE, all_there.encode(), "text/html").next_records is None
