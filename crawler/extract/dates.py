"""Find and normalize dates written on Chinese government pages (2023-06-06, 2023/04/01, 2023年6月6日)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

DATE_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
CHINA_TZ = timezone(timedelta(hours=8))


def find_date(text: str) -> str | None:
    """Return the first date in text as YYYY-MM-DD, or None."""
    for match in DATE_RE.finditer(text):
        year, month, day = (int(group) for group in match.groups())
        if 1949 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31:
            return f"{year:04d}-{month:02d}-{day:02d}"
    return None


def date_from_value(value: object) -> str | None:
    """Normalize an API date: epoch seconds/milliseconds (China time) or a date string."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, UTC).astimezone(CHINA_TZ).strftime("%Y-%m-%d")
    text = str(value).strip()
    if text.isdigit():
        return date_from_value(int(text))
    return find_date(text)
