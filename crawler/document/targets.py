"""Quantitative targets inside a task: number, magnitude, unit and what is counted."""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

# An alternative that another one starts (千瓦 of 千瓦时, GW of GWh, G of GB) comes after it:
# the regex takes the first alternative that matches, and "20GWh" is 20 GWh, not 20 GW of "h".
_UNITS = (
    "平方米|平方公里|平方千米|立方米|万千瓦时|万千瓦|千瓦时|千瓦|兆瓦时|兆瓦|吉瓦时|吉瓦|公里|千米|吨|"
    "个百分点|百分点|家|个|项|所|座|条|款|名|人次|人|位|户|台|套|件|辆|艘|标箱|美元|港元|欧元|元|"
    "%|倍|张|部|批|类|种|场|次|期|亩|公顷|米|小时|分钟|天|"
    "TWh|GWh|MWh|kWh|GW|MW|kW|EFLOPS|PFLOPS|TFLOPS|TB|PB|EB|GB|Gbps|Mbps|G|万|亿"
)
# "1,000" is one number (thousands groups), and a digit right after "1," is never a number's start.
# The number starts with a digit and only then looks back ("not after a digit, a dot, a letter or
# 第"): a pattern that opens with a digit lets the regex engine skip to the next digit, where one
# that opens with the look-behind tries a match at every character of the text (3× slower).
# The final look-behind drops numbers with neither magnitude nor unit (a match then ends in a
# digit), which find_targets skips anyway: no shorter number can take a unit instead, since what
# follows it is a digit or a dot. They are half of all numbers.
_TARGET_PATTERN = (
    r"(?P<num>\d(?<![\d.A-Za-z第]\d)(?<!\d,\d)\d*(?:,\d{3}(?!\d))*(?:\.\d+)?)(?P<mag>万亿|千亿|百亿|亿|千万|百万|万|千|百)?"
    r"(?P<unit>" + _UNITS + r")?(?<!\d)"
)
_TARGET_RE = re.compile(_TARGET_PATTERN)
# The same for a text known to hold no decimal digit but 0-9: the engine tests a character
# against 0-9 faster than against the Unicode digit category.
_TARGET_ASCII_RE = re.compile(_TARGET_PATTERN.replace("[\\d", "[0-9").replace("\\d", "[0-9]"))
_MAG = {"万亿": 10**12, "千亿": 10**11, "百亿": 10**10, "亿": 10**8, "千万": 10**7, "百万": 10**6, "万": 10**4,
        "千": 10**3, "百": 100}
_NOT_AFTER = ("年", "月", "日", "号", "届", "次会议", "时", "分", "岁", "级", "周年", "世纪", "代", "期间")
# Units that are really ordinals or parts of names when no magnitude is given.
_WEAK_UNITS = frozenset({"G", "次", "期", "批", "部", "类", "场", "种", "张"})
# Where the counted thing ends. Only the position of the first match is used, so the marks are
# spelled as single-character alternatives: when every alternative starts with a literal, the
# regex engine skips positions by their first character instead of trying each alternative.
_WHAT_STOP_MARKS = ",。;、:!?()“”《》[]〔〕/"  # "/": 300MW/600MWh is two targets
_WHAT_STOP_RE = re.compile(
    "|".join(re.escape(c) for c in _WHAT_STOP_MARKS)
    + r"|数字化|转型|以上的|左右|的|等|和|与|及|或|实现|达到|达|超过|突破|建设|发展|"
    r"入选|获批|上云|落户|开展|提供|覆盖|参与|培育|以上(?=[,。;、])"
)
_WHAT_MAX = 16
# A stop that starts before _WHAT_MAX lies within this many characters (以上 + look-ahead is 3).
_WHAT_WINDOW = _WHAT_MAX + 2
_PREFIX_CUTS = "、等和与及的"


def _value(num: str, mag: str | None) -> int | float:
    v = float(num.replace(",", ""))  # "1,000家": a thousands separator, as tables write them
    if mag:
        v *= _MAG[mag]
    return int(v) if v == int(v) else round(v, 6)


def find_targets(text: str, *, ascii_digits: bool = False) -> list[dict[str, object]]:
    """Numbers with a unit in ``text`` (years, dates, ordinals and labels ignored).

    ``ascii_digits``: the caller knows that the text holds no decimal digit but 0-9; then a text
    without any (most tasks) is passed over by ten one-character searches instead of the regex,
    which tests every character for a digit at 13 ns each.
    """
    out: list[dict[str, object]] = []
    if not text:
        return out
    if ascii_digits and not (
        "0" in text or "1" in text or "2" in text or "3" in text or "4" in text
        or "5" in text or "6" in text or "7" in text or "8" in text or "9" in text
    ):
        return out
    for m in (_TARGET_ASCII_RE if ascii_digits else _TARGET_RE).finditer(text):
        num, mag, unit = m.groups()
        if not unit and not mag:
            continue
        start, end = m.span()
        if not unit and text.startswith(_NOT_AFTER, end):
            continue
        if unit is None:
            unit = ""
        if unit in ("万", "亿") and not mag:
            mag, unit = unit, ""
        if unit in _WEAK_UNITS and not mag:
            continue
        # "1." at the start of a line or after a bracket is a label, not a number.
        if text[end - 1:end] == "." or (start == 0 and text[end:end + 1] in (".", "、")):
            continue
        if len(num) == 4 and not mag and unit in ("", "年") and 1900 <= int(num) <= 2100:
            continue
        if unit == "%" or unit.endswith("百分点"):
            what = ""
        else:
            # The text up to the first stop within 40 characters, at most _WHAT_MAX of it.
            stop = _WHAT_STOP_RE.search(text, end, end + _WHAT_WINDOW)
            what = text[end:min(stop.start(), end + _WHAT_MAX) if stop else end + _WHAT_MAX]
        # The CJK run just before the number (up to 8 characters; a newline right before it is
        # stepped over, as the former [\u4e00-\u9fff]{0,8}$ search did), after its last 的/和….
        lo = max(0, start - 8)
        stop_at = start - 1 if start > lo and text[start - 1] == "\n" else start
        k = stop_at
        while k > lo and "\u4e00" <= text[k - 1] <= "\u9fff":
            k -= 1
            if text[k] in _PREFIX_CUTS:
                k += 1
                break
        number = num + (mag or "")
        out.append(
            {
                "value": _value(num, mag),
                "number": number,
                "unit": unit,
                "what": what,
                "text": (text[k:stop_at] + text[start:end] + what).strip(),
            }
        )
    return out
