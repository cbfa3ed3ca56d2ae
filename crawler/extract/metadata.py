"""Read label/value metadata blocks (div.classify tables, div.introduce rows, info lines) into a dict."""

from __future__ import annotations

import re

from lxml import etree

from .htmltext import HtmlElement, inline_text

_LABEL_VALUE_RE = re.compile(r"^([^:：]{1,12}?)\s*[:：]\s*(.*)$", re.S)
_BARE_LABEL_RE = re.compile(r"^[^:：]{1,12}[:：]\s*$")
_SPACES_RE = re.compile(r"\s+")
_INFO_FIELDS = {
    "来源": re.compile(r"(?:信息)?来源\s*[:：]\s*(.+?)(?=\s*(?:发布)?(?:时间|日期)\s*[:：]|\s*字[体号]\s*[:：]|\s*$)"),
    "时间": re.compile(r"(?:发布)?(?:时间|日期)\s*[:：]\s*(\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?)"),
}


def clean_label(label: str) -> str:
    """Strip whitespace (including full-width spaces) and a trailing colon from a label."""
    return _SPACES_RE.sub("", label).rstrip(":：")


def _pieces(container: HtmlElement) -> list[str]:
    cells = list(container.iterdescendants("td", "th"))
    if cells:
        return [inline_text(cell) for cell in cells if next(cell.iterdescendants("td", "th"), None) is None]
    leaves = [tag for tag in container.iterdescendants(etree.Element)
              if tag.tag != "br" and next(tag.iterchildren(etree.Element), None) is None]
    return [inline_text(tag) for tag in leaves]


def read_label_values(container: HtmlElement) -> dict[str, str]:
    """Pair label cells ("索引号:") with the cell after them; also split "label: value" cells."""
    pieces = _pieces(container)
    result: dict[str, str] = {}
    index = 0
    while index < len(pieces):
        match = _LABEL_VALUE_RE.match(pieces[index])
        if match:
            label = clean_label(match.group(1))
            value = match.group(2).strip()
            if not value and index + 1 < len(pieces) and not _BARE_LABEL_RE.match(pieces[index + 1]):
                value = pieces[index + 1]
                index += 1
            if label and value and label not in result:
                result[label] = value
        index += 1
    return result


def read_info_line(text: str) -> dict[str, str]:
    """Read "信息来源:… 时间:… 字体:[大][中][小]" style lines into {"来源": …, "时间": …}."""
    line = " ".join(text.split())
    result: dict[str, str] = {}
    for label, pattern in _INFO_FIELDS.items():
        match = pattern.search(line)
        if match and match.group(1).strip():
            result[label] = match.group(1).strip()
    return result
