"""Render rows as an aligned table (CJK-width aware) or JSON, for the CLI."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from typing import Any


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def clip(text: str, width: int) -> str:
    """Cut text to a display width, marking the cut with …."""
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def single_line(value: Any) -> str:
    """Crawled text may hold newlines or control characters: never let them break a row."""
    text = "" if value is None else str(value)
    return "".join(ch if ch.isprintable() else " " for ch in text)


# What a terminal would act on in crawled text: C0 and C1 control characters (an ESC starts a
# sequence that can move the cursor, clear the screen or retitle the window; BEL rings) and the
# bidirectional overrides that display text in another order than it is stored.
_TERMINAL_UNSAFE = {
    **{c: " " for c in range(0x20) if chr(c) not in "\n\t"},
    0x7F: " ", **{c: " " for c in range(0x80, 0xA0)},
    **{c: " " for c in (0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))},
}


def terminal_text(value: Any) -> str:
    """Crawled text for a terminal, lines kept: every control character but newline and tab,
    and every bidirectional override, becomes a space."""
    return ("" if value is None else str(value)).translate(_TERMINAL_UNSAFE)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, max_width: int = 60) -> str:
    cells = [[clip(single_line(v), max_width) for v in row] for row in rows]
    widths = [display_width(h) for h in headers]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], display_width(value))

    def line(values: Sequence[str]) -> str:
        return "  ".join(v + " " * (widths[i] - display_width(v)) for i, v in enumerate(values)).rstrip()

    out = [line(list(headers)), line(["-" * w for w in widths])]
    out += [line(row) for row in cells]
    return "\n".join(out)


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)
