"""Extract a list page: detail links (with title, date, document number) and the next pages."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml.cssselect import CSSSelector

from .dates import find_date
from .encoding import decode_html
from .hanweb import RecordsRequest, datastore_texts, next_records_request, records_of
from .htmltext import (
    DOCUMENT,
    HtmlElement,
    class_tokens,
    has_class,
    has_templates,
    inline_text,
    is_element,
    parse_html,
    selectable,
)
from .keys import canonical_key, is_cms_detail, post_id

_PAGE_LINK_RE = re.compile(r"(?:^|/)index_(\d+)\.s?html?$", re.I)
_CREATE_PAGE_RE = re.compile(
    r"createPageHTML\(\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?(\d+)['\"]?\s*,\s*['\"]([\w-]+)['\"]\s*,\s*['\"](\w+)['\"]")
_ROW_TAGS = frozenset({"li", "tr", "dd", "dt", "p"})
_COUNT_HREF_LINKS = etree.XPath("count(descendant::a[@href])")
_FIRST_HREF_LINK = etree.XPath("descendant::a[@href][1]")


@dataclass(frozen=True)
class ListItem:
    """One document linked from a list page."""

    url: str
    title: str | None = None
    date: str | None = None
    doc_number: str | None = None


@dataclass
class Listing:
    """The documents of a list page, in page order, and the list pages it links to next."""

    items: list[ListItem] = field(default_factory=list)
    next_urls: list[str] = field(default_factory=list)
    # the POST for a Hanweb column's next records (crawler.extract.hanweb), same-host
    next_records: RecordsRequest | None = None


@lru_cache(maxsize=64)
def _selector(css: str) -> CSSSelector:
    # cssselect's HTML dialect: element names case-insensitive, classes and ids exact.
    return CSSSelector(css, translator="html")


def select(root: HtmlElement, css: str, templates: bool = True) -> list[HtmlElement]:
    """Elements of root's document matching a CSS selector, in document order; like soupsieve,
    none inside a <template> (templates: whether the document has any)."""
    top = root.getroottree().getroot()
    found = [el for el in _selector(css)(top) if is_element(el) and el.tag != DOCUMENT]
    return list(selectable(found, None, templates)) if templates else found


def _href(link: HtmlElement, base: str) -> str | None:
    href = (link.get("href") or "").strip()
    if not href or href.startswith(("javascript:", "mailto:", "#", "tel:")):
        return None
    url = urljoin(base, href)
    return url if urlsplit(url).scheme in ("http", "https") else None


def _title(link: HtmlElement) -> str | None:
    attr = " ".join((link.get("title") or "").split())
    text = inline_text(link)
    if attr and (not text or len(attr) >= len(text) or text.endswith(("...", "…"))):
        return attr
    return text or attr or None


def _parent(link: HtmlElement, tags: frozenset[str], cls: str | None = None) -> HtmlElement | None:
    """The nearest element above link with one of these names (and this class)."""
    node = link.getparent()
    while node is not None:
        if node.tag in tags and (cls is None or has_class(node, cls)):
            return node
        node = node.getparent()
    return None


def _row(link: HtmlElement) -> HtmlElement | None:
    row = _parent(link, _ROW_TAGS)
    if row is not None and _COUNT_HREF_LINKS(row) <= 3:
        return row
    return None


def _first_dated(row: HtmlElement, templates: bool) -> HtmlElement | None:
    """The first element under row matching span.date, span.time, .date, .time."""
    for el in selectable(row.iterdescendants(etree.Element), row, templates):
        if has_class(el, "date") or has_class(el, "time"):
            return el
    return None


def _item(link: HtmlElement, url: str, row: HtmlElement | None, templates: bool) -> ListItem:
    row = row if row is not None else _row(link)
    date = doc_number = None
    if row is not None:
        spans = selectable(row.iterdescendants("span"), row, templates)
        wh = next((el for el in spans if has_class(el, "wh")), None)
        doc_number = inline_text(wh) or None if wh is not None else None
        date_tag = _first_dated(row, templates)
        if date_tag is not None:
            date = find_date(inline_text(date_tag))
        if date is None:
            rest = inline_text(row).replace(inline_text(link), " ")
            date = find_date(rest)
    return ListItem(url=url, title=_title(link), date=date, doc_number=doc_number)


def _is_default_item(link: HtmlElement, url: str) -> bool:
    if post_id(url) is not None or is_cms_detail(url):
        return True
    if _parent(link, frozenset({"span"}), "name") is not None and _parent(link, frozenset({"div"}), "viewList"):
        return True
    news = _parent(link, frozenset({"ul"}), "news_list")
    return news is not None and _parent(link, frozenset({"li"})) is not None


def _links_with_rows(elements: list[HtmlElement]) -> list[tuple[HtmlElement, HtmlElement | None]]:
    pairs: list[tuple[HtmlElement, HtmlElement | None]] = []
    for element in elements:
        if element.tag == "a" and element.get("href"):
            pairs.append((element, None))
        else:
            found = _FIRST_HREF_LINK(element)
            if found:
                pairs.append((found[0], element))
    return pairs


def _links_of(elements: list[HtmlElement]) -> list[HtmlElement]:
    return [link for link, _row_tag in _links_with_rows(elements)]


def _href_links(root: HtmlElement) -> list[HtmlElement]:
    return [link for link in root.iter("a") if link.get("href") is not None]


def _items(root: HtmlElement, base: str, item_selector: str | None, templates: bool) -> list[ListItem]:
    if item_selector:
        candidates = _links_with_rows(select(root, item_selector, templates))
    else:
        candidates = [(link, None) for link in _href_links(root)]
    seen: set[str] = set()
    items: list[ListItem] = []
    for link, row in candidates:
        url = _href(link, base)
        if url is None or (not item_selector and not _is_default_item(link, url)):
            continue
        key = canonical_key(url)
        if key in seen:
            continue
        seen.add(key)
        items.append(_item(link, url, row, templates))
    return items


def _script_pages(root: HtmlElement, base: str) -> list[str]:
    urls: list[str] = []
    for script in root.iter("script"):
        match = _CREATE_PAGE_RE.search(script.text or "")
        if not match:
            continue
        total, _current, prefix, ext = int(match.group(1)), int(match.group(2)), match.group(3), match.group(4)
        urls.extend(urljoin(base, f"{prefix}_{page}.{ext}") for page in range(2, min(total, 1000) + 1))
    return urls


def _next_urls(root: HtmlElement, base: str, next_selector: str | None, templates: bool) -> list[str]:
    candidates: list[str] = []
    if next_selector:
        links = _links_of(select(root, next_selector, templates))
        candidates.extend(url for link in links if (url := _href(link, base)))
    else:
        for link in _href_links(root):
            url = _href(link, base)
            if url is None:
                continue
            if "next" in class_tokens(link) or "下一页" in inline_text(link) or _PAGE_LINK_RE.search(urlsplit(url).path):
                candidates.append(url)
        candidates.extend(_script_pages(root, base))
    host = urlsplit(base).netloc.lower()
    own = canonical_key(base)
    result: list[str] = []
    for url in candidates:
        if urlsplit(url).netloc.lower() != host or canonical_key(url) == own or url in result:
            continue
        result.append(url)
    return result


def extract_listing(url: str, body: bytes, content_type: str | None = None, *, item_selector: str | None = None,
                    next_selector: str | None = None, records: RecordsRequest | None = None) -> Listing:
    """Read a list page's detail links and pagination; URLs come out absolute, next pages same-host.

    ``records``: the body answers this POST for a Hanweb column's records (a bare datastore)."""
    text, _ = decode_html(body, content_type)
    root = parse_html(text)
    base_tag = next((tag for tag in root.iter("base") if tag.get("href") is not None), None)
    base = urljoin(url, base_tag.get("href")) if base_tag is not None else url
    templates = has_templates(root)
    if records is not None:  # the proxy's answer: its records are all there is
        scripts: list[str] = []
        stores = [text]
        items: list[ListItem] = []
    else:
        scripts = [script.text or "" for script in root.iter("script")]
        stores = datastore_texts(scripts)
        items = _items(root, base, item_selector, templates)
    record_html = records_of(stores)
    if record_html:
        fragment = parse_html("<html><body>" + "".join(record_html) + "</body></html>")
        seen = {canonical_key(item.url) for item in items}
        items += [item for item in _items(fragment, base, item_selector, False)
                  if canonical_key(item.url) not in seen]
    more = next_records_request(stores, scripts, base, len(record_html), records)
    if more is not None and urlsplit(more.url).netloc.lower() != urlsplit(base).netloc.lower():
        more = None
    next_urls = [] if records is not None else _next_urls(root, base, next_selector, templates)
    return Listing(items=items, next_urls=next_urls, next_records=more)
