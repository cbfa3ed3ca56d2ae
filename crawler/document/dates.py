"""Parse the date spellings of Chinese government pages into ISO dates (with time when given)."""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

_DATE_RE = re.compile(
    r"(?P<y>\d{4})\s?[-/.年]\s?(?P<m>\d{1,2})\s?[-/.月]\s?(?P<d>\d{1,2})\s?日?"
    r"(?:\s{0,3}(?:T\s?)?(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?"
)
_CN_DATE_RE = re.compile(
    r"(?P<y>[〇零一二三四五六七八九]{4})年(?P<m>[一二三四五六七八九十]{1,3})月(?P<d>[一二三四五六七八九十]{1,3})日"
)
_CN = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _cn_small(s: str) -> int:
    if "十" not in s:
        return _CN.get(s, 0)
    head, _, tail = s.partition("十")
    return (_CN.get(head, 1) if head else 1) * 10 + (_CN.get(tail, 0) if tail else 0)


def _iso(y: int, m: int, d: int) -> str | None:
    if not (1900 <= y <= 2100 and 1 <= m <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{m:02d}-{d:02d}"


def parse_date(text: str | None, *, keep_time: bool = True) -> str | None:
    """The first date in ``text`` as ISO (2021-07-21, or 2021-07-21T18:05:34 when a time follows)."""
    if not text:
        return None
    m = _DATE_RE.search(text)
    if m is not None:
        iso = _iso(int(m.group("y")), int(m.group("m")), int(m.group("d")))
        if iso and keep_time and m.group("H") is not None:
            h, mi, s = int(m.group("H")), int(m.group("M")), int(m.group("S") or 0)
            if h < 24 and mi < 60 and s < 60:
                return f"{iso}T{h:02d}:{mi:02d}:{s:02d}"
        if iso:
            return iso
    c = _CN_DATE_RE.search(text)
    if c is not None:
        y = int("".join(str(_CN[ch]) for ch in c.group("y")))
        return _iso(y, _cn_small(c.group("m")), _cn_small(c.group("d")))
    return None
