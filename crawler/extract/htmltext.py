"""HTML to text helpers on lxml: parsing, selection, chrome removal and block-aware text.

The rules are the ones this module followed on BeautifulSoup, kept exactly so that a recrawl of an
unchanged page stores no new version:

- a *string* is one run of text between two tags: an lxml ``text`` or ``tail``. Removing an
  element leaves the strings on either side of it apart (BeautifulSoup's ``decompose`` did not
  merge them, and ``inline_text`` puts a space between strings). So a removed element is not
  dropped with ``drop_tree``, which merges its tail into the text before it: it is emptied and
  renamed ``REMOVED`` in place, and keeps its tail;
- ``get_text``/``inline_text`` leave out comments and the strings inside ``script``, ``style``,
  ``template``, ``rt`` and ``rp`` (BeautifulSoup gives those their own string types);
  ``block_lines`` keeps all but comments;
- outside ``<pre>``/``<textarea>`` a string of ASCII whitespace only counts as one character;
- a selection by CSS (``selectable``) does not look inside a ``<template>`` (soupsieve did not);
  walking the tree (``iter``) does.

Comments are nodes in lxml (their ``tag`` is not a str): every walk here skips them but keeps
their tails. Walks are iterative, so no tree is too deep for them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator

from lxml import etree

HtmlElement = etree._Element

BLOCK_TAGS = frozenset(
    "address article aside blockquote body br caption center dd div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody td tfoot th thead tr ul".split())
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "button", "select",
              "input", "textarea", "nav", "header", "footer", "head")
_CHROME_TOKENS = frozenset(
    "nav navbar menu header footer foot bottom position location crumb crumbs breadcrumb breadcrumbs curmb "
    "share bdshare jiathis print close font fontsize font-size zihao zoom-btn toolbar wza wzatool accessibility "
    "barrier views viewcount view-count visit visits counter pv sidebar topbar top-bar skip "
    "older elder olds fanti jianfan".split())
_CHROME_SUBSTRINGS = ("breadcrumb", "bdshare", "share", "print", "fontsize", "font-size", "zihao", "wza",
                      "accessib", "viewcount", "view-count", "visit", "toolbar", "topbar", "top-bar", "curmb",
                      "crumb", "jiathis")
_CHROME_TEXT = re.compile(
    r"^(?:【?(?:打印(?:本页)?|关闭(?:窗口|本页)?|返回顶部|收藏|纠错)】?|分享到?[:：]?.{0,40}|"
    r"字[号体][:：]?\s*[\[【]?大[\]】]?\s*[\[【]?中[\]】]?\s*[\[【]?小[\]】]?|[\[【]?[大中小][\]】]?|"
    r"(?:浏览|访问|阅读|点击)(?:量|次数|数)[:：]?\s*\d*|无障碍(?:浏览|阅读)?|长者(?:助手|模式)|繁體?[体版]|简体版?|"
    r"当前位置[:：].*|您现在的位置[:：].*)$")
_INFO_LINE = re.compile(r"(?:信息)?来源\s*[:：].{0,60}(?:时间|日期)\s*[:：]|字[体号]\s*[:：]\s*[\[【(]")
_SMALL_WIDGET_TAGS = ("a", "span", "em", "i", "b", "font", "label", "li", "button", "strong", "small")
_INFO_LINE_TAGS = ("div", "span", "td", "p")
_SPACE_RE = re.compile(r"\s+")
_NON_CJK_RUNS = re.compile(r"[^\u3400-\u9fff\uf900-\ufaff]+")

# Strings inside these elements are not text for get_text (BeautifulSoup's string containers).
STRING_CONTAINERS = frozenset({"script", "style", "template", "rt", "rp"})
_PRESERVE_WHITESPACE = ("pre", "textarea")
_ASCII_SPACES = " \n\t\x0c\r"
# Attributes BeautifulSoup splits into lists of words (Tag equality compares them as lists).
_LIST_ATTRIBUTES = {"*": {"class", "accesskey", "dropzone"}, "a": {"rel", "rev"}, "link": {"rel", "rev"},
                    "td": {"headers"}, "th": {"headers"}, "form": {"accept-charset"}, "object": {"archive"},
                    "area": {"rel"}, "icon": {"sizes"}, "iframe": {"sandbox"}, "output": {"for"}}
REMOVED = "pw-removed"  # the tag of a removed element, left in place (empty) to keep its tail
DOCUMENT = "pw-document"  # holds the whole document when it is more than one <html>, or has no <body>

# Text of an element: all its text nodes, unless string containers hide some (or all) of them.
# The test for a hiding ancestor costs the depth of each text node, so it is only made when needed.
_ALL_STRINGS = etree.XPath("descendant::text()", smart_strings=False)
_ALL_NODES = etree.XPath("descendant::text()")  # the same, each string knowing its parent
_SHOWN_XPATH = ("descendant::text()[not(ancestor::script or ancestor::style or ancestor::template"
                " or ancestor::rt or ancestor::rp)]")
_SHOWN_STRINGS = etree.XPath(_SHOWN_XPATH, smart_strings=False)
_SHOWN_NODES = etree.XPath(_SHOWN_XPATH)
# script and style hold only text, so only these can have elements (and text) inside them
_UNDER_CONTAINER = etree.XPath("boolean(ancestor::template or ancestor::rt or ancestor::rp)")
_STRING = etree.XPath("string(.)", smart_strings=False)  # all text under an element, in one piece
_CLASSED = etree.XPath("descendant::*[@class or @id]")
_parsers = threading.local()  # an lxml parser must not be used by two threads at once


def _parser() -> etree.HTMLParser:
    parser = getattr(_parsers, "parser", None)
    if parser is None:
        # The text goes in as UTF-8 bytes with the encoding fixed: lxml refuses a str that starts
        # with an XML declaration naming an encoding, and a <meta charset> must not make libxml2
        # decode the already decoded text again. huge_tree lifts the nesting limit from 256 to
        # 2048 (deeper markup is rebuilt from parser events, see _parse_by_events).
        parser = _parsers.parser = etree.HTMLParser(encoding="utf-8", huge_tree=True)
    return parser


def parse_html(text: str) -> HtmlElement:
    """Parse HTML leniently; return the document's top element.

    That is <html>, or an empty <html> when the text holds no element at all. Markup after
    </html> makes libxml2 open another <html> beside the first (lxml's root is only the first):
    then all of them are moved under one DOCUMENT element, so that searches and text see the
    whole page, as they did when BeautifulSoup built the tree from the parser's events.
    """
    data = text.encode("utf-8", errors="replace")
    if not data.strip():
        return etree.Element("html")
    parser = _parser()
    try:
        root = etree.fromstring(data, parser)
    except etree.ParserError:  # libxml2 found no document at all
        root = None
    if any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log):
        return _parse_by_events(data)
    if root is None:
        return etree.Element("html")
    before = list(root.itersiblings(preceding=True))
    after = list(root.itersiblings())
    if not any(is_element(node) for node in before + after):
        return root
    document = etree.Element(DOCUMENT)
    for node in [*reversed(before), root, *after]:
        document.append(node)
    return document


class _EventTree:
    """An lxml parser target that builds the tree from libxml2's events itself, with no depth limit.

    Only for markup nested deeper than libxml2 builds trees (where it stops and drops the rest).
    Strings lxml will not store (control characters) have those characters replaced by U+FFFD.
    """

    def __init__(self) -> None:
        self.document = etree.Element(DOCUMENT)
        self.stack = [self.document]
        self.last: HtmlElement | None = None  # the element whose tail the next string extends
        self.pending: list[str] = []

    def _flush(self) -> None:
        if not self.pending:
            return
        text = _storable("".join(self.pending))
        self.pending = []
        if self.last is not None:
            self.last.tail = (self.last.tail or "") + text
        else:
            self.stack[-1].text = (self.stack[-1].text or "") + text

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self._flush()
        try:
            element = etree.SubElement(self.stack[-1], tag)
        except ValueError:
            element = etree.SubElement(self.stack[-1], "span")
        for name, value in attrib.items():
            try:
                element.set(name, _storable(value))
            except (ValueError, TypeError):
                continue
        self.stack.append(element)
        self.last = None

    def end(self, tag: str) -> None:
        self._flush()
        if len(self.stack) > 1:
            self.last = self.stack.pop()

    def data(self, data: str) -> None:
        self.pending.append(data)

    def comment(self, text: str) -> None:
        self._flush()
        try:
            node = etree.Comment(_storable(text))
        except ValueError:  # "--" or a final "-": a comment's text is never read as text anyway
            node = etree.Comment(_storable(text).replace("-", "\u2010"))
        self.stack[-1].append(node)
        self.last = node

    def close(self) -> HtmlElement:
        self._flush()
        return self.document


_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _storable(text: str) -> str:
    return _UNSTORABLE.sub("\ufffd", text)


def _parse_by_events(data: bytes) -> HtmlElement:
    parser = etree.HTMLParser(target=_EventTree(), encoding="utf-8")
    parser.feed(data)
    return parser.close()


def body_or_document(root: HtmlElement) -> HtmlElement:
    """The first <body>, else an element standing for the whole document (it holds <html>)."""
    body = next(root.iter("body"), None)
    if body is not None:
        return body
    if root.tag == DOCUMENT:
        return root
    parent = root.getparent()
    if parent is not None and parent.tag == DOCUMENT:
        return parent
    document = etree.Element(DOCUMENT)
    document.append(root)
    return document


def is_element(node: object) -> bool:
    """True for an element still in place; False for a comment or a removed element."""
    tag = getattr(node, "tag", None)
    return isinstance(tag, str) and tag != REMOVED


def has_templates(root: HtmlElement) -> bool:
    """True when the document holds a <template> (whose contents selectors do not see)."""
    return next(root.getroottree().getroot().iter("template"), None) is not None


def _in_template(el: HtmlElement, scope: HtmlElement | None) -> bool:
    node = el.getparent()
    while node is not None and node is not scope:
        if node.tag == "template":
            return True
        node = node.getparent()
    return False


def selectable(elements: Iterable[HtmlElement], scope: HtmlElement | None, templates: bool) -> Iterator[HtmlElement]:
    """The elements a CSS selection under scope (None: the whole document) can reach: none inside a
    <template> below scope."""
    for el in elements:
        if el is not scope and (not templates or not _in_template(el, scope)):
            yield el


def cjk_count(text: str) -> int:
    """Number of CJK ideographs in text (deleting the runs between them is ~5x faster than
    listing every match)."""
    return len(_NON_CJK_RUNS.sub("", text))


def class_tokens(el: HtmlElement) -> list[str]:
    """The class attribute split on any whitespace (BeautifulSoup's and soupsieve's reading)."""
    value = el.get("class")
    return value.split() if value else []


def has_class(el: HtmlElement, name: str) -> bool:
    """True when one of el's classes is exactly name (case-sensitive, as CSS selectors matched)."""
    value = el.get("class")
    return value is not None and name in value and name in value.split()


def _innermost_container(node: HtmlElement | None) -> HtmlElement | None:
    while node is not None and node.tag not in STRING_CONTAINERS:
        node = node.getparent()
    return node


def _container_strings(el: HtmlElement) -> list[str]:
    """get_text strings of a template, rt or rp: those whose innermost string container has the
    same name (BeautifulSoup typed strings by container and matched types, not elements)."""
    name = el.tag

    def shown(node: HtmlElement) -> bool:
        container = _innermost_container(node)
        return container is not None and container.tag == name

    out = [el.text] if el.text else []
    stack: list[tuple[Iterator[HtmlElement], HtmlElement]] = [(iter(el), el)]
    while stack:
        children, parent = stack[-1]
        for child in children:
            if isinstance(child.tag, str):
                if child.text and shown(child):
                    out.append(child.text)
                stack.append((iter(child), child))
                break
            if child.tail and shown(parent):
                out.append(child.tail)
        else:
            stack.pop()
            if stack and parent.tail and shown(stack[-1][1]):
                out.append(parent.tail)
    return out


_last_document = threading.local()


def _in_container(el: HtmlElement) -> bool:
    """True when el sits inside a template, rt or rp, so that none of its strings is text.

    Most pages have none of these at all: that is looked up once per document (the last one
    seen, per thread, which this keeps alive until the next) instead of walking up from every element.
    """
    top = el.getroottree().getroot()
    last = getattr(_last_document, "seen", None)
    if last is None or last[0] is not top:
        last = _last_document.seen = (top, next(top.iter("template", "rt", "rp"), None) is not None)
    return last[1] and _UNDER_CONTAINER(el)


def _holds_container(el: HtmlElement) -> bool:
    return next(el.iterdescendants(*STRING_CONTAINERS), None) is not None


def text_strings(el: HtmlElement) -> list[str]:
    """The strings BeautifulSoup's el.get_text() joins, in document order."""
    if el.tag in STRING_CONTAINERS:
        if el.tag in ("script", "style"):  # raw text elements: never any children
            return [el.text] if el.text else []
        return _container_strings(el)
    if _in_container(el):
        return []
    return _SHOWN_STRINGS(el) if _holds_container(el) else _ALL_STRINGS(el)


def _text_nodes(el: HtmlElement) -> list[str]:
    """text_strings(el) for an element that is no string container, each string knowing its parent."""
    if _in_container(el):
        return []
    return _SHOWN_NODES(el) if _holds_container(el) else _ALL_NODES(el)


def own_strings(el: HtmlElement) -> list[str]:
    """The strings directly in el: its text and the tails of its children."""
    strings = [el.text] if el.text else []
    strings.extend(child.tail for child in el if child.tail)
    return strings


def get_text(el: HtmlElement, separator: str = "") -> str:
    """BeautifulSoup's el.get_text(separator) (but whitespace-only strings as written)."""
    if not separator and el.tag not in STRING_CONTAINERS and not _in_container(el) and not _holds_container(el):
        return _STRING(el)  # one call into libxml2 instead of a list of strings
    return separator.join(text_strings(el))


# Counting in UTF-8 bytes, as lxml writes text out, is ~4x faster than regular expressions on str.
# U+4000-U+9FFF are exactly the characters with lead byte E4-E9; U+3400-U+3FFF and U+F900-U+FAFF
# take a second byte to tell (rare: extension A and compatibility ideographs).
_CJK_LEAD_BYTES = bytes(range(0xE4, 0xEA))
_CJK_EXT_A = re.compile(rb"\xe3[\x90-\xbf]")
_CJK_COMPAT = re.compile(rb"\xef[\xa4-\xab]")
# Non-space characters: bytes that start a character and are no ASCII space, less the spaces
# written with several bytes (what str.split() splits on, exactly).
_NOT_COUNTED = bytes(range(0x80, 0xC0)) + bytes(c for c in range(0x80) if chr(c).isspace())
_WIDE_SPACES = re.compile(b"|".join(re.escape(chr(c).encode()) for c in range(0x80, 0x3001) if chr(c).isspace()))


def cjk_in_utf8(data: bytes) -> int:
    """cjk_count of UTF-8 encoded text."""
    count = len(data) - len(data.translate(None, _CJK_LEAD_BYTES))
    return count + len(_CJK_EXT_A.findall(data)) + len(_CJK_COMPAT.findall(data))


def nonspace_in_utf8(data: bytes) -> int:
    """Number of characters of UTF-8 encoded text that are not whitespace."""
    return len(data.translate(None, _NOT_COUNTED)) - len(_WIDE_SPACES.findall(data))


def nonspace_count(text: str) -> int:
    """Number of characters of text that are not whitespace."""
    return nonspace_in_utf8(text.encode("utf-8", "surrogatepass"))


def _utf8_text(el: HtmlElement) -> bytes:
    return etree.tostring(el, method="text", encoding="utf-8", with_tail=False)


def utf8_text(el: HtmlElement) -> bytes:
    """get_text(el) encoded in UTF-8, written out by libxml2 (tostring) around the string
    containers: one call per element that holds none, so no list of strings is built and
    nesting costs nothing."""
    if el.tag in STRING_CONTAINERS or _in_container(el):
        return get_text(el).encode("utf-8", "surrogatepass")
    if not _holds_container(el):
        return _utf8_text(el)
    chunks = [el.text.encode("utf-8", "surrogatepass")] if el.text else []
    # per element being read: its children still to read, and itself (its tail follows them)
    stack: list[tuple[Iterator[HtmlElement], HtmlElement | None]] = [(iter(el), None)]
    while stack:
        children, owner = stack[-1]
        for node in children:
            if is_element(node) and node.tag not in STRING_CONTAINERS:
                if _holds_container(node):
                    if node.text:
                        chunks.append(node.text.encode("utf-8", "surrogatepass"))
                    stack.append((iter(node), node))
                    break
                chunks.append(_utf8_text(node))
            # (a comment, a removed element or a string container: no text, but a tail)
            if node.tail:
                chunks.append(node.tail.encode("utf-8", "surrogatepass"))
        else:
            stack.pop()
            if owner is not None and owner.tail:
                chunks.append(owner.tail.encode("utf-8", "surrogatepass"))
    return b"".join(chunks)


def same_text_below(el: HtmlElement, known: dict[HtmlElement, HtmlElement]) -> HtmlElement:
    """The element below el that has the same text (for get_text, whitespace aside) and the same
    links: el itself, or the end of a chain of only children around which there is nothing but
    whitespace. Markup nested thousands deep is such a chain: what is computed for the end of it
    serves every element along it. known remembers the chains already walked."""
    chain = []
    node = el
    while node not in known and len(node) == 1 and not (node.text or "").strip():
        child = node[0]
        if not is_element(child) or child.tag in STRING_CONTAINERS or child.tag == "a" \
                or (child.tail or "").strip():
            break
        chain.append(node)
        node = child
    end = known.get(node, node)
    for link in chain:
        known[link] = end
    return end


def text_measure(el: HtmlElement, measure: Callable[[bytes], int]) -> int:
    """measure(utf8_text(el)), for cjk_in_utf8 and nonspace_in_utf8."""
    return measure(utf8_text(el))


def inline_text(node: HtmlElement) -> str:
    """All text of node on one line, spaces collapsed."""
    return _SPACE_RE.sub(" ", " ".join(text_strings(node))).strip()


def _in_preformatted(node: HtmlElement | None) -> bool:
    while node is not None:
        if node.tag in _PRESERVE_WHITESPACE:
            return True
        node = node.getparent()
    return False


def _collapse(text: str) -> str:
    return ("\n" if "\n" in text else " ") if not text.strip(_ASCII_SPACES) else text


class _Document:
    """What a page holds that changes how its strings are read (looked up once per pass)."""

    def __init__(self, root: HtmlElement) -> None:
        top = root.getroottree().getroot()
        self.has_templates = next(top.iter("template", "rt", "rp"), None) is not None
        self.has_preformatted = next(top.iter(*_PRESERVE_WHITESPACE), None) is not None

    def widget_text(self, el: HtmlElement, limit: int) -> str | None:
        """el.get_text() with BeautifulSoup's parse-time rule that a string of ASCII whitespace only
        is one space or newline outside <pre>/<textarea> (it decides whether a widget is short),
        or None when that is longer than limit."""
        if len(el) == 0:
            # A leaf's text is its only string. Whitespace alone is no widget however long, so it
            # need not be collapsed; inside a template (or rt, rp) it is no text at all.
            if self.has_templates and _innermost_container(el) is not None:
                return ""
            text = el.text or ""
            return text if len(text) <= limit else None
        if text_measure(el, nonspace_in_utf8) > limit:
            return None  # collapsing whitespace never takes the text below its non-space characters
        if not self.has_preformatted:
            return "".join(_collapse(text) for text in text_strings(el))
        out = []
        for node in _text_nodes(el):
            text = str(node)
            if not text.strip(_ASCII_SPACES):
                parent = node.getparent()
                if not _in_preformatted(parent.getparent() if node.is_tail else parent):
                    text = _collapse(text)
            out.append(text)
        return "".join(out)


def _is_chrome_by_name(el: HtmlElement) -> bool:
    value = el.get("class")
    tokens = [token.lower() for token in value.split()] if value else []
    ident = (el.get("id") or "").lower()
    if ident:
        tokens.append(ident)
    for token in tokens:
        if token in _CHROME_TOKENS or any(part in token for part in _CHROME_SUBSTRINGS):
            return True
    return False


def is_chrome_text(text: str) -> bool:
    """True for the text of a small page widget (print/close, font size, counters, toolbars, breadcrumbs)."""
    return bool(_CHROME_TEXT.match(" ".join(text.split())))


def is_attached(el: HtmlElement, root: HtmlElement) -> bool:
    """True while el is in root's tree: neither it nor anything between them has been removed."""
    if el.tag == REMOVED:
        return False
    node: HtmlElement | None = el
    while node is not None:
        if node is root:
            return True
        node = node.getparent()
    return False


def remove_element(el: HtmlElement) -> None:
    """Take el's content out of the tree; el stays, empty and renamed REMOVED, to keep its tail
    (a string of its own), and whatever was inside it is detached from the tree."""
    del el[:]
    el.text = None
    el.attrib.clear()
    el.tag = REMOVED


class _Guard:
    """Never remove keep or an element holding it, nor half of the page's Chinese text."""

    def __init__(self, root: HtmlElement, keep: HtmlElement | None) -> None:
        self.total = max(text_measure(root, cjk_in_utf8), 1)
        self.keep = keep
        self.holders: set[HtmlElement] = set()
        node = keep
        while node is not None:
            self.holders.add(node)
            node = node.getparent()

    def __call__(self, el: HtmlElement) -> bool:
        if self.keep is not None and (el in self.holders or self._holds_twin(el)):
            return True
        return text_measure(el, cjk_in_utf8) * 2 > self.total

    def _holds_twin(self, el: HtmlElement) -> bool:
        # BeautifulSoup checked `keep in tag.descendants`, and a Tag equals another with the same
        # name, attributes and contents: an element also holds keep when it holds keep's twin.
        keep = self.keep
        assert keep is not None
        return any(other is not keep and same_content(other, keep) for other in el.iterdescendants(keep.tag))


def _attrs_key(el: HtmlElement) -> dict[str, object]:
    listed = _LIST_ATTRIBUTES["*"] | _LIST_ATTRIBUTES.get(el.tag, set())
    return {name: (value.split() if name in listed else value) for name, value in el.attrib.items()}


def _contents(el: HtmlElement) -> list[object]:
    """el's children as BeautifulSoup listed them: strings (comments too) and elements."""
    items: list[object] = []
    if el.text:
        items.append(_collapse(el.text) if not _in_preformatted(el) else el.text)
    for child in el:
        if is_element(child):
            items.append(child)
        elif child.tag is etree.Comment:
            items.append(child.text or "")
        if child.tail:
            items.append(_collapse(child.tail) if not _in_preformatted(el) else child.tail)
    return items


def same_content(a: HtmlElement, b: HtmlElement) -> bool:
    """BeautifulSoup's Tag equality: same name, attributes and contents, recursively."""
    pairs = [(a, b)]
    while pairs:
        x, y = pairs.pop()
        if x.tag != y.tag or _attrs_key(x) != _attrs_key(y):
            return False
        xs, ys = _contents(x), _contents(y)
        if len(xs) != len(ys):
            return False
        for u, v in zip(xs, ys, strict=True):
            if isinstance(u, str) or isinstance(v, str):
                if not (isinstance(u, str) and isinstance(v, str) and u == v):
                    return False
            else:
                pairs.append((u, v))  # type: ignore[arg-type]
    return True


def _descendants(root: HtmlElement, tags: Iterable[str]) -> list[HtmlElement]:
    return [el for el in root.iter(*tags) if el is not root]


def remove_chrome(root: HtmlElement, *, by_text: bool = True, keep: HtmlElement | None = None,
                  info_lines: bool = False) -> None:
    """Remove chrome elements under root in place; never remove keep or an element that holds it.

    by_text also drops small widgets (links, spans) whose whole text is chrome (【打印】, 字号 大中小 …);
    info_lines also drops "信息来源:… 时间:… 字体:[大][中][小]" lines (generic pages only).
    Each step sees the tree as the steps before it left it; an element under a removed one is skipped.
    Text is only measured for an element that would go (and libxml2 writes it out in one piece).
    """
    guarded = _Guard(root, keep)
    for el in _descendants(root, _DROP_TAGS):
        if is_attached(el, root) and not guarded(el):
            remove_element(el)
    for el in _CLASSED(root):
        if _is_chrome_by_name(el) and is_attached(el, root) and not guarded(el):
            remove_element(el)
    if not by_text:
        return
    document = _Document(root)
    for el in _descendants(root, _SMALL_WIDGET_TAGS):
        text = document.widget_text(el, 60)
        if text is not None and len(text) <= 60 and is_chrome_text(text) and is_attached(el, root) \
                and not guarded(el):
            remove_element(el)
    if not info_lines:
        return
    lines: dict[HtmlElement, bool] = {}  # whether the text below is an info line (see same_text_below)
    chains: dict[HtmlElement, HtmlElement] = {}
    for el in _descendants(root, _INFO_LINE_TAGS):
        below = same_text_below(el, chains)
        if below not in lines:
            # over 160 non-space characters the line is too long, without reading its strings
            text = " ".join(get_text(below, " ").split()) if text_measure(below, nonspace_in_utf8) <= 160 else ""
            lines[below] = len(text) <= 160 and bool(_INFO_LINE.search(text))
        if lines[below] and is_attached(el, root) and not guarded(el):
            remove_element(el)


def remove_chrome_for(root: HtmlElement, elements: list[HtmlElement], *, keep: HtmlElement | None = None) -> None:
    """remove_chrome(root, by_text=False, keep=keep) as far as it concerns these elements: whether
    each stays in the tree, and what stays inside it.

    The whole pass would weigh every element of the page by its name; but whether an element
    goes depends only on the drop step and on the elements above it, which are decided first (in
    document order). Deciding just the chain above each element and its subtree gives the same answer.
    """
    guarded = _Guard(root, keep)
    for el in _descendants(root, _DROP_TAGS):
        if is_attached(el, root) and not guarded(el):
            remove_element(el)
    decided: set[HtmlElement] = set()
    for element in elements:
        if not is_attached(element, root):
            continue
        chain = []
        node = element
        while node is not root:
            chain.append(node)
            node = node.getparent()
        for el in [*reversed(chain), *element.iterdescendants(etree.Element)]:
            if el in decided:
                continue
            decided.add(el)
            if _is_chrome_by_name(el) and is_attached(el, root) and not guarded(el):
                remove_element(el)


_LINE_BREAK = "\x00"  # libxml2 turns NUL into U+FFFD and lxml refuses it: never in a string


def block_lines(node: HtmlElement) -> list[str]:
    """Text of node as paragraphs: block elements and <br> end lines, runs of spaces collapse to one."""
    pieces = [node.text] if node.text else []
    append = pieces.append
    # per element being read: its children still to read, whether it is a block, its tail
    stack: list[tuple[Iterator[HtmlElement], bool, str | None]] = [(iter(node), False, None)]
    while stack:
        children, block, tail = stack[-1]
        for child in children:
            tag = child.tag
            if not isinstance(tag, str) or tag == REMOVED:  # no text of its own, but a tail
                if child.tail:
                    append(child.tail)
                continue
            if tag == "br":
                append(_LINE_BREAK)
                if child.tail:
                    append(child.tail)
                continue
            opens = tag in BLOCK_TAGS
            if opens:
                append(_LINE_BREAK)
            if child.text:
                append(child.text)
            if len(child):
                stack.append((iter(child), opens, child.tail))
                break
            if opens:  # a leaf is done at once
                append(_LINE_BREAK)
            if child.tail:
                append(child.tail)
        else:
            stack.pop()
            if stack:  # the element is done: a block ends its line, then its tail follows
                if block:
                    append(_LINE_BREAK)
                if tail:
                    append(tail)
    # split/join is the old regular expression's collapse-and-strip: both split on str.isspace()
    lines = (" ".join(line.split()) for line in "".join(pieces).split(_LINE_BREAK))
    return [line for line in lines if line]


def block_text(node: HtmlElement) -> str:
    """block_lines joined by newlines."""
    return "\n".join(block_lines(node))
