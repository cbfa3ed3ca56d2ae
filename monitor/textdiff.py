"""Text diffs that suit Chinese: sentence alignment first, then character (or jieba word) highlights.

A Chinese paragraph has no spaces, so a line or word diff marks the whole paragraph. Here a text
is cut into sentences (on 。;!? and on line breaks), sentences are aligned on a comparison key
that ignores whitespace, PDF reflow and full-/half-width punctuation, and a changed pair of
sentences is highlighted character by character (tiny equal runs between two changes merged, so
that 提升→推进 reads as one replacement and not as four fragments).

All functions are pure; nothing here imports crawler or storage.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

# --------------------------------------------------------------------------------------------
# Comparison keys
# --------------------------------------------------------------------------------------------

_PUNCT_FOLD = str.maketrans(
    {
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u300c": '"', "\u300d": '"',
        "\u2018": "'", "\u2019": "'", "\u300e": '"', "\u300f": '"',
        "\u2014": "-", "\u2013": "-", "\u2015": "-", "\u2012": "-", "\u2010": "-", "\u2212": "-",
        "\uff0d": "-",
        "\u3014": "(", "\u3015": ")",  # 〔〕 (clause brackets in city documents) ~ ()
        "\ufe5d": "(", "\ufe5e": ")",
        "\u00b7": "\u00b7", "\u30fb": "\u00b7",
        "\uff61": "\u3002",  # halfwidth ideographic full stop
    }
)
_WS_RE = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def compare_key(text: str) -> str:
    """The form two texts are compared in: NFKC (full-width ASCII → half-width), quotes and dashes
    folded, every whitespace removed (PDF reflow puts spaces inside Chinese words)."""
    if not text:
        return ""
    return _WS_RE.sub("", unicodedata.normalize("NFKC", text).translate(_PUNCT_FOLD))


@lru_cache(maxsize=4096)
def _char_key(ch: str) -> str:
    k = unicodedata.normalize("NFKC", ch).translate(_PUNCT_FOLD)
    return k if len(k) == 1 else ch


def char_keys(text: str) -> str:
    """A string as long as ``text`` whose i-th character is the comparison form of text[i]."""
    if text.isascii():
        return text
    return "".join(map(_char_key, text))


# Whitespace next to a non-ASCII character is PDF reflow (spaces inside Chinese words); whitespace
# between two ASCII words is real ("TCL 模组" keeps nothing, "5G core network" keeps its spaces).
_CJK_WS_RE = re.compile(r"(?<=[^\x00-\x7f])[ \t\u3000\xa0]+|[ \t\u3000\xa0]+(?=[^\x00-\x7f])")
_INNER_WS_RE = re.compile(r"[ \t\u3000\xa0]+")


def clean_display(text: str) -> str:
    """Text for showing to people: reflow spaces around Chinese removed, line breaks joined."""
    if not text:
        return ""
    text = _WS_RE.sub(" ", text.replace("\r", ""))
    text = _CJK_WS_RE.sub("", text)
    return text.strip()


def clean_display_lines(text: str) -> list[str]:
    out = []
    for line in (text or "").splitlines():
        line = _CJK_WS_RE.sub("", line)
        line = _INNER_WS_RE.sub(" ", line).strip()
        if line:
            out.append(line)
    return out


# --------------------------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------------------------

_SENT_END = "。;!?；！？"
_SENT_RE = re.compile(r"[^。;!?；！？]+[。;!?；！？]*[”’\"')）」』]*|[。;!?；！？]+")


HEADING_RE = re.compile(
    r"^(?:[一二三四五六七八九十百零〇]+、|[(（][一二三四五六七八九十百零〇]+[)）]|\d{1,3}[.．、](?!\d)|[(（]\d{1,3}[)）]|[①-⑳⑴-⒇])"
)
_LINE_END_OK = tuple("。;!?；！？:：")
_OPENERS = "《(（“「『〔【"
_CLOSERS = "》)）”」』〕】"


def logical_lines(text: str) -> list[str]:
    """Lines of a text with PDF wrapping undone: a line that stops in the middle of a sentence
    (it already holds a sentence stop, is long, or leaves a bracket open) is joined with the next
    one, unless the next one starts with a heading label. Display-cleaned."""
    lines = clean_display_lines(text)
    out: list[str] = []
    buf = ""
    for line in lines:
        if buf:
            if HEADING_RE.match(line) or not _is_wrapped(buf):
                out.append(buf)
                buf = line
            else:
                buf = buf + ("" if not (buf[-1].isascii() and line[0].isascii()) else " ") + line
        else:
            buf = line
    if buf:
        out.append(buf)
    return out


def _is_wrapped(line: str) -> bool:
    stripped = line.rstrip("”’\"')）」』】")
    if stripped.endswith(_LINE_END_OK):
        return False
    if any(ch in line for ch in _SENT_END):
        return True
    if len(line) > 60:
        return True
    return sum(line.count(c) for c in _OPENERS) > sum(line.count(c) for c in _CLOSERS)


def split_sentences(text: str) -> list[str]:
    """Sentences of a text for alignment: PDF-wrapped lines joined (logical_lines), then cut after
    。;!? (a closing quote or bracket right after the stop stays with it); headings and other
    lines without a stop are sentences of their own; whitespace around Chinese removed.

    Reflow that survives this (a short wrapped line) yields fragments; align_sentences treats a
    block whose joined keys are equal as unchanged.
    """
    out: list[str] = []
    for line in logical_lines(text):
        for m in _SENT_RE.finditer(line):
            s = m.group().strip()
            if s:
                out.append(s)
    return out


def split_paragraph_sentences(text: str) -> list[str]:
    """Like split_sentences but line breaks are joined first (one task, one paragraph)."""
    out: list[str] = []
    for m in _SENT_RE.finditer(clean_display(text)):
        s = m.group().strip()
        if s:
            out.append(s)
    return out


# --------------------------------------------------------------------------------------------
# Sentence alignment
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One aligned block: tag is 'equal', 'replace', 'delete' or 'insert'; ranges in sentence lists."""

    tag: str
    i1: int
    i2: int
    j1: int
    j2: int


def align_sentences(old: Sequence[str], new: Sequence[str]) -> list[Block]:
    """Align two sentence lists on their comparison keys.

    A non-equal block whose joined keys are equal (a sentence split differently by reflow) is
    reported as equal. Adjacent equal blocks are merged.
    """
    ka = [compare_key(s) for s in old]
    kb = [compare_key(s) for s in new]
    if ka == kb:
        return [Block("equal", 0, len(ka), 0, len(kb))] if ka else []
    sm = SequenceMatcher(None, ka, kb, autojunk=False)
    blocks: list[Block] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        parts = [(tag, i1, i2, j1, j2)] if tag == "equal" else _peel(ka, kb, i1, i2, j1, j2)
        for ptag, p1, p2, q1, q2 in parts:
            if blocks and blocks[-1].tag == ptag == "equal":
                prev = blocks.pop()
                blocks.append(Block("equal", prev.i1, p2, prev.j1, q2))
            else:
                blocks.append(Block(ptag, p1, p2, q1, q2))
    return blocks


def _peel(ka: list[str], kb: list[str], i1: int, i2: int, j1: int, j2: int, reach: int = 4) -> list[tuple]:
    """Split a non-equal block into (equal head, changed core, equal tail) where the head or tail
    is the same text cut into a different number of sentences (PDF reflow)."""
    if "".join(ka[i1:i2]) == "".join(kb[j1:j2]):
        return [("equal", i1, i2, j1, j2)]
    head: tuple | None = None
    tail: tuple | None = None
    if i1 < i2 and j1 < j2:
        # tail: a few sentences at the end of both sides with the same joined text
        for k in range(1, min(reach, i2 - i1) + 1):
            ta = "".join(ka[i2 - k : i2])
            for m in range(1, min(reach, j2 - j1) + 1):
                if "".join(kb[j2 - m : j2]) == ta and (k, m) != (1, 1):
                    tail = ("equal", i2 - k, i2, j2 - m, j2)
                    break
            if tail:
                break
        if tail:
            i2, j2 = tail[1], tail[3]
        for k in range(1, min(reach, i2 - i1) + 1):
            ha = "".join(ka[i1 : i1 + k])
            for m in range(1, min(reach, j2 - j1) + 1):
                if "".join(kb[j1 : j1 + m]) == ha and (k, m) != (1, 1):
                    head = ("equal", i1, i1 + k, j1, j1 + m)
                    break
            if head:
                break
        if head:
            i1, j1 = head[2], head[4]
    if i1 == i2 and j1 == j2:
        core = []
    elif i1 == i2:
        core = [("insert", i1, i2, j1, j2)]
    elif j1 == j2:
        core = [("delete", i1, i2, j1, j2)]
    else:
        core = [("replace", i1, i2, j1, j2)]
    return [p for p in (head, *core, tail) if p]


def changed_passages(old: Sequence[str], new: Sequence[str]) -> list[tuple[list[str], list[str], Block]]:
    """The non-equal blocks of align_sentences as (old sentences, new sentences, block)."""
    return [
        (list(old[b.i1 : b.i2]), list(new[b.j1 : b.j2]), b)
        for b in align_sentences(old, new)
        if b.tag != "equal"
    ]


# --------------------------------------------------------------------------------------------
# Inline (character / word) highlights
# --------------------------------------------------------------------------------------------

Segment = tuple[str, str]  # (kind, text); kind: "equal" | "del" | "ins"


def _merge_small_equals(ops: list[list], min_equal: int, a_len_of) -> list[list]:
    """Fold an equal run shorter than min_equal that sits between two changes into the change."""
    if min_equal <= 0 or len(ops) < 3:
        return ops
    out: list[list] = []
    for idx, op in enumerate(ops):
        tag, i1, i2, j1, j2 = op
        if (
            tag == "equal"
            and 0 < idx < len(ops) - 1
            and a_len_of(i1, i2) < min_equal
            and out
            and out[-1][0] != "equal"
            and ops[idx + 1][0] != "equal"
        ):
            prev = out[-1]
            out[-1] = ["replace", prev[1], i2, prev[3], j2]
            continue
        if out and tag != "equal" and out[-1][0] != "equal":
            prev = out[-1]
            out[-1] = ["replace", prev[1], i2, prev[3], j2]
            continue
        out.append([tag, i1, i2, j1, j2])
    for op in out:
        if op[0] == "replace":
            if op[1] == op[2]:
                op[0] = "insert"
            elif op[3] == op[4]:
                op[0] = "delete"
    return out


_jieba = None


def _tokens(text: str) -> list[str]:
    global _jieba
    if _jieba is None:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        _jieba = jieba
    return _jieba.lcut(text, HMM=False)


def inline_diff(
    old: str, new: str, *, granularity: str = "char", min_equal: int = 2
) -> tuple[list[Segment], list[Segment]]:
    """Highlight the difference between two (short) texts.

    Returns (old segments, new segments): old segments are "equal"/"del", new ones "equal"/"ins".
    granularity "char" (default) compares characters, with equal runs shorter than ``min_equal``
    between two changes folded into the change; "word" compares jieba tokens. Characters equal
    after width folding (，/,) count as equal.
    """
    if granularity == "word":
        ta, tb = _tokens(old), _tokens(new)
        ka = [compare_key(t) or t for t in ta]
        kb = [compare_key(t) or t for t in tb]
        sm = SequenceMatcher(None, ka, kb, autojunk=False)

        def piece_a(i1: int, i2: int) -> str:
            return "".join(ta[i1:i2])

        def piece_b(j1: int, j2: int) -> str:
            return "".join(tb[j1:j2])

        ops = [list(o) for o in sm.get_opcodes()]
        ops = _merge_small_equals(ops, min_equal, lambda i1, i2: len("".join(ka[i1:i2])))
    else:
        ka_s, kb_s = char_keys(old), char_keys(new)
        sm = SequenceMatcher(None, ka_s, kb_s, autojunk=False)

        def piece_a(i1: int, i2: int) -> str:
            return old[i1:i2]

        def piece_b(j1: int, j2: int) -> str:
            return new[j1:j2]

        ops = [list(o) for o in sm.get_opcodes()]
        ops = _merge_small_equals(ops, min_equal, lambda i1, i2: i2 - i1)

    left: list[Segment] = []
    right: list[Segment] = []

    def push(seq: list[Segment], kind: str, text: str) -> None:
        if not text:
            return
        if seq and seq[-1][0] == kind:
            seq[-1] = (kind, seq[-1][1] + text)
        else:
            seq.append((kind, text))

    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            push(left, "equal", piece_a(i1, i2))
            push(right, "equal", piece_b(j1, j2))
        else:
            push(left, "del", piece_a(i1, i2))
            push(right, "ins", piece_b(j1, j2))
    return left, right


# --------------------------------------------------------------------------------------------
# Excerpts
# --------------------------------------------------------------------------------------------


def excerpt_pair(before: str | None, after: str | None, limit: int = 300) -> tuple[str | None, str | None]:
    """Cut before/after to at most ``limit`` characters each, keeping the window around the change
    (common prefix and suffix trimmed to some context, marked with …)."""
    if before is None or after is None:
        return (_cut(before, limit), _cut(after, limit))
    if len(before) <= limit and len(after) <= limit:
        return before, after
    # common prefix / suffix
    p = 0
    n = min(len(before), len(after))
    while p < n and before[p] == after[p]:
        p += 1
    s = 0
    while s < n - p and before[-1 - s] == after[-1 - s]:
        s += 1
    return _window(before, p, len(before) - s, limit), _window(after, p, len(after) - s, limit)


def _cut(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def _window(text: str, c1: int, c2: int, limit: int) -> str:
    """A window of ``text`` of at most ``limit`` characters that covers [c1, c2) as far as it fits."""
    if len(text) <= limit:
        return text
    budget = limit - 2  # room for the two ellipses
    changed = c2 - c1
    if changed >= budget:
        start, end = c1, c1 + budget
    else:
        ctx = (budget - changed) // 2
        start = max(0, c1 - ctx)
        end = min(len(text), c2 + ctx)
        # give unused context on one side to the other side
        if start == 0:
            end = min(len(text), budget)
        elif end == len(text):
            start = max(0, len(text) - budget)
    out = text[start:end]
    if start > 0:
        out = "…" + out
    if end < len(text):
        out = out + "…"
    return out


# --------------------------------------------------------------------------------------------
# Unified diff (for scripts and mail clients) and its counts
# --------------------------------------------------------------------------------------------


def _group(blocks: list[Block], n: int) -> list[list[Block]]:
    """difflib.SequenceMatcher.get_grouped_opcodes over our (reflow-aware) blocks."""
    codes = [(b.tag, b.i1, b.i2, b.j1, b.j2) for b in blocks]
    if not codes or all(c[0] == "equal" for c in codes):
        return []
    if codes[0][0] == "equal":
        tag, i1, i2, j1, j2 = codes[0]
        codes[0] = (tag, max(i1, i2 - n), i2, max(j1, j2 - n), j2)
    if codes[-1][0] == "equal":
        tag, i1, i2, j1, j2 = codes[-1]
        codes[-1] = (tag, i1, min(i2, i1 + n), j1, min(j2, j1 + n))
    nn = n + n
    group: list[tuple] = []
    groups: list[list[Block]] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > nn:
            group.append((tag, i1, min(i2, i1 + n), j1, min(j2, j1 + n)))
            groups.append([Block(*c) for c in group])
            group = []
            i1, j1 = max(i1, i2 - n), max(j1, j2 - n)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append([Block(*c) for c in group])
    return groups


def _range(start: int, stop: int) -> str:
    beginning = start + 1
    length = stop - start
    if length == 1:
        return f"{beginning}"
    if not length:
        beginning -= 1
    return f"{beginning},{length}"


def unified_diff(old_text: str, new_text: str, from_label: str = "old", to_label: str = "new", n: int = 2) -> str:
    """A unified diff with one sentence per line (a Chinese paragraph is not one giant line).

    Whitespace, reflow and punctuation width are not differences. Returns "" when nothing changed.
    Every line ends with a newline, so the result parses with ``unidiff.PatchSet``.
    """
    a = split_sentences(old_text)
    b = split_sentences(new_text)
    blocks = align_sentences(a, b)
    if any(blk.tag == "equal" and blk.i2 - blk.i1 != blk.j2 - blk.j1 for blk in blocks):
        # A reflowed run (same text, cut into a different number of lines): show the new cut on
        # both sides so that the hunk line counts stay consistent.
        a2: list[str] = []
        remapped: list[Block] = []
        for blk in blocks:
            start = len(a2)
            a2.extend(b[blk.j1 : blk.j2] if blk.tag == "equal" else a[blk.i1 : blk.i2])
            remapped.append(Block(blk.tag, start, len(a2), blk.j1, blk.j2))
        a, blocks = a2, remapped
    groups = _group(blocks, n)
    if not groups:
        return ""
    out = [f"--- {from_label}\n", f"+++ {to_label}\n"]
    for group in groups:
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first.i1, last.i2)} +{_range(first.j1, last.j2)} @@\n")
        for blk in group:
            if blk.tag == "equal":
                out.extend(f" {line}\n" for line in a[blk.i1 : blk.i2])
                continue
            out.extend(f"-{line}\n" for line in a[blk.i1 : blk.i2])
            out.extend(f"+{line}\n" for line in b[blk.j1 : blk.j2])
    return "".join(out)


def diff_stats(unified: str) -> dict[str, int]:
    """Added and removed line counts of a unified diff, read back with ``unidiff``."""
    if not unified.strip():
        return {"added": 0, "removed": 0}
    from unidiff import PatchSet

    patch = PatchSet(unified)
    return {"added": sum(f.added for f in patch), "removed": sum(f.removed for f in patch)}
