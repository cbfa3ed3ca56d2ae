"""HTML to text helpers: chrome removal and block-aware text, one paragraph per line."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString

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
_SMALL_WIDGET_TAGS = frozenset({"a", "span", "em", "i", "b", "font", "label", "li", "button", "strong", "small"})
_SPACE_RE = re.compile(r"\s+")
_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def parse_html(text: str) -> BeautifulSoup:
    """Parse HTML leniently (lxml, falling back to the standard library parser)."""
    try:
        return BeautifulSoup(text, "lxml")
    except Exception:  # pragma: no cover - lxml handles almost everything
        return BeautifulSoup(text, "html.parser")


_NON_CJK_RUNS = re.compile(r"[^\u3400-\u9fff\uf900-\ufaff]+")


def cjk_count(text: str) -> int:
    """Number of CJK ideographs in text (deleting the runs between them is ~5x faster than
    listing every match; this runs for every candidate element of every page)."""
    return len(_NON_CJK_RUNS.sub("", text))


def _is_chrome_by_name(tag: Tag) -> bool:
    tokens: list[str] = [str(c).lower() for c in (tag.get("class") or [])]
    ident = str(tag.get("id") or "").lower()
    if ident:
        tokens.append(ident)
    for token in tokens:
        if token in _CHROME_TOKENS or any(part in token for part in _CHROME_SUBSTRINGS):
            return True
    return False


def is_chrome_text(text: str) -> bool:
    """True for the text of a small page widget (print/close, font size, counters, toolbars, breadcrumbs)."""
    return bool(_CHROME_TEXT.match(" ".join(text.split())))


def remove_chrome(root: Tag, *, by_text: bool = True, keep: Tag | None = None, info_lines: bool = False) -> None:
    """Remove chrome elements under root in place; never remove keep or an element that holds it.

    by_text also drops small widgets (links, spans) whose whole text is chrome (【打印】, 字号 大中小 …);
    info_lines also drops "信息来源:… 时间:… 字体:[大][中][小]" lines (generic pages only).
    """
    total = max(cjk_count(root.get_text()), 1)
    for tag in list(root.find_all(_DROP_TAGS)):
        if _guarded(tag, keep, total):
            continue
        tag.decompose()
    for tag in list(root.find_all(True)):
        if tag.decomposed or tag is root:
            continue
        if _is_chrome_by_name(tag) and not _guarded(tag, keep, total):
            tag.decompose()
    if not by_text:
        return
    for tag in list(root.find_all(_SMALL_WIDGET_TAGS)):
        if tag.decomposed:
            continue
        text = tag.get_text()
        if len(text) <= 60 and is_chrome_text(text) and not _guarded(tag, keep, total):
            tag.decompose()
    if not info_lines:
        return
    for tag in list(root.find_all(["div", "span", "td", "p"])):
        if tag.decomposed:
            continue
        text = " ".join(tag.get_text(" ").split())
        if len(text) <= 160 and _INFO_LINE.search(text) and not _guarded(tag, keep, total):
            tag.decompose()


def _guarded(tag: Tag, keep: Tag | None, total: int) -> bool:
    if keep is not None and (tag is keep or keep in tag.descendants):
        return True
    return cjk_count(tag.get_text()) * 2 > total  # never drop half of the page's Chinese text


def _collect(node: Tag, out: list[str]) -> None:
    for child in node.children:
        if isinstance(child, PreformattedString):
            continue
        if isinstance(child, NavigableString):
            out[-1] += str(child)
        elif isinstance(child, Tag):
            name = child.name
            if name == "br":
                out.append("")
            elif name in BLOCK_TAGS:
                out.append("")
                _collect(child, out)
                out.append("")
            else:
                _collect(child, out)


def block_lines(node: Tag) -> list[str]:
    """Text of node as paragraphs: block elements and <br> end lines, runs of spaces collapse to one."""
    out = [""]
    _collect(node, out)
    lines = (_SPACE_RE.sub(" ", line).strip() for line in out)
    return [line for line in lines if line]


def block_text(node: Tag) -> str:
    """block_lines joined by newlines."""
    return "\n".join(block_lines(node))


def inline_text(node: Tag) -> str:
    """All text of node on one line, spaces collapsed."""
    return _SPACE_RE.sub(" ", node.get_text(" ")).strip()
