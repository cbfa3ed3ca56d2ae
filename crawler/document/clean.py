"""Clean a document's text: drop page chrome and injected spam, rejoin reflowed paragraphs."""

from __future__ import annotations

import logging
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import lru_cache

from .chars import fold_lines, fold_width, pair_quotes, split_lines, strip_reflow_lines, strip_reflow_spaces
from .chrome import chrome_kind
from .departments import ROLE_LABEL
from .injected import Finding, candidate_lines, find_inline, spam_line_kind
from .labels import heading_only, is_date_line, is_doc_number_line, match_label

logger = logging.getLogger(__name__)

_REPOST_MARK_RE = re.compile(r"^(?:以下为|以下是|附)?(?:全文|原文|通知全文|文件全文)(?:如下)?[::]?$")
_REPOST_FIRST_CHARS = frozenset("以附全原通文")
_REPOST_SCAN_LINES = 40
_TERMINAL = frozenset("。!?;:…)〕】")
_PROSE_MARKS = frozenset("。,、;")
_INDENTS = frozenset(" \t\u3000\xa0")
_LONG_PARAGRAPH = 256  # longer than every length _can_join tests, with room for a label
_CONTACT_RE = re.compile(r"^(?:联系人|联系电话|电话|传真|邮箱|地址|邮编|附件|抄送|公开方式)")
# A task's labelled clause ("责任单位:…", "(牵头单位:…)") is a line of its own: it ends with no
# punctuation, and joined to the next line it would swallow a signature or the next paragraph.
_ROLE_LINE_RE = re.compile(r"^[((【\[]?" + ROLE_LABEL)


@dataclass
class Cleaned:
    """The result of cleaning: paragraphs in two forms, what was removed, and why."""

    lines: list[str] = field(default_factory=list)  # normalized paragraphs (comparison form)
    display: list[str] = field(default_factory=list)  # the same paragraphs, original characters
    injected: list[dict[str, object]] = field(default_factory=list)
    chrome: list[tuple[str, str]] = field(default_factory=list)  # (kind, normalized line)
    repost_header: list[str] = field(default_factory=list)  # a third-party site's header lines
    ascii_digits: bool = False  # every decimal digit in the lines is 0-9 (False: not known)


def _is_prose(line: str) -> bool:
    return "。" in line or line.endswith(":") or ("," in line and len(line) >= 20)


def _can_join(prev: str, cur: str) -> bool:
    """Is ``cur`` the continuation of paragraph ``prev`` (a PDF line break or a split paragraph)?"""
    if not prev or not cur:
        return False
    last = prev[-1]
    # a quote after the sentence's end closes the paragraph; “ too: a straight " there (taken
    # for a closing quote) becomes “ when a line's quotes are paired, and a second pass over
    # the normalized text must decide as the first did
    if last in _TERMINAL or (last in "”’\"“" and len(prev) > 1 and prev[-2] in "。!?"):
        return False
    label = match_label(prev)
    if label is not None and heading_only(prev, label):
        return False
    if len(prev) < 20 and not any(c in _PROSE_MARKS for c in prev):
        return False  # titles, signatures, short standalone lines
    if match_label(cur) is not None or is_date_line(cur) or is_doc_number_line(cur):
        return False
    if _CONTACT_RE.match(cur) or _CONTACT_RE.match(prev):
        return False
    if _ROLE_LINE_RE.match(cur) or _ROLE_LINE_RE.match(prev):
        return False
    if is_date_line(prev) or is_doc_number_line(prev):
        return False
    return True


def _sep(a: str, b: str) -> str:
    return " " if a and b and a[-1].isascii() and b[0].isascii() and a[-1].isalnum() and b[0].isalnum() else ""


def _repost_cut(norms: list[str]) -> int:
    """Index of the first line after a third-party header ending in 全文如下:, or 0."""
    seen = 0
    for i, line in enumerate(norms):
        if not line:
            continue
        seen += 1
        if seen > _REPOST_SCAN_LINES:
            break
        # A normalized line never starts with a space, so its first character is the one the
        # mark must start with: most lines are ruled out without building the spaceless copy.
        if line[0] in _REPOST_FIRST_CHARS and _REPOST_MARK_RE.match(line.replace(" ", "")):
            return i + 1
    return 0


@lru_cache(maxsize=4)
def clean(text: str) -> Cleaned:
    """Clean ``text`` (one paragraph or PDF line per line) into paragraphs; see :class:`Cleaned`.

    Memoized for the last few texts: a snapshot asks for the structure and the normalized text
    of the same body one after the other. Callers must treat the result as read-only.
    """
    out = Cleaned()
    if not text:
        return out
    raw_lines = split_lines(text)
    folded, out.ascii_digits = fold_lines(text, raw_lines)
    # Nothing folded and \n the only line break: the lines joined again are the text itself.
    plain = folded is raw_lines and "\r" not in text and len(raw_lines) == text.count("\n") + 1
    # Quotes are paired per paragraph, later.
    norms, norms_text = strip_reflow_lines(text, folded, text if plain else None)
    # Spam words and links are rare: find the few lines that may hold them in one pass over the
    # whole text, and skip spam_line_kind/find_inline (which return "nothing") elsewhere.
    suspects = candidate_lines(norms_text)
    start = _repost_cut(norms)
    if start:
        out.repost_header = [n for n in norms[:start] if n]
    # Pass 1: classify each line; keep (normalized, display) pairs, with None as a paragraph break.
    kept: list[tuple[str, str] | None] = []
    indented: set[int] = set()  # indexes in kept of the lines whose raw line started with an indent
    pending: list[tuple[int, Finding]] = []  # (index in kept, finding) to place in a zone later
    for line_no in range(start, len(norms)):
        norm = norms[line_no]
        if not norm:
            kept.append(None)
            continue
        # Chrome is at most 120 characters without spaces: long paragraphs skip the call.
        kind = chrome_kind(norm) if len(norm) <= 120 or len(norm) - norm.count(" ") <= 120 else None
        if kind is not None:
            out.chrome.append((kind, norm))
            continue
        suspect = line_no in suspects
        if suspect:
            spam = spam_line_kind(norm)
            if spam is not None:
                pending.append((len(kept), Finding(norm, spam)))
                kept.append(None)
                continue
        raw = raw_lines[line_no]
        disp = norm if folded[line_no] is raw else strip_reflow_spaces(raw)
        if suspect:
            new_norm, found = find_inline(norm)
        else:
            found = []
        if found:
            for f in found:
                pending.append((len(kept), f))
                disp = disp.replace(f.text, "")
            disp = strip_reflow_spaces(disp) if new_norm else ""
            if not new_norm:
                kept.append(None)
                continue
            if strip_reflow_spaces(fold_width(disp)) != new_norm:
                disp = new_norm
            norm = new_norm
            # What is left once the spam is out may be page chrome (a lone 【, 分享到 …).
            kind = chrome_kind(norm)
            if kind is not None:
                out.chrome.append((kind, norm))
                kept.append(None)
                continue
        if raw[:1] in _INDENTS:
            indented.add(len(kept))
        kept.append((norm, disp))
    # Zones for injected items: head (before the first prose line), title, body, tail.
    prose_idx = [i for i, k in enumerate(kept) if k is not None and _is_prose(k[0])]
    first_prose = prose_idx[0] if prose_idx else len(kept)
    last_prose = prose_idx[-1] if prose_idx else -1
    first_content = len(kept)
    for i, k in enumerate(kept):
        if k is not None:
            first_content = i
            break
    for idx, f in pending:
        if idx == first_content and kept[idx] is not None:
            where = "title"
        elif idx < first_prose:
            where = "head"
        elif idx > last_prose:
            where = "tail"
        else:
            where = "body"
        out.injected.append({"text": f.text, "kind": f.kind, "where": where})
    # Pass 2: join reflowed lines into paragraphs (never inside the header, before the first prose).
    full = _full_width(kept)
    lines = out.lines
    display = out.display
    # A paragraph that grows by joins is kept in pieces and put together once it is complete:
    # `lines[-1] += piece` copied the whole paragraph at every line of a hard-wrapped page. The
    # checks read `prev` instead: the paragraph while it is short, else its first 128 and last 2
    # characters, all that _can_join and _sep look at in a long paragraph.
    growing: list[str] | None = None  # pieces of lines[-1] / display[-1] while they grow
    growing_disp: list[str] = []
    prev = ""
    prev_len = 0
    disp_last = ""  # display[-1][-1:]
    last_piece = ""
    last_index = -1
    joined: set[int] = set()
    for i, item in enumerate(kept):
        if item is None:
            continue
        norm, disp = item
        join = False
        if lines and i > first_prose:
            # _can_join's first test inline: most paragraphs end a sentence.
            join = prev[-1] not in _TERMINAL and _can_join(prev, norm)
        if lines and not join and i >= first_prose and full and len(last_piece) >= full and i not in indented:
            if i > first_prose or last_index in indented:
                # A hard-wrapped PDF: a full line continues on the next unindented line, even after 。
                join = _can_continue(norm)
        if join:
            if growing is None:
                growing = [lines[-1]]
                growing_disp = [display[-1]]
            piece = _sep(prev, norm) + norm
            growing.append(piece)
            if prev_len + len(piece) <= _LONG_PARAGRAPH:
                prev += piece
            elif prev_len <= _LONG_PARAGRAPH:
                prev = (prev + piece)[:128] + (prev + piece)[-2:]
            else:
                prev = prev[:128] + (prev[-2:] + piece)[-2:]
            prev_len += len(piece)
            disp_piece = _sep(disp_last, disp) + disp
            growing_disp.append(disp_piece)
            disp_last = disp_piece[-1:] or disp_last
            joined.add(len(lines) - 1)
        else:
            if growing is not None:
                lines[-1] = "".join(growing)
                display[-1] = "".join(growing_disp)
                growing = None
            lines.append(norm)
            display.append(disp)
            prev = norm
            prev_len = len(norm)
            disp_last = disp[-1:]
        last_piece = norm
        last_index = i
    if growing is not None:
        lines[-1] = "".join(growing)
        display[-1] = "".join(growing_disp)
    # Joining lines can form what no single line was (a link split over two lines): check again.
    for index in sorted(joined, reverse=True) if joined else ():
        rest, found = find_inline(lines[index])
        if found:
            out.injected.extend({"text": f.text, "kind": f.kind, "where": "body"} for f in found)
            for f in found:
                display[index] = display[index].replace(f.text, "")
        if found or chrome_kind(rest) is not None:
            if rest and chrome_kind(rest) is None:
                lines[index] = rest
            else:
                del lines[index]
                del display[index]
    # A straight double quote comes from the text itself or from a folded ＂.
    if '"' in text or "\uff02" in text:
        out.lines = [pair_quotes(line) for line in lines]
    return out


def _can_continue(cur: str) -> bool:
    return not (
        match_label(cur) is not None
        or is_date_line(cur)
        or is_doc_number_line(cur)
        or _CONTACT_RE.match(cur)
    )


def _full_width(kept: list[tuple[str, str] | None]) -> int:
    """The length of a full line when the text is hard-wrapped (most lines equally long), else 0."""
    if len(kept) < 8:
        return 0  # fewer than 8 lines
    lengths = sorted([len(k[0]) for k in kept if k is not None])
    if len(lengths) < 8:
        return 0
    p90 = lengths[int(0.9 * (len(lengths) - 1))]
    if p90 < 15:
        return 0
    threshold = max(1, int(p90 * 0.85))
    # How many lengths lie in [threshold, p90 * 1.1], by bisection of the sorted list.
    near = bisect_right(lengths, p90 * 1.1) - bisect_left(lengths, threshold)
    return threshold if near * 10 >= len(lengths) * 4 else 0


def clean_text(text: str) -> tuple[str, list[dict[str, object]]]:
    """Remove page chrome and injected content: (clean text, one paragraph a line; injected items)."""
    c = clean(text)
    return "\n".join(c.display), [dict(i) for i in c.injected]
