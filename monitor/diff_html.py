"""Side-by-side HTML view of two versions, for people: tasks and sections as rows, character-level
highlights inside. Inline styles only (mail clients drop <style> blocks), Jinja2 autoescape on
(crawled text is untrusted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from monitor.compare import (
    _default_canonical,
    _metadata_keys,
    _strip_label,
    _tasks,
    align_tasks,
    compare_versions,
    outside_sentences,
)
from monitor.events import VersionView
from monitor.textdiff import Segment, align_sentences, compare_key, inline_diff, split_paragraph_sentences

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass
class Row:
    kind: str  # "meta" | "task-added" | "task-removed" | "task-changed" | "task-same" | "text"
    label: str
    left: list[Segment] = field(default_factory=list)
    right: list[Segment] = field(default_factory=list)
    note: str = ""


@lru_cache(maxsize=1)
def _env():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # always: the template name ends in .j2, select_autoescape would miss it
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def side_by_side(old_sents: list[str], new_sents: list[str], granularity: str = "char") -> tuple[list[Segment], list[Segment]]:
    """Segments for two sentence lists: aligned sentences, changed pairs highlighted inline."""
    left: list[Segment] = []
    right: list[Segment] = []
    for blk in align_sentences(old_sents, new_sents):
        a = "".join(old_sents[blk.i1 : blk.i2])
        b = "".join(new_sents[blk.j1 : blk.j2])
        if blk.tag == "equal":
            left.append(("equal", a))
            right.append(("equal", b))
        elif blk.tag == "delete":
            left.append(("del", a))
        elif blk.tag == "insert":
            right.append(("ins", b))
        else:
            la, rb = inline_diff(a, b, granularity=granularity)
            left += la
            right += rb
    return _merge(left), _merge(right)


def _merge(segs: list[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for kind, text in segs:
        if not text:
            continue
        if out and out[-1][0] == kind:
            out[-1] = (kind, out[-1][1] + text)
        else:
            out.append((kind, text))
    return out


def _collapse_equal(segs: list[Segment], keep: int = 40) -> list[Segment]:
    """Shorten long unchanged stretches to their ends (a changed task of 800 characters shows
    the changed sentence with some context, not the whole paragraph)."""
    out: list[Segment] = []
    for idx, (kind, text) in enumerate(segs):
        if kind == "equal" and len(text) > 3 * keep:
            head = text[:keep] if idx > 0 else ""
            tail = text[-keep:] if idx < len(segs) - 1 else ""
            text = f"{head}…{tail}"
        out.append((kind, text))
    return out


def build_rows(old: VersionView, new: VersionView, *, granularity: str = "char",
               show_unchanged: bool = False) -> tuple[list[Row], int]:
    """The rows of the side-by-side view and the number of unchanged tasks not shown."""
    rows: list[Row] = []
    old_tasks, new_tasks = _tasks(old), _tasks(new)
    drop = _metadata_keys(old) | _metadata_keys(new)
    a = outside_sentences(old, drop_keys=drop, tasks=old_tasks)
    b = outside_sentences(new, drop_keys=drop, tasks=new_tasks)

    # text outside tasks, per changed passage, remembered by section
    text_rows: dict[str | None, list[Row]] = {}
    for blk in align_sentences([s.text for s in a], [s.text for s in b]):
        if blk.tag == "equal":
            continue
        left, right = side_by_side([s.text for s in a[blk.i1 : blk.i2]], [s.text for s in b[blk.j1 : blk.j2]],
                                   granularity)
        sec = b[blk.j1].section if blk.j1 < blk.j2 else (a[blk.i1].section if blk.i1 < blk.i2 else None)
        text_rows.setdefault(sec, []).append(Row("text", sec or "正文", left, right))

    rows += text_rows.pop(None, [])
    unchanged = 0
    seen_sections: set[str] = set()
    section_rows = {compare_key(k or ""): v for k, v in text_rows.items()}
    for i, j in align_tasks(old_tasks, new_tasks):
        t = new_tasks[j] if j is not None else old_tasks[i]  # type: ignore[index]
        sec_label = str(t.raw.get("section") or "")
        for sec_key, srows in list(section_rows.items()):
            if sec_label and sec_key.startswith(compare_key(sec_label)) and sec_key not in seen_sections:
                rows += srows
                seen_sections.add(sec_key)
                del section_rows[sec_key]
        if i is None:
            rows.append(Row("task-added", t.heading, [], [("ins", t.display)], "新增任务"))
        elif j is None:
            rows.append(Row("task-removed", t.heading, [("del", t.display)], [], "删除任务"))
        else:
            ta, tb = old_tasks[i], new_tasks[j]
            if ta.key == tb.key:
                unchanged += 1
                if show_unchanged:
                    rows.append(Row("task-same", tb.heading, [("equal", ta.display)], [("equal", tb.display)]))
                continue
            left, right = side_by_side(split_paragraph_sentences(_strip_label(ta.display, ta.label)),
                                       split_paragraph_sentences(_strip_label(tb.display, tb.label)), granularity)
            note = f"原{ta.label}" if compare_key(ta.label) != compare_key(tb.label) else ""
            rows.append(Row("task-changed", tb.heading, _collapse_equal(left), _collapse_equal(right), note))
    for srows in section_rows.values():
        rows += srows
    return rows, unchanged


def render_diff_html(old: VersionView, new: VersionView, *, title: str, granularity: str = "char",
                     show_unchanged: bool = False) -> str:
    """A complete standalone HTML document comparing two versions side by side."""
    events = compare_versions(old, new, canonical_department=_default_canonical())
    rows, unchanged = build_rows(old, new, granularity=granularity, show_unchanged=show_unchanged)
    meta_rows = [
        Row("meta", e.summary.split("变更", 1)[0] if "变更" in e.summary else e.summary,
            [("del", e.before or "")] if e.before else [], [("ins", e.after or "")] if e.after else [])
        for e in events
        if e.type in ("metadata_changed", "attachment_changed", "content_injected")
    ]
    return _env().get_template("diff.html.j2").render(
        title=title,
        old_title=old.title,
        new_title=new.title,
        events=events,
        rows=meta_rows + rows,
        unchanged=unchanged,
    )
