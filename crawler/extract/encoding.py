"""Decode HTML bytes: HTTP header, then BOM / <meta> charset, then detection, never raising."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_GB_FAMILY = {"gbk", "gb2312", "gb_2312", "gb_2312-80", "x-gbk", "cp936", "windows-936", "ms936", "euc-cn",
              "gb18030", "936", "csgb2312", "chinese", "iso-ir-58"}
_WEAK = {"iso8859-1", "latin-1", "ascii", "cp1252"}  # often a server default, not a real declaration
_HEADER_RE = re.compile(r"charset\s*=\s*[\"']?\s*([-\w.:]+)", re.I)
_META_RE = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([-\w.:]+)", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def normalize_charset(name: str | None) -> str | None:
    """Return Python's canonical codec name for a charset label (GB family -> gb18030), or None."""
    if not name:
        return None
    label = name.strip().strip("\"'").lower()
    if label in _GB_FAMILY or label.replace("_", "") in {"gbk", "gb2312", "gb18030"}:
        return "gb18030"
    if label in {"utf8", "utf-8", "unicode-1-1-utf-8"}:
        return "utf-8"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _try(body: bytes, encoding: str | None) -> str | None:
    if encoding is None:
        return None
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _mostly_cjk(text: str) -> bool:
    wide = [char for char in text if ord(char) > 0x7F]
    cjk = sum(1 for char in wide if "\u3000" <= char <= "\u9fff" or "\uff00" <= char <= "\uffef")
    return bool(wide) and cjk * 10 >= len(wide) * 9


def _detect(body: bytes) -> str | None:
    gb_text = _try(body, "gb18030")
    if gb_text is not None and _mostly_cjk(gb_text):
        return "gb18030"
    names = [normalize_charset(match.encoding) for match in from_bytes(body)]
    valid = [name for name in names if name and _try(body, name) is not None]
    if "gb18030" in valid:
        return "gb18030"
    if valid:
        return valid[0]
    return "gb18030" if gb_text is not None else None


def decode_html(body: bytes, content_type: str | None) -> tuple[str, str]:
    """Decode an HTML response body; return (text, encoding name)."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(encoding, errors="replace"), encoding
    header = None
    if content_type:
        match = _HEADER_RE.search(content_type)
        header = normalize_charset(match.group(1)) if match else None
    meta_match = _META_RE.search(body[:4096])
    meta = normalize_charset(meta_match.group(1).decode("ascii", "replace")) if meta_match else None
    declared = [header, meta] if header not in _WEAK else [meta, header]
    for encoding in declared:
        text = _try(body, encoding)
        if text is not None and (encoding not in _WEAK or not _has_high_bytes(body)):
            return text, encoding  # type: ignore[return-value]
    text = _try(body, "utf-8")
    if text is not None:
        return text, "utf-8"
    detected = _detect(body)
    if detected is not None:
        return body.decode(detected, errors="replace"), detected
    return body.decode("utf-8", errors="replace"), "utf-8"


def _has_high_bytes(body: bytes) -> bool:
    return any(byte > 0x7F for byte in body[:65536])
