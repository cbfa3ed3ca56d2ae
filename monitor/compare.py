"""The compare engine: two VersionViews in, a list of EventDrafts out. Pure (no SQL, no Scrapy).

Order of work (docs/architecture.md, "Diffs for Chinese text"):

1. tasks: aligned by content similarity and label (an optimal alignment, so a task inserted in the
   middle is one ``task_added`` and not a cascade of changes); for each matched pair whose
   normalized text differs: departments by role (through the alias table), quantitative
   targets, then the remaining sentence changes;
2. the text outside tasks, sentence by sentence (section noted), noise lines dropped;
3. metadata, attachments, injected spam.

Texts are compared in their ``compare_key`` form (no whitespace, punctuation width folded), so
reflow, spaces inside Chinese words and ,/, never make an event.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from monitor.events import (
    ATTACHMENT_CHANGED,
    CONTENT_INJECTED,
    METADATA_CHANGED,
    RESPONSIBILITY_CHANGED,
    TARGET_CHANGED,
    TASK_ADDED,
    TASK_REMOVED,
    TASK_REWORDED,
    WORDING_CHANGED,
    EventDraft,
    VersionView,
)
from monitor.textdiff import (
    HEADING_RE,
    changed_passages,
    clean_display,
    compare_key,
    excerpt_pair,
    split_paragraph_sentences,
    split_sentences,
)

EXCERPT_LIMIT = 300
MATCH_THRESHOLD = 0.4  # distinct tasks of one document score ≤ 0.27 (seed 001), a reworded one ≥ 0.6

ROLES = ("lead", "responsible", "implementing")
ROLE_NAMES = {"lead": "牵头", "responsible": "负责", "implementing": "落实"}
META_FIELDS = ("title", "doc_number", "issuer", "signed_on", "published", "validity")
META_NAMES = {
    "title": "标题",
    "doc_number": "文号",
    "issuer": "发布机构",
    "signed_on": "成文日期",
    "published": "发布日期",
    "validity": "有效性",
}
INJECTED_KIND_NAMES = {"gambling": "赌博", "porn": "色情", "seo": "SEO", "link": "外链", "brand": "品牌替换"}

Canonical = Callable[[str], str]


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def compare_versions(
    old: VersionView, new: VersionView, *, canonical_department: Canonical | None = None
) -> list[EventDraft]:
    """Events between two versions of the same page (oldest first is ``old``)."""
    canon = canonical_department or _default_canonical()
    old, new = same_reading(old, new)
    events: list[EventDraft] = []
    if compare_key(old.normalized_text) != compare_key(new.normalized_text):
        old_tasks, new_tasks = _tasks(old), _tasks(new)
        events += compare_tasks(old_tasks, new_tasks, canon)
        events += compare_outside_text(old, new, old_tasks=old_tasks, new_tasks=new_tasks)
    events += compare_metadata(old, new, canon)
    events += compare_attachments(old.attachments, new.attachments)
    events += compare_injected(old.structure, new.structure)
    return events


def compare_editions(
    old: VersionView, new: VersionView, *, canonical_department: Canonical | None = None
) -> list[EventDraft]:
    """Events between two editions of a series (e.g. the 2023 and 2024 工作要点): tasks and
    metadata only. The caller emits ``new_edition`` itself.

    Metadata that differs between any two editions by nature (document number, dates, the year
    in the title) is not reported; title (year removed), issuer and validity are.
    """
    canon = canonical_department or _default_canonical()
    old, new = same_reading(old, new)
    years = (_edition_year(old), _edition_year(new))
    year_sub = years if years[0] and years[1] and years[0] != years[1] else None
    events = compare_tasks(_tasks(old, year_sub=year_sub), _tasks(new), canon)
    events += compare_metadata(old, new, canon, edition=True)
    return events


def _edition_year(view: VersionView) -> str | None:
    meta = (view.structure or {}).get("metadata") or {}
    if meta.get("year"):
        return str(meta["year"])
    m = re.search(r"((?:19|20)\d{2})\s*年", compare_key(view.title or str(meta.get("title") or "")))
    return m.group(1) if m else None


def _identity(name: str) -> str:
    return name


def same_reading(old: VersionView, new: VersionView) -> tuple[VersionView, VersionView]:
    """The two versions as the current parser reads them: when either was understood by an
    earlier parser (``parser`` in its structure, 1 when absent), the outline and tasks of both are read again
    from their stored normalized texts (the same tasks as from the pages themselves: checked on
    every test document), so that what a parser upgrade changes is never reported as a change of
    the document. Metadata, attachments and injected text are kept as stored."""
    try:
        from crawler.document.understand import PARSER_VERSION, understand
    except ImportError:  # FALLBACK (crawler.document not importable): compare as stored
        return old, new
    if not any(_earlier_reading(v, PARSER_VERSION) for v in (old, new)):
        return old, new

    def again(view: VersionView) -> VersionView:
        read = understand(view.normalized_text, title=view.title)
        return replace(view, structure={**(view.structure or {}), "outline": read["outline"],
                                        "tasks": read["tasks"], "parser": PARSER_VERSION})

    return again(old), again(new)


def _earlier_reading(view: VersionView, current: int) -> bool:
    """Made by understand() (it has a "schema"), by a parser before ``current``; a structure
    built another way (by hand, by a caller's own parser) is compared as it is."""
    structure = view.structure or {}
    return "schema" in structure and structure.get("parser", 1) != current


def _default_canonical() -> Canonical:
    try:
        from crawler.document import canonical_department
    except ImportError:
        # FALLBACK (crawler.document not importable): identity, so a department renamed between
        # versions is reported as a responsibility change. Pass canonical_department= to override.
        return _identity
    return canonical_department


# --------------------------------------------------------------------------------------------
# Task alignment
# --------------------------------------------------------------------------------------------


@dataclass
class _Task:
    raw: dict[str, Any]
    label: str
    title: str
    display: str  # whole text, reflow spaces removed
    key: str  # compare_key of the whole text
    body: str  # display text without the responsibility clause
    cmp_body: str  # the body as compared (editions: the old year replaced by the new one)
    clause: str
    grams: frozenset[str]
    title_key: str

    @property
    def heading(self) -> str:
        return f"{self.label} {self.title}".strip()

    @property
    def noun(self) -> str:
        """What the summary calls it: a regulation's article (第七条) is a 条款, not a 任务."""
        return "条款" if _ARTICLE_RE.match(self.label) else "任务"


_ARTICLE_RE = re.compile(r"^第[零〇一二三四五六七八九十百两\d]+条$")
_CLAUSE_TAIL_RE = re.compile(r"[(（〔]([^()（）〔〕]*(?:[(（][^()（）]*[)）][^()（）〔〕]*)*)[)）〕]\s*[。.]?\s*$")
_ROLE_WORDS_RE = re.compile(r"牵头|负责|落实|配合|参与|下同")


def _tasks(view: VersionView, *, year_sub: tuple[str, str] | None = None) -> list[_Task]:
    return [_make_task(t, year_sub) for t in (view.structure or {}).get("tasks") or []]


def _make_task(t: dict[str, Any], year_sub: tuple[str, str] | None = None) -> _Task:
    label = clean_display(str(t.get("label") or ""))
    title = clean_display(str(t.get("title") or ""))
    display = clean_display(str(t.get("text") or ""))
    clause = clean_display(str(t.get("clause") or ""))
    body = display
    m = _CLAUSE_TAIL_RE.search(display)
    if m and (
        (clause and compare_key(m.group(1)) == compare_key(clause)) or _ROLE_WORDS_RE.search(m.group(1))
    ):
        body = display[: m.start()].rstrip()
        if not clause:
            clause = m.group(1)
    elif clause:
        # the clause somewhere else (e.g. the extractor stored it without brackets at the end)
        idx = display.rfind(clause)
        if idx >= 0:
            body = (display[:idx] + display[idx + len(clause) :]).strip()
    # the label is not part of the content: a task renumbered by an insertion above is unchanged
    lm = HEADING_RE.match(body)
    if lm and (not label or compare_key(lm.group()) == compare_key(label)):
        body = body[lm.end() :].lstrip()
    key = compare_key(_strip_label(display, label))
    cmp_body = body
    if year_sub:
        # an edition mentions its own year ("2023年底前" → "2024年底前"): not a change
        year_re = re.compile(rf"(?<!\d){year_sub[0]}(?!\d)")
        key = year_re.sub(year_sub[1], key)
        cmp_body = year_re.sub(year_sub[1], body)
    body_key = compare_key(cmp_body) or key
    grams = frozenset(body_key[i : i + 2] for i in range(len(body_key) - 1))
    return _Task(t, label, title, display, key, body, cmp_body, clause, grams, compare_key(title))


def _strip_label(text: str, label: str) -> str:
    m = HEADING_RE.match(text)
    if m and (not label or compare_key(m.group()) == compare_key(label)):
        return text[m.end() :]
    return text


def _similarity(a: _Task, b: _Task) -> float:
    if a.key == b.key:
        return 2.0
    if a.grams and b.grams:
        s = 2.0 * len(a.grams & b.grams) / (len(a.grams) + len(b.grams))
    else:
        s = 0.0
    if a.title_key and a.title_key == b.title_key:
        s = max(s, 0.5 + 0.5 * s)
    if a.label and a.label == b.label:
        s += 0.05
    return s


def align_tasks(old: Sequence[_Task], new: Sequence[_Task]) -> list[tuple[int | None, int | None]]:
    """An optimal alignment of two task lists: identical texts anchor (longest common
    subsequence); the stretches between anchors are aligned by a dynamic programme that maximises
    the summed similarity (character-bigram Dice on the text without its clause, boosted by an
    equal title, a little by an equal label); pairs under MATCH_THRESHOLD are not matched. An
    unmatched task whose text reappears unchanged elsewhere counts as moved (matched).

    Returns (old index | None, new index | None) in document order.
    """
    from difflib import SequenceMatcher

    ka = [t.key for t in old]
    kb = [t.key for t in new]
    pairs: list[tuple[int | None, int | None]] = []
    if ka == kb:
        return [(i, i) for i in range(len(ka))]
    sm = SequenceMatcher(None, ka, kb, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            pairs.extend((i1 + k, j1 + k) for k in range(i2 - i1))
        else:
            pairs.extend(_dp_align(old, new, i1, i2, j1, j2))
    # moved, unchanged tasks
    lone_old = {ka[i]: idx for idx, (i, j) in enumerate(pairs) if j is None and i is not None}
    if lone_old:
        for idx, (i, j) in enumerate(pairs):
            if i is None and j is not None and kb[j] in lone_old:
                oidx = lone_old.pop(kb[j])
                pairs[idx] = (pairs[oidx][0], j)
                pairs[oidx] = (None, None)
        pairs = [p for p in pairs if p != (None, None)]
    return pairs


def _dp_align(
    old: Sequence[_Task], new: Sequence[_Task], i1: int, i2: int, j1: int, j2: int
) -> list[tuple[int | None, int | None]]:
    n, m = i2 - i1, j2 - j1
    if n == 0:
        return [(None, j1 + j) for j in range(m)]
    if m == 0:
        return [(i1 + i, None) for i in range(n)]
    score = [[_similarity(old[i1 + i], new[j1 + j]) for j in range(m)] for i in range(n)]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    move = [[0] * (m + 1) for _ in range(n + 1)]  # 0 diag, 1 up (old unmatched), 2 left (new unmatched)
    for i in range(1, n + 1):
        best[i][0], move[i][0] = 0.0, 1
    for j in range(1, m + 1):
        best[0][j], move[0][j] = 0.0, 2
    for i in range(1, n + 1):
        row, prev, srow, mrow = best[i], best[i - 1], score[i - 1], move[i]
        for j in range(1, m + 1):
            v, mv = prev[j], 1
            if row[j - 1] > v:
                v, mv = row[j - 1], 2
            s = srow[j - 1]
            if s >= MATCH_THRESHOLD and prev[j - 1] + s > v:
                v, mv = prev[j - 1] + s, 0
            row[j], mrow[j] = v, mv
    out: list[tuple[int | None, int | None]] = []
    i, j = n, m
    while i > 0 or j > 0:
        mv = move[i][j] if i > 0 and j > 0 else (1 if i > 0 else 2)
        if mv == 0:
            out.append((i1 + i - 1, j1 + j - 1))
            i, j = i - 1, j - 1
        elif mv == 1:
            out.append((i1 + i - 1, None))
            i -= 1
        else:
            out.append((None, j1 + j - 1))
            j -= 1
    out.reverse()
    # within a replaced stretch, list removals before additions at the same place
    return out


# --------------------------------------------------------------------------------------------
# Task events
# --------------------------------------------------------------------------------------------


def compare_tasks(old: Sequence[_Task], new: Sequence[_Task], canon: Canonical = _identity) -> list[EventDraft]:
    events: list[EventDraft] = []
    for i, j in align_tasks(old, new):
        if i is None and j is not None:
            t = new[j]
            events.append(
                EventDraft(
                    TASK_ADDED, t.label, t.title, None, _cut(t.display),
                    f"新增{t.noun} {t.heading}", {"new_ordinal": t.raw.get("ordinal"), "section": t.raw.get("section")},
                )
            )
        elif j is None and i is not None:
            t = old[i]
            events.append(
                EventDraft(
                    TASK_REMOVED, t.label, t.title, _cut(t.display), None,
                    f"删除{t.noun} {t.heading}", {"old_ordinal": t.raw.get("ordinal"), "section": t.raw.get("section")},
                )
            )
        elif i is not None and j is not None:
            events += compare_task_pair(old[i], new[j], canon)
    return events


def compare_task_pair(a: _Task, b: _Task, canon: Canonical = _identity) -> list[EventDraft]:
    """Events for one matched pair of tasks (nothing when their normalized texts are equal)."""
    if a.key == b.key:
        return []
    base = {"old_label": a.label, "new_label": b.label}
    events: list[EventDraft] = []

    # 1. departments by role, through the alias table
    role_changes: dict[str, dict[str, list[str]]] = {}
    have_roles = any(a.raw.get(r) or b.raw.get(r) for r in ROLES)
    for role in ROLES:
        before = _canon_list(a.raw.get(role), canon)
        after = _canon_list(b.raw.get(role), canon)
        added = [d for d in after if d not in before]
        removed = [d for d in before if d not in after]
        if added or removed:
            role_changes[role] = {"added": added, "removed": removed}
    if not have_roles and compare_key(a.clause) != compare_key(b.clause):
        role_changes["clause"] = {"added": [], "removed": []}  # no parsed departments: clause text changed
    if role_changes:
        parts = []
        for role, ch in role_changes.items():
            if role == "clause":
                parts.append("责任分工表述变化")
                continue
            bits = [f"+{d}" for d in ch["added"]] + [f"-{d}" for d in ch["removed"]]
            parts.append(f"{ROLE_NAMES[role]} {'、'.join(bits)}")
        events.append(
            EventDraft(
                RESPONSIBILITY_CHANGED, b.label, b.title,
                _cut(a.clause or _clause_from_roles(a.raw)), _cut(b.clause or _clause_from_roles(b.raw)),
                f"{b.noun} {b.heading} 责任单位变化:{';'.join(parts)}",
                {**base, "roles": role_changes},
            )
        )

    # 2. quantitative targets (from the structure)
    target_pairs = _dedupe_target_pairs(_pair_targets(a.raw.get("targets") or [], b.raw.get("targets") or []))
    for ta, tb in target_pairs:
        events.append(_target_event(a, b, _target_text(ta), _target_text(tb), base, ta, tb))

    # 3. the remaining sentence changes of the text without its clause
    sa, sb = split_paragraph_sentences(a.body), split_paragraph_sentences(b.body)
    sa_cmp = split_paragraph_sentences(a.cmp_body) if a.cmp_body != a.body else sa
    if len(sa_cmp) != len(sa):
        sa_cmp = sa
    passages = []
    for _olds, news, blk in changed_passages(sa_cmp, sb):
        before, after = "".join(sa[blk.i1 : blk.i2]), "".join(news)
        if _mask_numbers(before) == _mask_numbers(after) and before and after:
            if target_pairs:
                continue  # explained by the target events above
            changes = _number_changes(before, after)
            if changes:
                for nb, na in changes:
                    events.append(_target_event(a, b, nb, na, base, None, None, context=(before, after)))
                continue
        passages.append((before, after))
    if passages:
        before = " … ".join(p[0] for p in passages if p[0]) or None
        after = " … ".join(p[1] for p in passages if p[1]) or None
        before, after = excerpt_pair(before, after, EXCERPT_LIMIT)
        events.append(
            EventDraft(
                TASK_REWORDED, b.label, b.title, before, after,
                f"{b.noun} {b.heading} 表述修改",
                {**base, "passages": [{"before": p[0] or None, "after": p[1] or None} for p in passages]},
            )
        )
    return events


def _canon_list(names: Iterable[str] | None, canon: Canonical) -> list[str]:
    out: list[str] = []
    for name in names or []:
        c = compare_key(canon(clean_display(str(name))))
        if c and c not in out:
            out.append(c)
    return out


def _clause_from_roles(raw: dict[str, Any]) -> str | None:
    parts = []
    if raw.get("lead"):
        parts.append("、".join(raw["lead"]) + "牵头")
    if raw.get("responsible"):
        parts.append("、".join(raw["responsible"]) + "按职责分工负责")
    if raw.get("implementing"):
        parts.append("、".join(raw["implementing"]) + "落实")
    return ",".join(parts) or None


def _target_text(t: dict[str, Any]) -> str:
    text = clean_display(str(t.get("text") or ""))
    if text:
        return text
    return f"{t.get('number') or t.get('value') or ''}{t.get('unit') or ''}"


def _target_key(t: dict[str, Any]) -> tuple[str, str, str]:
    num = compare_key(str(t.get("number") if t.get("number") is not None else t.get("value", "")))
    return (num, compare_key(str(t.get("unit") or "")), compare_key(str(t.get("what") or "")))


def _pair_targets(old: list[dict], new: list[dict]) -> list[tuple[dict, dict]]:
    """Targets whose number changed: identical ones removed first, then the rest paired by unit
    (and what they count), in order. Unpaired targets are left to the sentence diff."""
    rest_new = list(new)
    rest_old = []
    for t in old:
        k = _target_key(t)
        for idx, u in enumerate(rest_new):
            if _target_key(u) == k:
                del rest_new[idx]
                break
        else:
            rest_old.append(t)
    pairs = []
    for t in rest_old:
        num, unit, what = _target_key(t)
        best = None
        for idx, u in enumerate(rest_new):
            n2, u2, w2 = _target_key(u)
            if u2 != unit:
                continue
            if w2 == what:
                best = idx
                break
            if best is None:
                best = idx
        if best is not None:
            pairs.append((t, rest_new.pop(best)))
    return pairs


def _dedupe_target_pairs(pairs: list[tuple[dict, dict]]) -> list[tuple[dict, dict]]:
    """One change seen through overlapping target spans ("其中180项…已落地105项" and "…已落地105项")
    is one event: keep the longest span."""
    keyed = [(compare_key(_target_text(ta)), compare_key(_target_text(tb)), ta, tb) for ta, tb in pairs]
    out = []
    for idx, (ka, kb, ta, tb) in enumerate(keyed):
        covered = any(
            jdx != idx and ka in ka2 and kb in kb2 and (len(ka2), len(kb2), -jdx) > (len(ka), len(kb), -idx)
            for jdx, (ka2, kb2, _a, _b) in enumerate(keyed)
        )
        if not covered:
            out.append((ta, tb))
    return out


def _target_event(a, b, before, after, base, ta, tb, context=None) -> EventDraft:
    details = {**base}
    if ta is not None:
        details["old_target"] = ta
        details["new_target"] = tb
    if context is not None:
        details["context"] = {"before": _cut(context[0]), "after": _cut(context[1])}
    return EventDraft(
        TARGET_CHANGED, b.label, b.title, _cut(before), _cut(after),
        f"{b.noun} {b.heading} 目标调整:{_short(before)} → {_short(after)}", details,
    )


_NUM_RE = re.compile(r"\d+(?:\.\d+)?")
# The units of crawler.document.targets._UNITS, written out (this module reads structures without
# importing the crawler's parsers): a unit added there belongs here too.
_NUM_UNIT_RE = re.compile(
    r"\d+(?:\.\d+)?\s*(?:(?:万亿|千亿|百亿|亿|千万|百万|万|千|百)\s*)?"
    r"(?:家|个|项|户|人次|人|条|所|座|台|套|辆|艘|标箱|公里|千米|米|平方米|立方米|亩|吨|美元|元|次|名|批|部|款|类|种|"
    r"场|张|件|倍|%|％|千瓦时|千瓦|兆瓦时|兆瓦|吉瓦时|吉瓦|小时|分钟|天|"
    r"TWh|GWh|MWh|kWh|GW|MW|kW|EFLOPS|PFLOPS|GB|TB|PB|Gbps|Mbps|万|亿)"
)


def _mask_numbers(text: str) -> str:
    return _NUM_RE.sub("#", compare_key(text))


def _number_changes(before: str, after: str) -> list[tuple[str, str]]:
    nb = [m.group() for m in _NUM_UNIT_RE.finditer(before) if m.group().strip()]
    na = [m.group() for m in _NUM_UNIT_RE.finditer(after) if m.group().strip()]
    return [(x, y) for x, y in zip(nb, na, strict=False) if compare_key(x) != compare_key(y)]


# --------------------------------------------------------------------------------------------
# Text outside tasks
# --------------------------------------------------------------------------------------------

# Page chrome that may survive extraction: never an event (architecture.md, noise list).
_NOISE_LINE_RE = re.compile(
    r"(浏览量|访问量|阅读量|浏览次数|阅读次数|点击量|点击数|点击率|访问次数)\s*[:：]?\s*\d*"
    r"|分享到|【?\s*打印\s*】|【?\s*关闭\s*】|打印本页|关闭窗口|字号\s*[:：]?\s*[【\[]?\s*大|字体\s*[:：]?\s*[【\[]?\s*大"
    r"|^\s*(来源|信息来源|发布时间|发布日期|时间|日期|作者|责任编辑|编辑)\s*[:：]"
    r"|当前位置|您现在的位置|^\s*首页\s*[>＞»]|无障碍|长者助手|繁体版|简体版|扫一扫|微信扫|^\s*【?(微信|微博|QQ空间)"
)
_NOISE_MAX_LEN = 80


@dataclass
class _Sentence:
    text: str
    key: str
    section: str | None


def outside_sentences(
    view: VersionView, *, drop_keys: Iterable[str] = (), tasks: Sequence[_Task] | None = None
) -> list[_Sentence]:
    """The sentences of the normalized text that belong to no task, with the level-1 section
    (一、…) they stand in; page chrome, metadata lines and injected spam dropped."""
    if tasks is None:
        tasks = _tasks(view)
    blob = "\x00".join(t.key for t in tasks)
    blob_with_labels = "\x00".join(compare_key(t.label) + t.key for t in tasks)
    spam = sorted(
        {compare_key(str(i.get("text") or "")) for i in (view.structure or {}).get("injected") or []} - {""},
        key=len, reverse=True,
    )
    drop = set(drop_keys)
    out: list[_Sentence] = []
    section: str | None = None
    # a task table's cells (a line each on the page, rejoined into sentences): the tasks' own
    cells = sorted({compare_key(str(c)) for t in tasks for c in t.raw.get("cells") or ()} - {""},
                   key=len, reverse=True)
    for s in split_sentences(view.normalized_text):
        k = compare_key(s)
        if cells and _only_cells(k, cells):
            continue
        for sp in spam:
            if sp in k:
                # defensive: the extractor keeps spam out of the normalized text already
                k = k.replace(sp, "")
                s = s.replace(sp, "").strip() if sp in s else k
        if not k or k in drop:
            continue
        if len(s) <= _NOISE_MAX_LEN and _NOISE_LINE_RE.search(s):
            continue
        if tasks:
            if k in blob or k in blob_with_labels:
                continue
            lm = HEADING_RE.match(k)
            if lm and k[lm.end() :] and k[lm.end() :] in blob:
                continue
        if HEADING_RE.match(k) and re.match(r"^[一二三四五六七八九十百零〇]+、", k):
            section = s if len(s) <= 40 else s[:40]
        out.append(_Sentence(s, k, section))
    return out


def _only_cells(key: str, cells: list[str]) -> bool:
    """Is this sentence made of table cells only (longest first), its punctuation aside?"""
    for cell in cells:
        if cell in key:
            key = key.replace(cell, "")
            if not key:
                return True
    return not key.strip("\u3002.;,\u3001: \uff1b\uff0c\uff1a")


def _metadata_keys(view: VersionView) -> set[str]:
    meta = (view.structure or {}).get("metadata") or {}
    keys = {compare_key(view.title or ""), compare_key(str(meta.get("title") or ""))}
    dn = compare_key(str(meta.get("doc_number") or ""))
    if dn:
        keys |= {dn, dn + "A", dn + "B", dn + "C"}
    return keys - {""}


def compare_outside_text(
    old: VersionView,
    new: VersionView,
    *,
    old_tasks: Sequence[_Task] | None = None,
    new_tasks: Sequence[_Task] | None = None,
) -> list[EventDraft]:
    drop = _metadata_keys(old) | _metadata_keys(new)
    a = outside_sentences(old, drop_keys=drop, tasks=old_tasks)
    b = outside_sentences(new, drop_keys=drop, tasks=new_tasks)
    events: list[EventDraft] = []
    for olds, news, blk in changed_passages([s.text for s in a], [s.text for s in b]):
        before = "".join(olds) or None
        after = "".join(news) or None
        section = b[blk.j1].section if blk.j1 < len(b) and news else (a[blk.i1].section if olds else None)
        if section is None and blk.j1 > 0 and b:
            section = b[min(blk.j1, len(b)) - 1].section
        where = f"({section})" if section else ""
        if before and after:
            _b, a_short = excerpt_pair(before, after, 40)
            summary = f"正文表述修改{where}:{a_short}"
        elif after:
            summary = f"正文新增内容{where}:{_short(after, 40)}"
        else:
            summary = f"正文删除内容{where}:{_short(before or '', 40)}"
        before, after = excerpt_pair(before, after, EXCERPT_LIMIT)
        events.append(
            EventDraft(WORDING_CHANGED, None, None, before, after, summary, {"section": section})
        )
    return events


# --------------------------------------------------------------------------------------------
# Metadata, attachments, injected content
# --------------------------------------------------------------------------------------------

_YEAR_RE = re.compile(r"(?:19|20)\d{2}(?=\s*年)|(?<!\d)(?:19|20)\d{2}(?!\d)")


def _meta(view: VersionView) -> dict[str, str]:
    meta = dict((view.structure or {}).get("metadata") or {})
    out = {f: clean_display(str(meta.get(f) or "")) for f in META_FIELDS}
    out["title"] = clean_display(view.title or "") or out["title"]
    return out


def _date_key(v: str) -> str:
    return "-".join(str(int(x)) for x in re.findall(r"\d+", v)) or compare_key(v)


def compare_metadata(
    old: VersionView, new: VersionView, canon: Canonical = _identity, *, edition: bool = False
) -> list[EventDraft]:
    a, b = _meta(old), _meta(new)
    fields = ("title", "issuer", "validity") if edition else META_FIELDS
    events = []
    for f in fields:
        va, vb = a.get(f, ""), b.get(f, "")
        if f in ("signed_on", "published"):
            ka, kb = _date_key(va), _date_key(vb)
        elif f == "issuer":
            ka, kb = compare_key(canon(va)) if va else "", compare_key(canon(vb)) if vb else ""
        else:
            ka, kb = compare_key(va), compare_key(vb)
        if edition and f == "title":
            ka, kb = _YEAR_RE.sub("#", ka), _YEAR_RE.sub("#", kb)
        if ka == kb:
            continue
        events.append(
            EventDraft(
                METADATA_CHANGED, None, None, _cut(va) or None, _cut(vb) or None,
                f"{META_NAMES[f]}变更:{_short(va) or '(无)'} → {_short(vb) or '(无)'}",
                {"field": f},
            )
        )
    return events


def compare_attachments(old: list[dict], new: list[dict]) -> list[EventDraft]:
    """Attachments matched by URL, then by name: added, removed, content hash changed (an
    unknown hash on either side is no evidence of change)."""
    rest_new = list(new or [])
    events = []
    unmatched_old = []
    for att in old or []:
        idx = next((k for k, n in enumerate(rest_new) if n.get("url") and n.get("url") == att.get("url")), None)
        if idx is None:
            unmatched_old.append(att)
            continue
        events += _attachment_pair(att, rest_new.pop(idx))
    for att in unmatched_old:
        name_key = compare_key(str(att.get("name") or ""))
        idx = next(
            (k for k, n in enumerate(rest_new) if name_key and compare_key(str(n.get("name") or "")) == name_key), None
        )
        if idx is None:
            events.append(
                EventDraft(
                    ATTACHMENT_CHANGED, None, None, _att_label(att), None,
                    f"删除附件:{_att_label(att)}", {"change": "removed", "url": att.get("url"), "name": att.get("name")},
                )
            )
        else:
            events += _attachment_pair(att, rest_new.pop(idx))
    for att in rest_new:
        events.append(
            EventDraft(
                ATTACHMENT_CHANGED, None, None, None, _att_label(att),
                f"新增附件:{_att_label(att)}", {"change": "added", "url": att.get("url"), "name": att.get("name")},
            )
        )
    return events


def _att_label(att: dict) -> str:
    return clean_display(str(att.get("name") or "")) or str(att.get("url") or "")


def _attachment_pair(a: dict, b: dict) -> list[EventDraft]:
    ha, hb = a.get("content_hash"), b.get("content_hash")
    if ha and hb and ha != hb:
        return [
            EventDraft(
                ATTACHMENT_CHANGED, None, None, _att_label(a), _att_label(b),
                f"附件内容变更:{_att_label(b)}",
                {"change": "content", "url": b.get("url"), "name": b.get("name"),
                 "old_hash": ha, "new_hash": hb},
            )
        ]
    return []


def compare_injected(old_structure: dict, new_structure: dict) -> list[EventDraft]:
    """One ``content_injected`` event listing the spam items present now and not before."""
    before = {compare_key(str(i.get("text") or "")) for i in (old_structure or {}).get("injected") or []}
    fresh = []
    seen = set()
    for item in (new_structure or {}).get("injected") or []:
        k = compare_key(str(item.get("text") or ""))
        if k and k not in before and k not in seen:
            seen.add(k)
            fresh.append(item)
    if not fresh:
        return []
    kinds = []
    for item in fresh:
        kind = INJECTED_KIND_NAMES.get(str(item.get("kind")), str(item.get("kind") or "可疑"))
        if kind not in kinds:
            kinds.append(kind)
    texts = ";".join(clean_display(str(i.get("text"))) for i in fresh)
    return [
        EventDraft(
            CONTENT_INJECTED, None, None, None, _cut(texts),
            f"页面出现疑似注入内容({'、'.join(kinds)}):{_short(texts, 40)}",
            {"items": [dict(i) for i in fresh]},
        )
    ]


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------


def _cut(text: str | None, limit: int = EXCERPT_LIMIT) -> str | None:
    if text is None:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short(text: str | None, limit: int = 60) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"
