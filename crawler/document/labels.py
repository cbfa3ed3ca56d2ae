"""Heading labels of official documents (一、 (一) 1. (1) ①) and other line shapes (dates, 文号)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

logger = logging.getLogger(__name__)

_CN_DIGITS = "零〇一二三四五六七八九十百两"
# One regex over a normalized line (brackets already half-width). Group names give the kind:
#   l1 一、   l2 (一)   l3 1. / 1、   l4 (1) / 1)   l5 ① / ⑴ (⑴ is folded to (1) → l4).
_HEADING_RE = re.compile(
    r"(?:(?P<l1>[零〇一二三四五六七八九十百两]{1,4})、"
    r"|\((?P<l2>[零〇一二三四五六七八九十百两]{1,4})\)"
    r"|(?P<l3>[1-9]\d?)(?:\.|、)(?![\d.])"
    r"|\((?P<l4>[1-9]\d?)\)"
    r"|(?P<l4b>[1-9]\d?)\)(?![\d)])"  # 1) : a (1) with its opening bracket left out, as some sites write it
    r"|(?P<l5>[\u2460-\u2473]))"
)
RANK = {"l1": 1, "l2": 2, "l3": 3, "l4": 4, "l4b": 4, "l5": 5}
SENTENCE_END = "。!?;"
_DATE_LINE_RE = re.compile(
    r"^(?:\d{4}年\d{1,2}月\d{1,2}日|[〇零一二三四五六七八九]{4}年[一二三四五六七八九十]{1,3}月[一二三四五六七八九十]{1,3}日)$"
)
DOC_NUMBER_RE = re.compile(
    r"(?P<code>[\u4e00-\u9fff]{1,12})\s?[〔\[(【﹝]\s?(?P<year>\d{4})\s?[〕\])】﹞]\s?(?P<num>\d{1,5})\s?号"
)
_DOC_NUMBER_LINE_RE = re.compile(DOC_NUMBER_RE.pattern + r"\s?(?:[ABC]类?)?$")


@dataclass(frozen=True)
class Label:
    """A heading label at the start of a line: its canonical text, kind rank (1..5) and number."""

    text: str
    rank: int
    number: int
    end: int


def cn_number(s: str) -> int:
    """Value of a Chinese numeral up to the hundreds (十一 → 11, 三十四 → 34, 一百零二 → 102)."""
    digits = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
    total = 0
    cur = 0
    for ch in s:
        if ch in digits:
            cur = digits[ch]
        elif ch == "十":
            total += (cur or 1) * 10
            cur = 0
        elif ch == "百":
            total += (cur or 1) * 100
            cur = 0
    return total + cur


# Labels by their matched text ("(一)", "12、"): a document repeats a few dozen of them, and
# building a frozen dataclass and a Chinese numeral's value cost more than the regex match.
# Bounded, so that random input cannot grow it without limit.
_LABELS: dict[str, Label | None] = {}
_LABELS_MAX = 8192
_NOT_AFTER_L3 = ("%", "月", "日", "年", "万", "亿")


def _label_of(m: re.Match[str]) -> Label | None:
    kind = m.lastgroup or ""
    val = m.group(kind)
    if kind in ("l1", "l2"):
        number = cn_number(val)
        if number == 0:
            return None
    elif kind == "l5":
        number = ord(val) - 0x2460 + 1
    else:
        number = int(val)
    text = f"{number}." if kind == "l3" else m.group(0)
    return Label(text=text, rank=RANK[kind], number=number, end=m.end())


def match_label(line: str) -> Label | None:
    """The heading label a normalized line starts with, or None."""
    if not line:
        return None
    ch = line[0]
    if not (ch == "(" or ch.isdigit() or ch in _CN_DIGITS or "\u2460" <= ch <= "\u2473"):
        return None
    m = _HEADING_RE.match(line)
    if m is None:
        return None
    end = m.end()
    # The matched text alone decides the kind, the number and the end (the alternatives start
    # with different characters); only the l3 check below looks past it.
    key = line[:end]
    if key in _LABELS:
        label = _LABELS[key]
    else:
        label = _label_of(m)
        if len(_LABELS) < _LABELS_MAX:
            _LABELS[key] = label
    if label is not None and label.rank == 3 and line[end:end + 1] in _NOT_AFTER_L3:
        return None
    return label


# The divisions of a regulation (办法, 条例, 规定, 实施细则) and of some plans: 第一编/章/节 above
# its articles 第一条, whose items are (一), 1. … Ranked above 一、 (rank 1): the stack of open
# headings pops on rank, so an article's (一) items nest inside it.
_DIVISION_RE = re.compile(r"第(?P<n>[零〇一二三四五六七八九十百两]{1,5}|[1-9]\d{0,2})(?P<kind>[编章节条])")
DIVISION_RANK = {"编": -3, "章": -2, "节": -1, "条": 0}


def match_division(line: str) -> Label | None:
    """The 第…编/章/节/条 label a normalized line starts with, or None. Only the outline reads
    these (build_outline, when a text has at least two of a kind): ``clean`` and the texts it
    produces are the same as before they were recognized."""
    if not line.startswith("第"):
        return None
    m = _DIVISION_RE.match(line)
    if m is None:
        return None
    value = m.group("n")
    number = int(value) if value[0].isdigit() else cn_number(value)
    if number == 0:
        return None
    after = line[m.end():m.end() + 1]
    if after in ("的", "规", "所", "之", "、", ",", "至", "和", "或", "及", "中"):
        return None  # a reference to an article (第五条规定的…), not its heading
    return Label(text=m.group(0), rank=DIVISION_RANK[m.group("kind")], number=number, end=m.end())


def is_date_line(line: str) -> bool:
    """A line that is only a date such as 2023年11月7日 or 二〇二三年十一月七日."""
    return len(line) <= 16 and bool(_DATE_LINE_RE.match(line))


def is_doc_number_line(line: str) -> bool:
    """A line that is only a document number (粤办函〔2023〕297号, optionally with a result class)."""
    return len(line) <= 40 and bool(_DOC_NUMBER_LINE_RE.match(line))


# The line that opens a notice's list of attachments: 附件, 附件:…, 附件1… (not 附件所列…).
# MULTILINE: a text's lines are searched with it too (tasks.closing_start).
ATTACHMENT_LINE_RE = re.compile(r"^附件\s*(?:[::]|\d|$)", re.M)


def heading_only(line: str, label: Label | None) -> bool:
    """A heading that stands on its own line (no sentence after the title)."""
    if label is None:
        return False
    return heading_body_only(line[label.end:].rstrip("。"))


def heading_body_only(body: str) -> bool:
    """heading_only for the text after the label, with its final 。 already stripped."""
    # SENTENCE_END spelled out: a generator over it costs more than the four scans.
    return len(body) <= 60 and "。" not in body and "!" not in body and "?" not in body and ";" not in body
