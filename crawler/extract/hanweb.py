"""Hanweb list pages (Zhejiang, Jiangsu, Shandong, Gansu…): records in a datastore, the later
ones fetched by POST from the site's jpage "dataproxy".

A Hanweb column page (``/col/col1229019365/index.html``) holds no list in its HTML. It holds
``<script type="text/xml"><datastore>``: a ``<recordset>`` of ``<record><![CDATA[<li>…</li>]]>``
(the first records, typically 45 to 60) and a ``<nextgroup>`` whose link names the proxy and the
column (``/module/jpage/dataproxy.jsp?page=1&webid=…&columnid=…&unitid=…``). A browser's
jpage script then POSTs to that proxy, ``?startrecord=46&endrecord=90&perpage=15`` with the
link's parameters as form fields (plus ``col=1&appid=1`` …), and gets back a bare
``<datastore>`` of the next records, sometimes with ``<totalrecord>``. The proxy's path varies
by installation (``/module/jpage/``, ``/module/web/jpage/``, ``/module/jslib/jquery/jpage/``):
it is read from the link, never assumed.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

_RECORD_RE = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
_NEXTGROUP_RE = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>\s*</nextgroup>", re.S)
_HREF_RE = re.compile(r"""href\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_TOTAL_RE = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
# the jpage call in the page's script: $('#4096789').jpage({ totalRecord: 1234, perPage: 15 … })
_SCRIPT_TOTAL_RE = re.compile(r"totalRecord\s*[:=]\s*['\"]?(\d+)")
_SCRIPT_PER_PAGE_RE = re.compile(r"perPage\s*[:=]\s*['\"]?(\d+)")

# What jpage sends besides the link's parameters; the link's own values win.
_DEFAULT_FORM = (("col", "1"), ("appid", "1"), ("sourceContentType", "1"), ("permissiontype", "0"))
_RANGE_KEYS = frozenset({"page", "startrecord", "endrecord", "perpage"})
PER_PAGE = 15  # jpage's usual page size, when the page does not say
PAGES_PER_REQUEST = 3  # one request brings three of its pages, as jpage's does
MAX_RECORDS = 1_000_000  # a start past this is a broken counter, not a list


@dataclass(frozen=True)
class RecordsRequest:
    """A POST for the records ``start`` to ``end`` (1-based, inclusive) of a Hanweb column."""

    url: str  # the proxy, with startrecord, endrecord and perpage in its query
    form: tuple[tuple[str, str], ...]
    start: int
    end: int
    per_page: int = PER_PAGE
    total: int | None = None  # the column's records, when the page or an answer said


def datastore_texts(scripts: list[str]) -> list[str]:
    """The scripts that hold a datastore."""
    return [text for text in scripts if "<datastore" in text]


def records_of(texts: list[str]) -> list[str]:
    """The HTML of every record, in order."""
    return [record for text in texts for record in _RECORD_RE.findall(text)]


def next_records_request(texts: list[str], scripts: list[str], base: str, records: int,
                         current: RecordsRequest | None) -> RecordsRequest | None:
    """The POST for the records after these, or None when the list has no more.

    ``texts`` are the datastores read (a page's scripts, or a proxy's whole answer), ``records``
    how many records they held, ``current`` the request that brought them (None: the column
    page itself)."""
    if current is not None:  # an answer: the next range of the same column, same form
        if records < current.end - current.start + 1:
            return None  # a short answer is the last one
        total = _first_int(_TOTAL_RE, texts) or current.total
        return _request(current.url, current.form, current.end + 1, current.per_page, total)
    link = _nextgroup_link(texts, base)
    if link is None or records == 0:
        return None
    total = _first_int(_TOTAL_RE, texts) or _first_int(_SCRIPT_TOTAL_RE, scripts)
    per_page = _first_int(_SCRIPT_PER_PAGE_RE, scripts) or PER_PAGE
    params = [(k, v) for k, v in parse_qsl(urlsplit(link).query, keep_blank_values=True)
              if k not in _RANGE_KEYS]
    given = {k for k, _ in params}
    form = tuple([*params, *((k, v) for k, v in _DEFAULT_FORM if k not in given)])
    return _request(link, form, records + 1, per_page, total)


def _request(proxy: str, form: tuple[tuple[str, str], ...], start: int, per_page: int,
             total: int | None) -> RecordsRequest | None:
    if (total is not None and start > total) or start > MAX_RECORDS:
        return None
    end = start + per_page * PAGES_PER_REQUEST - 1
    if total is not None:
        end = min(end, total)
    query = urlencode({"startrecord": start, "endrecord": end, "perpage": per_page})
    url = urlsplit(proxy)._replace(query=query, fragment="").geturl()
    return RecordsRequest(url=url, form=form, start=start, end=end, per_page=per_page, total=total)


def _nextgroup_link(texts: list[str], base: str) -> str | None:
    for text in texts:
        for group in _NEXTGROUP_RE.findall(text):
            match = _HREF_RE.search(group)
            if match is None:
                continue
            href = html.unescape(match.group(1) if match.group(1) is not None else match.group(2)).strip()
            url = urljoin(base, href)
            if "dataproxy" in urlsplit(url).path.lower():
                return url
    return None


def _first_int(pattern: re.Pattern[str], texts: list[str]) -> int | None:
    for text in texts:
        match = pattern.search(text)
        if match is not None:
            return int(match.group(1))
    return None
