"""Extract one detail page (gkmlpt, gd.gov.cn, gz.gov.cn, gxj.gz.gov.cn or generic) into a Page."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from itertools import islice

from bs4 import BeautifulSoup, Tag

from .attachments import Attachment, find_attachments
from .encoding import decode_html
from .errors import ExtractionError
from .htmltext import block_lines, cjk_count, inline_text, parse_html, remove_chrome
from .jsobject import find_js_assignment
from .keys import canonical_key
from .metadata import read_info_line, read_label_values

NO_BODY = "no document body found"
_BODY_SELECTORS = (
    ("gkmlpt", ".article-content"),
    ("gd_zw", "div.zw"),
    ("gz", "#zoomcon"),
)
_TITLE_SELECTORS = (".article-title", ".content_title", "h1.title", "h1")
_TITLE_SUFFIX_RE = re.compile(r"(网|网站|门户|政府|厅|局|委|办|办公室|平台|官网|gov\.cn|中心|政务公开)$")
_TITLE_SEPARATORS = ("_", "|", " - ", "－", "——", "—", "-")
_CONTAINER_TAGS = frozenset({"div", "td", "table", "tbody", "tr", "section", "article", "main", "center", "form",
                             "body", "html", "font", "dl", "dd", "blockquote"})
_TABLE_PARTS = frozenset({"tr", "td", "th", "tbody", "thead", "tfoot"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_MEANINGFUL_RE = re.compile(r"[\w\u3400-\u9fff]")


@dataclass
class Page:
    """A detail page's document: title, metadata table, body text (one paragraph a line), attachments."""

    url: str
    canonical_key: str
    title: str | None
    metadata: dict[str, str] = field(default_factory=dict)
    text: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    encoding: str = "utf-8"
    template: str = "generic"


def _looks_binary(body: bytes) -> bool:
    head = body[:4096]
    controls = sum(1 for byte in head if byte < 0x20 and byte not in (0x09, 0x0A, 0x0C, 0x0D))
    return b"\x00" in head or controls * 20 > len(head)


def _meta_content(soup: BeautifulSoup, name: str) -> str | None:
    tag = soup.find("meta", attrs={"name": re.compile(f"^{re.escape(name)}$", re.I)})
    if isinstance(tag, Tag):
        value = " ".join(str(tag.get("content") or "").split())
        return value or None
    return None


def _strip_site_suffix(title: str) -> str:
    changed = True
    while changed:
        changed = False
        for sep in _TITLE_SEPARATORS:
            head, found, tail = title.rpartition(sep)
            if found and head.strip() and _TITLE_SUFFIX_RE.search(tail.strip()):
                title, changed = head.strip(), True
                break
    return title


def _heading_title(soup: BeautifulSoup) -> str | None:
    for selector in _TITLE_SELECTORS:
        for tag in soup.select(selector):
            if tag.find_parent(["header", "nav"]) or tag.find_parent(class_=re.compile("logo|header|nav", re.I)):
                continue
            text = inline_text(tag)
            if text:
                return text
    return None


def _read_metadata(soup: BeautifulSoup) -> tuple[dict[str, str], str | None]:
    metadata: dict[str, str] = {}
    template = None
    classify = soup.select_one("div.classify")
    introduce = soup.select_one("div.introduce")
    if classify is not None:
        metadata.update(read_label_values(classify))
        template = "gkmlpt"
    elif introduce is not None:
        metadata.update(read_label_values(introduce))
        template = "gd_introduce"
    source = soup.select_one("#laiyuan")
    if source is not None:
        value = re.sub(r"^(?:信息)?来源\s*[:：]\s*", "", inline_text(source))
        if value:
            metadata.setdefault("来源", value)
        template = template or "gz"
    pubdate = _meta_content(soup, "PubDate")
    if pubdate:
        metadata.setdefault("PubDate", pubdate)
    for tag in soup.find_all(string=re.compile("信息来源")):
        line = tag.find_parent(["div", "p", "td", "li", "section", "span"])
        block = tag.find_parent(["div", "p", "td", "li", "section"])
        if block is not None and len(inline_text(block)) <= 200:
            line = block
        if line is None:
            continue
        info = read_info_line(inline_text(line))
        if info:
            for label, value in info.items():
                metadata.setdefault(label, value)
            template = template or "gxj"
            break
    return metadata, template


def _js_detail(text: str) -> Tag | None:
    """The body embedded in window._CONFIG.DETAIL.content, parsed, or None."""
    if "_CONFIG" not in text:
        return None
    try:
        config = find_js_assignment(text, "window._CONFIG")
    except ExtractionError:
        return None
    detail = config.get("DETAIL") if isinstance(config, dict) else None
    content = detail.get("content") if isinstance(detail, dict) else None
    if not isinstance(content, str) or not content.strip():
        return None
    if "<" not in content and "&lt;" in content:
        content = html.unescape(content)
    fragment = parse_html(f"<div>{content}</div>")
    root = fragment.body or fragment
    remove_chrome(root, by_text=False)
    return root


def _remove_link_blocks(root: Tag) -> None:
    """Drop navigation-like blocks: several links and (almost) no text outside them."""
    for tag in list(root.find_all(["div", "td", "ul", "ol", "table", "p", "dl", "span"])):
        if tag.decomposed:
            continue
        links = tag.find_all("a")
        if len(links) < 2:
            continue
        text = len("".join(tag.get_text().split()))
        linked = sum(len("".join(link.get_text().split())) for link in links)
        if text and linked * 10 >= text * 8:
            tag.decompose()


def _generic_body(soup: BeautifulSoup) -> Tag | None:
    root = soup.body or soup
    remove_chrome(root, info_lines=True)
    _remove_link_blocks(root)
    node: Tag = root
    while True:
        total = cjk_count(node.get_text())
        if total == 0:
            return node if _MEANINGFUL_RE.search(node.get_text()) else None
        best, best_count = None, 0
        for child in node.find_all(True, recursive=False):
            count = cjk_count(child.get_text())
            if child.name in _HEADINGS:
                total -= count  # a title above the body does not keep us from descending
            elif count > best_count:
                best, best_count = child, count
        if best is None or best.name not in _CONTAINER_TAGS or best_count * 10 < total * 7:
            return node
        if best.name in _TABLE_PARTS and total - best_count > max(8, total // 12):
            return node  # the body goes on in the other rows or cells of this table
        node = best


def extract_page(url: str, body: bytes, content_type: str | None = None) -> Page:
    """Turn a detail page response into a Page; raise ExtractionError when no body can be found."""
    if not body or not body.strip() or _looks_binary(body):
        raise ExtractionError(NO_BODY)
    decoded, encoding = decode_html(body, content_type)
    soup = parse_html(decoded)
    title = _meta_content(soup, "ArticleTitle") or _heading_title(soup)
    metadata, template = _read_metadata(soup)
    if not title:
        title = metadata.get("名称") or metadata.get("标题")
    if not title and soup.title is not None:
        title = _strip_site_suffix(inline_text(soup.title)) or None
    body_el: Tag | None = None
    js_root: Tag | None = None
    lines: list[str] = []
    for name, selector in _BODY_SELECTORS:
        candidate = soup.select_one(selector)
        if candidate is None:
            continue
        body_el = candidate
        template = template or name
        remove_chrome(candidate)
        lines = block_lines(candidate)
        if not lines:
            js_root = _js_detail(decoded)
            lines = block_lines(js_root) if js_root is not None else []
        if not lines:
            raise ExtractionError(NO_BODY)
        break
    if body_el is None:
        js_root = _js_detail(decoded)
        if js_root is not None and block_lines(js_root):
            lines = block_lines(js_root)
        else:
            js_root = None
            body_el = _generic_body(soup)
            lines = block_lines(body_el) if body_el is not None else []
        template = template or "generic"
    text = "\n".join(lines)
    # Two meaningful characters are enough to know: no need to list all of them.
    if next(islice(_MEANINGFUL_RE.finditer(text), 1, None), None) is None:
        raise ExtractionError(NO_BODY)
    root = soup.body or soup
    remove_chrome(root, by_text=False, keep=body_el)
    attachments = find_attachments(root, url)
    if js_root is not None:
        known = {attachment.url for attachment in attachments}
        attachments += [item for item in find_attachments(js_root, url) if item.url not in known]
    return Page(url=url, canonical_key=canonical_key(url), title=title, metadata=metadata, text=text,
                attachments=attachments, encoding=encoding, template=template)
