"""Extract a list page: detail links (with title, date, document number) and the next pages."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from .dates import find_date
from .encoding import decode_html
from .htmltext import inline_text, parse_html
from .keys import canonical_key, post_id

_PAGE_LINK_RE = re.compile(r"(?:^|/)index_(\d+)\.s?html?$", re.I)
_CREATE_PAGE_RE = re.compile(
    r"createPageHTML\(\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?(\d+)['\"]?\s*,\s*['\"]([\w-]+)['\"]\s*,\s*['\"](\w+)['\"]")
_ROW_TAGS = ["li", "tr", "dd", "dt", "p"]


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


def _href(link: Tag, base: str) -> str | None:
    href = str(link.get("href") or "").strip()
    if not href or href.startswith(("javascript:", "mailto:", "#", "tel:")):
        return None
    url = urljoin(base, href)
    return url if urlsplit(url).scheme in ("http", "https") else None


def _title(link: Tag) -> str | None:
    attr = " ".join(str(link.get("title") or "").split())
    text = inline_text(link)
    if attr and (not text or len(attr) >= len(text) or text.endswith(("...", "…"))):
        return attr
    return text or attr or None


def _row(link: Tag) -> Tag | None:
    row = link.find_parent(_ROW_TAGS)
    if row is not None and len(row.find_all("a", href=True)) <= 3:
        return row
    return None


def _item(link: Tag, url: str, row: Tag | None = None) -> ListItem:
    row = row if row is not None else _row(link)
    date = doc_number = None
    if row is not None:
        wh = row.select_one("span.wh")
        doc_number = inline_text(wh) or None if wh is not None else None
        date_tag = row.select_one("span.date, span.time, .date, .time")
        if date_tag is not None:
            date = find_date(inline_text(date_tag))
        if date is None:
            rest = inline_text(row).replace(inline_text(link), " ")
            date = find_date(rest)
    return ListItem(url=url, title=_title(link), date=date, doc_number=doc_number)


def _is_default_item(link: Tag, url: str) -> bool:
    if post_id(url) is not None:
        return True
    if link.find_parent("span", class_="name") is not None and link.find_parent("div", class_="viewList"):
        return True
    news = link.find_parent("ul", class_="news_list")
    return news is not None and link.find_parent("li") is not None


def _links_with_rows(elements: list[Tag]) -> list[tuple[Tag, Tag | None]]:
    pairs: list[tuple[Tag, Tag | None]] = []
    for element in elements:
        if element.name == "a" and element.get("href"):
            pairs.append((element, None))
        else:
            found = element.find("a", href=True)
            if isinstance(found, Tag):
                pairs.append((found, element))
    return pairs


def _links_of(elements: list[Tag]) -> list[Tag]:
    return [link for link, _row_tag in _links_with_rows(elements)]


def _items(soup: BeautifulSoup, base: str, item_selector: str | None) -> list[ListItem]:
    if item_selector:
        candidates = _links_with_rows(soup.select(item_selector))
    else:
        candidates = [(link, None) for link in soup.find_all("a", href=True)]
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
        items.append(_item(link, url, row))
    return items


def _script_pages(soup: BeautifulSoup, base: str) -> list[str]:
    urls: list[str] = []
    for script in soup.find_all("script"):
        match = _CREATE_PAGE_RE.search(script.get_text())
        if not match:
            continue
        total, _current, prefix, ext = int(match.group(1)), int(match.group(2)), match.group(3), match.group(4)
        urls.extend(urljoin(base, f"{prefix}_{page}.{ext}") for page in range(2, min(total, 1000) + 1))
    return urls


def _next_urls(soup: BeautifulSoup, base: str, next_selector: str | None) -> list[str]:
    candidates: list[str] = []
    if next_selector:
        candidates.extend(url for link in _links_of(soup.select(next_selector)) if (url := _href(link, base)))
    else:
        for link in soup.find_all("a", href=True):
            url = _href(link, base)
            if url is None:
                continue
            classes = link.get("class") or []
            if "next" in classes or "下一页" in inline_text(link) or _PAGE_LINK_RE.search(urlsplit(url).path):
                candidates.append(url)
        candidates.extend(_script_pages(soup, base))
    host = urlsplit(base).netloc.lower()
    own = canonical_key(base)
    result: list[str] = []
    for url in candidates:
        if urlsplit(url).netloc.lower() != host or canonical_key(url) == own or url in result:
            continue
        result.append(url)
    return result


def extract_listing(url: str, body: bytes, content_type: str | None = None, *, item_selector: str | None = None,
                    next_selector: str | None = None) -> Listing:
    """Read a list page's detail links and pagination; URLs come out absolute, next pages same-host."""
    text, _ = decode_html(body, content_type)
    soup = parse_html(text)
    base_tag = soup.find("base", href=True)
    base = urljoin(url, str(base_tag["href"])) if isinstance(base_tag, Tag) else url
    return Listing(items=_items(soup, base, item_selector), next_urls=_next_urls(soup, base, next_selector))
