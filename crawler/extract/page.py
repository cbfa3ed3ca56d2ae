"""Extract one detail page (gkmlpt, gd.gov.cn, gz.gov.cn, gxj.gz.gov.cn or generic) into a Page."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from lxml import etree

from .attachments import Attachment, attachment_links, attachments_of, find_attachments
from .encoding import decode_html
from .errors import ExtractionError
from .htmltext import (
    STRING_CONTAINERS,
    HtmlElement,
    block_lines,
    body_or_document,
    cjk_count,
    cjk_in_utf8,
    get_text,
    has_templates,
    inline_text,
    is_attached,
    is_element,
    nonspace_in_utf8,
    own_strings,
    parse_html,
    remove_chrome,
    remove_chrome_for,
    remove_element,
    same_text_below,
    selectable,
    text_measure,
)
from .jsobject import find_js_assignment
from .keys import canonical_key
from .metadata import read_info_line, read_label_values
from .tables import task_tables

NO_BODY = "no document body found"
# The CSS selectors this module reads a page with, as (tag, class, id): each names a list of
# the matching elements in document order (a _Landmarks attribute).
_SELECTORS = {
    "article_title": (None, "article-title", None),  # .article-title
    "content_title": (None, "content_title", None),  # .content_title
    "h1_title": ("h1", "title", None),  # h1.title
    "h1": ("h1", None, None),
    "classify": ("div", "classify", None),  # div.classify
    "introduce": ("div", "introduce", None),  # div.introduce
    "laiyuan": (None, None, "laiyuan"),  # #laiyuan
    "article_content": (None, "article-content", None),  # .article-content
    "zw": ("div", "zw", None),  # div.zw
    "zoomcon": (None, None, "zoomcon"),  # #zoomcon
    # the body containers of other provinces' content systems
    "ucap": (None, None, "UCAP-CONTENT"),  # #UCAP-CONTENT (gov.cn and the sites on its system)
    "trs_editor": (None, "TRS_Editor", None),  # .TRS_Editor (TRS WCM)
    "trs_view": (None, "trs_editor_view", None),  # .trs_editor_view (TRS WCM)
    "zoom": (None, None, "zoom"),  # #zoom (Hanweb)
    "pages_content": (None, "pages_content", None),  # .pages_content (gov.cn)
}
_SELECTOR_CLASSES = frozenset(cls for _tag, cls, _id in _SELECTORS.values() if cls)
_SELECTOR_IDS = frozenset(ident for _tag, _cls, ident in _SELECTORS.values() if ident)
_BODY_SELECTORS = (("gkmlpt", "article_content"), ("gd_zw", "zw"), ("gz", "zoomcon"), ("gov_cn", "ucap"),
                   ("trs", "trs_editor"), ("trs", "trs_view"), ("hanweb", "zoom"), ("gov_cn", "pages_content"))
# A table of disclosure fields (索引号, 发布机构, 成文日期, 文号, 发布日期…) outside the two
# Guangdong templates: the nearest table or block around 索引号 that is no longer than this.
_DISCLOSURE_TABLE_MAX_CHARS = 1200
_INDEX_NUMBER_STRINGS = etree.XPath("//text()[contains(., '索引号')]")
_TITLE_SELECTORS = ("article_title", "content_title", "h1_title", "h1")
_HEADER_CLASS_RE = re.compile("logo|header|nav", re.I)
_HEADER_TAGS = frozenset({"header", "nav"})
_INFO_LINE_PARENTS = frozenset({"div", "p", "td", "li", "section", "span"})
_INFO_BLOCK_PARENTS = frozenset({"div", "p", "td", "li", "section"})
_LINK_BLOCK_TAGS = ("div", "td", "ul", "ol", "table", "p", "dl", "span")
# Every string holding 信息来源, comments and script text included: the search always read them.
_INFO_STRINGS = etree.XPath("//text()[contains(., '信息来源')] | //comment()[contains(., '信息来源')]")
# A line of 发布日期/发布时间 without 信息来源 (Hanweb, TRS: "发布日期:2024-01-08 来源:…"), read
# when nothing else gave the page's date.
_DATE_INFO_STRINGS = etree.XPath("//text()[contains(., '发布日期') or contains(., '发布时间')]")
_DATE_KEYS = ("发布日期", "发布时间", "PubDate", "时间")
_COUNT_LINKS = etree.XPath("count(descendant::a)")
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
    # task tables of the body (crawler.extract.tables): rows of cell texts, for the parser
    tables: list[list[list[str]]] = field(default_factory=list)


_CONTROL_BYTES = bytes(byte for byte in range(0x20) if byte not in (0x09, 0x0A, 0x0C, 0x0D))


def _looks_binary(body: bytes) -> bool:
    head = body[:4096]
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return b"\x00" in head or controls * 20 > len(head)


def _meta_content(root: HtmlElement, name: str) -> str | None:
    pattern = re.compile(f"^{re.escape(name)}$", re.I)
    for tag in root.iter("meta"):
        if pattern.search(tag.get("name") or ""):
            value = " ".join((tag.get("content") or "").split())
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


class _Landmarks:
    """The elements each of the page's selectors matches (none inside a <template>), found at once."""

    def __init__(self, root: HtmlElement, templates: bool) -> None:
        self.found: dict[str, list[HtmlElement]] = {name: [] for name in _SELECTORS}
        # One walk in Python over the elements is faster here than libxml2's XPath engine.
        for el in root.iter(etree.Element):
            value, ident, tag = el.get("class"), el.get("id"), el.tag
            classes = _SELECTOR_CLASSES.intersection(value.split()) if value else ()
            if not classes and ident not in _SELECTOR_IDS and tag != "h1":
                continue
            if templates and next(selectable([el], None, True), None) is None:
                continue
            for name, (want_tag, want_class, want_id) in _SELECTORS.items():
                if (want_tag is None or tag == want_tag) and (want_class is None or want_class in classes) \
                        and (want_id is None or ident == want_id):
                    self.found[name].append(el)

    def first(self, name: str) -> HtmlElement | None:
        found = self.found[name]
        return found[0] if found else None


def _in_page_header(tag: HtmlElement) -> bool:
    parent = tag.getparent()
    while parent is not None:
        if parent.tag in _HEADER_TAGS or _HEADER_CLASS_RE.search(parent.get("class") or ""):
            return True
        parent = parent.getparent()
    return False


def _heading_title(marks: _Landmarks) -> str | None:
    for name in _TITLE_SELECTORS:
        for tag in marks.found[name]:
            if _in_page_header(tag):
                continue
            text = inline_text(tag)
            if text:
                return text
    return None


def _nearest(node: HtmlElement | None, names: frozenset[str]) -> HtmlElement | None:
    while node is not None and node.tag not in names:
        node = node.getparent()
    return node


def _disclosure_table(root: HtmlElement) -> HtmlElement | None:
    """The table (or block) of disclosure fields around the first 索引号 label, if short."""
    found = next(iter(_INDEX_NUMBER_STRINGS(root)), None)
    if found is None:
        return None
    node = found.getparent()
    if node is not None and found.is_tail:
        node = node.getparent()
    while node is not None and node.tag not in ("table", "ul", "dl", "div"):
        node = node.getparent()
    return node if node is not None and len(inline_text(node)) <= _DISCLOSURE_TABLE_MAX_CHARS else None


def _info_strings(root: HtmlElement, metadata: dict[str, str]) -> Iterator[Any]:
    yield from _INFO_STRINGS(root)
    if not any(key in metadata for key in _DATE_KEYS):
        yield from _DATE_INFO_STRINGS(root)


def _read_metadata(root: HtmlElement, marks: _Landmarks) -> tuple[dict[str, str], str | None]:
    metadata: dict[str, str] = {}
    template = None
    classify = marks.first("classify")
    introduce = marks.first("introduce")
    if classify is not None:
        metadata.update(read_label_values(classify))
        template = "gkmlpt"
    elif introduce is not None:
        metadata.update(read_label_values(introduce))
        template = "gd_introduce"
    else:
        table = _disclosure_table(root)
        if table is not None:
            metadata.update(read_label_values(table))
    source = marks.first("laiyuan")
    if source is not None:
        value = re.sub(r"^(?:信息)?来源\s*[:：]\s*", "", inline_text(source))
        if value:
            metadata.setdefault("来源", value)
        template = template or "gz"
    pubdate = _meta_content(root, "PubDate")
    if pubdate:
        metadata.setdefault("PubDate", pubdate)
    for found in _info_strings(root, metadata):
        if isinstance(found, str):
            parent = found.getparent()
            if found.is_tail:
                parent = parent.getparent()
        else:
            parent = found.getparent()
        line = _nearest(parent, _INFO_LINE_PARENTS)
        block = _nearest(parent, _INFO_BLOCK_PARENTS)
        if block is not None and len(inline_text(block)) <= 200:
            line = block
        if line is None:
            continue
        info = read_info_line(inline_text(line))
        if info:
            for label, value in info.items():
                metadata.setdefault(label, value)
            if "信息来源" in str(found):  # gxj's line; a date line alone names no template
                template = template or "gxj"
            break
    return metadata, template


def _js_detail(text: str) -> HtmlElement | None:
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
    root = body_or_document(parse_html(f"<div>{content}</div>"))
    remove_chrome(root, by_text=False)
    return root


def _remove_link_blocks(root: HtmlElement) -> None:
    """Drop navigation-like blocks: several links and (almost) no text outside them."""
    blocks: dict[HtmlElement, bool] = {}  # whether the text below is a link block (see same_text_below)
    chains: dict[HtmlElement, HtmlElement] = {}
    for tag in [tag for tag in root.iter(*_LINK_BLOCK_TAGS) if tag is not root]:
        below = same_text_below(tag, chains)
        if below not in blocks:
            # (a removal here only takes out elements after this one in document order, or under
            # it: what was measured below an element still to come stays true)
            blocks[below] = False
            if _COUNT_LINKS(below) >= 2:
                text = text_measure(below, nonspace_in_utf8)
                linked = sum(text_measure(link, nonspace_in_utf8) for link in below.iterdescendants("a"))
                blocks[below] = bool(text) and linked * 10 >= text * 8
        if blocks[below] and is_attached(tag, root):
            remove_element(tag)


def _generic_body(root: HtmlElement) -> HtmlElement | None:
    root = body_or_document(root)
    remove_chrome(root, info_lines=True)
    _remove_link_blocks(root)
    node: HtmlElement = root
    total = text_measure(node, cjk_in_utf8)
    while True:
        if total == 0:
            return node if _MEANINGFUL_RE.search(get_text(node)) else None
        children = [child for child in node.iterchildren(etree.Element) if is_element(child)]
        if len(children) == 1 and children[0].tag not in STRING_CONTAINERS:
            # One child holds all the text but the node's own strings: no need to measure it again
            # (markup nested thousands deep would make that quadratic).
            counts = [total - cjk_count("".join(own_strings(node)))]
        else:
            counts = [text_measure(child, cjk_in_utf8) for child in children]
        best, best_count = None, 0
        for child, count in zip(children, counts, strict=True):
            if child.tag in _HEADINGS:
                total -= count  # a title above the body does not keep us from descending
            elif count > best_count:
                best, best_count = child, count
        if best is None or best.tag not in _CONTAINER_TAGS or best_count * 10 < total * 7:
            return node
        if best.tag in _TABLE_PARTS and total - best_count > max(8, total // 12):
            return node  # the body goes on in the other rows or cells of this table
        node, total = best, best_count


def extract_page(url: str, body: bytes, content_type: str | None = None) -> Page:
    """Turn a detail page response into a Page; raise ExtractionError when no body can be found."""
    if not body or not body.strip() or _looks_binary(body):
        raise ExtractionError(NO_BODY)
    decoded, encoding = decode_html(body, content_type)
    root = parse_html(decoded)
    templates = has_templates(root)
    marks = _Landmarks(root, templates)
    title = _meta_content(root, "ArticleTitle") or _heading_title(marks)
    metadata, template = _read_metadata(root, marks)
    if not title:
        title = metadata.get("名称") or metadata.get("标题")
    if not title:
        title_tag = next(root.iter("title"), None)
        if title_tag is not None:
            title = _strip_site_suffix(inline_text(title_tag)) or None
    body_el: HtmlElement | None = None
    js_root: HtmlElement | None = None
    lines: list[str] = []
    for name, selector in _BODY_SELECTORS:
        body_el = marks.first(selector)
        if body_el is None:
            continue
        template = template or name
        remove_chrome(body_el)
        lines = block_lines(body_el)
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
            body_el = _generic_body(root)
            lines = block_lines(body_el) if body_el is not None else []
        template = template or "generic"
    text = "\n".join(lines)
    # Two meaningful characters are enough to know: no need to list all of them.
    if next(islice(_MEANINGFUL_RE.finditer(text), 1, None), None) is None:
        raise ExtractionError(NO_BODY)
    source = js_root if js_root is not None else body_el
    tables = task_tables(source) if source is not None else []
    # Only attachment links are read from the rest of the page, so the chrome around them is all
    # that needs deciding (remove_chrome_for gives the same answer as a whole pass over the page).
    page_root = body_or_document(root)
    links = attachment_links(page_root, templates)
    if links:
        remove_chrome_for(page_root, links, keep=body_el)
    attachments = attachments_of([link for link in links if is_attached(link, page_root)], url)
    if js_root is not None:
        known = {attachment.url for attachment in attachments}
        attachments += [item for item in find_attachments(js_root, url) if item.url not in known]
    return Page(url=url, canonical_key=canonical_key(url), title=title, metadata=metadata, text=text,
                attachments=attachments, encoding=encoding, template=template, tables=tables)
