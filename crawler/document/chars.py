"""Character-level normalization: width folding, reflow whitespace, quotes and sentence splitting."""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

# Full-width ASCII (U+FF01..U+FF5E) → ASCII: （）→(), ，→, ：→: ；→; ！→! ？→? ，digits, letters.
_FOLD: dict[int, str] = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}
_FOLD.update(
    {
        0x3000: " ",  # ideographic space
        0x00A0: " ",  # no-break space
        0x2002: " ", 0x2003: " ", 0x2009: " ", 0x202F: " ", 0x205F: " ",
        0x200B: "", 0x200C: "", 0x200D: "", 0x2060: "", 0xFEFF: "", 0x00AD: "",
        0xFF61: "\u3002",  # halfwidth ideographic full stop → 。
        0xFF64: "\u3001",  # halfwidth ideographic comma → 、
        0xFF62: "\u300c", 0xFF63: "\u300d",
        0xFE59: "(", 0xFE5A: ")",  # small parentheses
        0xFE50: ",", 0xFE51: "\u3001", 0xFE52: ".", 0xFE54: ";", 0xFE55: ":", 0xFE56: "?", 0xFE57: "!",
        0x301D: "\u201c", 0x301E: "\u201d", 0x301F: "\u201d",  # 〝〞〟
        0x2474: "(1)", 0x2475: "(2)", 0x2476: "(3)", 0x2477: "(4)", 0x2478: "(5)",
        0x2479: "(6)", 0x247A: "(7)", 0x247B: "(8)", 0x247C: "(9)", 0x247D: "(10)",
        0x2488: "1.", 0x2489: "2.", 0x248A: "3.", 0x248B: "4.", 0x248C: "5.",
        0x248D: "6.", 0x248E: "7.", 0x248F: "8.", 0x2490: "9.", 0x2491: "10.",
        0x0D: "",
    }
)
# ⑴..⑽ and ⒈..⒑ are single code points; they are spelled out so that "⑴" and "(1)" compare equal.
_FOLD_TABLE = str.maketrans(_FOLD)

# Whitespace next to a non-ASCII character is PDF reflow ("工业和信息化 厅", "TCL 模组"); a run of
# whitespace between two ASCII characters is a real word space and becomes one space.
_WS = " \t\f\v\u3000\xa0\u2002\u2003\u2009\u202f\u205f"
_ANY_WS_RE = re.compile(rf"[{_WS}]+")
_CJK_WS_RE = re.compile(r" (?:(?=[^\x00-\x7f])|(?<=[^\x00-\x7f] ))")
_SENTENCE_RE = re.compile(r"[^。;!?\uff1b\uff01\uff1f\n]*(?:[。;!?\uff1b\uff01\uff1f]+[”\"’')\]]?|\n|$)")
_LINE_SPLIT_RE = re.compile(r"\r\n|\r|\n|\u2028|\u2029|\x85")


_NEEDS_FOLD_RE = re.compile("[" + "".join(re.escape(chr(cp)) for cp in sorted(_FOLD)) + "]")
# Every decimal digit beyond ASCII (str.isdecimal, what \d matches) lies in these ranges, in
# U+FF10..U+FF19 (folded to ASCII) or beyond the BMP; tests check this against the Unicode data.
ODD_DIGIT_RANGES = "\u0660-\u1c59\ua620-\uabf9"
# The search fold_lines makes anyway, also telling whether the text can hold such digits.
_NEEDS_FOLD_OR_ODD_DIGIT_RE = re.compile(_NEEDS_FOLD_RE.pattern[:-1] + ODD_DIGIT_RANGES + "]")
_FOLD_BY_CHAR: dict[str, str] = {chr(cp): out for cp, out in _FOLD.items()}
# Whitespace that _ANY_WS_RE knows besides the plain space (folding turns the non-ASCII ones into
# spaces, so a folded line can only hold \t, \f or \v of them).
_OTHER_WS_RE = re.compile("[" + _WS.replace(" ", "") + "]")


def _fold_char(m: re.Match[str]) -> str:
    return _FOLD_BY_CHAR[m[0]]


def fold_width(text: str) -> str:
    """Map full-width ASCII, odd spaces and zero-width characters to one canonical form."""
    if text.isascii() or _NEEDS_FOLD_RE.search(text) is None:
        return text
    # Same result as text.translate(_FOLD_TABLE), but translate() looks every character up in
    # the table (~130 ns each for non-ASCII text) where only the few full-width marks change.
    return _NEEDS_FOLD_RE.sub(_fold_char, text)


def strip_reflow_spaces(line: str) -> str:
    """Drop whitespace touching a non-ASCII character; collapse runs between ASCII words to one."""
    if "  " in line or _OTHER_WS_RE.search(line) is not None:
        line = _ANY_WS_RE.sub(" ", line)
    # Otherwise every whitespace run is a single space already and the substitution is a no-op.
    return _strip_single_spaced(line)


def _strip_single_spaced(line: str) -> str:
    """strip_reflow_spaces for a line whose whitespace runs are all single plain spaces."""
    line = line.strip(" ")
    if " " in line and not line.isascii():
        line = _CJK_WS_RE.sub("", line)
    return line


def strip_reflow_lines(text: str, lines: list[str], joined: str | None = None) -> tuple[list[str], str]:
    """([strip_reflow_spaces(line) for line in lines], those lines joined by newlines), for the
    lines of ``text`` split and folded (so none holds a newline, and no whitespace but spaces
    unless the text has \\t, \\f or \\v). ``joined``: "\\n".join(lines), when the caller has it."""
    if "\t" not in text and "\f" not in text and "\v" not in text:
        if joined is not None and not (
            joined.startswith(" ") or joined.endswith(" ") or " \n" in joined or "\n " in joined
        ):
            stripped = lines  # no line starts or ends with a space
        else:
            stripped = [line.strip(" ") for line in lines]
            joined = "\n".join(stripped)
        if "  " not in joined:
            # Every whitespace run is one space and no line starts or ends with one, so a space's
            # neighbours are in its own line: one substitution over the whole text does what one
            # per line would.
            if " " not in joined:
                return stripped, joined
            joined = _CJK_WS_RE.sub("", joined)
            return joined.split("\n"), joined
    out = [strip_reflow_spaces(line) for line in lines]
    return out, "\n".join(out)


def fold_lines(text: str, lines: list[str]) -> tuple[list[str], bool]:
    """([fold_width(line) for line in lines], ascii_digits) for the lines of ``text``.

    When the whole text needs no folding, the lines themselves (the same objects, as fold_width
    returns). ascii_digits: then also known to hold no decimal digit but 0-9 (False: unknown).
    """
    if text.isascii():
        return lines, True
    if _NEEDS_FOLD_OR_ODD_DIGIT_RE.search(text) is None:
        # No folding, no odd digit in the BMP; a character beyond it takes two UTF-16 units.
        return lines, len(text.encode("utf-16-le", "surrogatepass")) == 2 * len(text)
    return [fold_width(line) for line in lines], False


def pair_quotes(line: str) -> str:
    """Turn straight double quotes into the curly pair the surrounding text implies (“…”)."""
    if '"' not in line:
        return line
    out: list[str] = []
    open_ = False
    for ch in line:
        if ch == "\u201c":
            open_ = True
        elif ch == "\u201d":
            open_ = False
        elif ch == '"':
            ch = "\u201d" if open_ else "\u201c"
            open_ = not open_
        out.append(ch)
    # The curly quotes are non-ASCII, so spaces now touching them are reflow spaces too;
    # stripping them here keeps normalization idempotent.
    return strip_reflow_spaces("".join(out))


def normalize_line(line: str) -> str:
    """One line in comparison form: folded width, reflow spaces removed, quotes paired."""
    return pair_quotes(strip_reflow_spaces(fold_width(line)))


def split_lines(text: str) -> list[str]:
    """Split on every kind of line break."""
    # The usual case, without the regex's per-character alternation; four searches for one
    # character each are ten times faster than one search for a class of four.
    if "\r" not in text and "\u2028" not in text and "\u2029" not in text and "\x85" not in text:
        return text.split("\n")
    return _LINE_SPLIT_RE.split(text)


def split_sentences(text: str) -> list[str]:
    """Cut text into sentences on 。;!? (both widths) and line breaks, keeping the end mark."""
    if not text:
        return []
    out: list[str] = []
    for m in _SENTENCE_RE.finditer(text):
        s = m.group(0).strip()
        if s:
            out.append(s)
    return out
