"""Helpers for the compare/textdiff tests: seed loading, seed edits, and two structure builders.

``mini_structure`` is a small, test-only stand-in for crawler.document.understand (enough of the
structure JSON for seed 001: sections, tasks, clause, departments by role, targets, injected
spam given by the test), so the engine is tested independently of the extractor. When
crawler.document is importable, ``understand_view`` builds views the production way and the
seed tests run a second time through it.
"""

from __future__ import annotations

import re
from pathlib import Path

from monitor.events import VersionView
from monitor.textdiff import clean_display, logical_lines

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "replica" / "data" / "seeds"


def seed(n: int) -> str:
    return next(SEEDS.glob(f"{n:03d}_*.txt")).read_text(encoding="utf-8")


def crawler_document():
    """crawler.document if it exports understand, else None."""
    try:
        import crawler.document as cd

        cd.understand  # noqa: B018
    except (ImportError, AttributeError):
        return None
    return cd


# --------------------------------------------------------------------------------------------
# a test-only mini extractor
# --------------------------------------------------------------------------------------------

_TASK_RE = re.compile(r"^\(([一二三四五六七八九十]+)\)")
_SECTION_RE = re.compile(r"^([一二三四五六七八九十]+、)(.*)")
_CLAUSE_RE = re.compile(r"\(([^()]*(?:\([^()]*\)[^()]*)*)\)\s*$")
_TARGET_RE = re.compile(r"(新增推动|带动|培育|建设|打造|推动)?(\d+(?:\.\d+)?)\s*(万家|家|个|项)([^,,。、;]{0,12})")


def _split_departments(run: str) -> list[str]:
    out = []
    prefix = ""
    for part in re.split(r"[、,,]", run):
        part = part.strip()
        if not part:
            continue
        if part.startswith("省"):
            prefix = "省"
        elif prefix and not part.startswith(("人民银行", "广东", "中国", "相关", "各", "广州", "深圳")):
            part = prefix + part
        out.append(part)
    return out


def parse_clause(clause: str) -> dict[str, list[str]]:
    roles: dict[str, list[str]] = {"lead": [], "responsible": [], "implementing": []}
    buf = ""
    for part in re.split(r"[,,]", clause):
        buf = f"{buf}、{part}" if buf else part
        for suffix, role in (("牵头", "lead"), ("按职责分工负责", "responsible"), ("负责", "responsible"),
                             ("落实", "implementing")):
            if buf.endswith(suffix):
                roles[role] += _split_departments(buf[: -len(suffix)])
                buf = ""
                break
    return roles


def mini_structure(text: str, *, injected: list[dict] | None = None, title: str | None = None) -> dict:
    tasks = []
    outline = []
    section = None
    for line in logical_lines(text):
        m = _SECTION_RE.match(line)
        if m and "。" not in line:
            section = m.group(1)
            outline.append({"label": section, "level": 1, "title": m.group(2), "text": line, "path": [section]})
            continue
        m = _TASK_RE.match(line)
        if not m:
            continue
        label = f"({m.group(1)})"
        body = line[m.end():]
        title_ = body.split("。", 1)[0]
        cm = _CLAUSE_RE.search(line)
        clause = cm.group(1) if cm else ""
        targets = [
            {"value": float(t.group(2)) if "." in t.group(2) else int(t.group(2)), "number": t.group(2),
             "unit": t.group(3), "what": t.group(4), "text": clean_display(t.group(0))}
            for t in _TARGET_RE.finditer(line[: cm.start()] if cm else line)
        ]
        tasks.append({"ordinal": len(tasks) + 1, "label": label, "path": [section, label], "section": section,
                      "title": title_, "text": line, "clause": clause, **parse_clause(clause),
                      "targets": targets})
    first = ""
    for line in logical_lines(text):
        for item in sorted(injected or [], key=lambda i: -len(i["text"])):
            line = line.replace(item["text"], "").strip()
        if line:
            first = line
            break
    return {
        "schema": 1,
        "metadata": {"title": title or first, "issuer": None, "doc_number": None, "signed_on": None,
                     "published": None, "validity": None, "kind": "work_points"},
        "outline": outline,
        "tasks": tasks,
        "injected": injected or [],
    }


def mini_view(text: str, *, injected: list[dict] | None = None, attachments: list[dict] | None = None,
              spam_free_text: str | None = None) -> VersionView:
    structure = mini_structure(spam_free_text or text, injected=injected)
    return VersionView(title=structure["metadata"]["title"], normalized_text=spam_free_text or text,
                       structure=structure, attachments=attachments or [])


def understand_view(raw: str, attachments: list[dict] | None = None) -> VersionView:
    cd = crawler_document()
    assert cd is not None
    structure = cd.understand(raw)
    text = raw
    if hasattr(cd, "clean_text"):
        text, _ = cd.clean_text(raw)
    normalized = cd.normalize_for_compare(text) if hasattr(cd, "normalize_for_compare") else text
    title = (structure.get("metadata") or {}).get("title") or ""
    return VersionView(title=title, normalized_text=normalized, structure=structure,
                       attachments=attachments or [])


# --------------------------------------------------------------------------------------------
# edits of seed 001 (each one change alone)
# --------------------------------------------------------------------------------------------

CN = "一二三四五六七八九十"


def cn_number(n: int) -> str:
    if n <= 10:
        return CN[n - 1] if n < 10 else "十"
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN[tens - 1]) + "十" + (CN[ones - 1] if ones else "")


def renumber_tasks(text: str) -> str:
    """Renumber the (一)…(N) task labels at line starts in order (after an insertion/removal)."""
    counter = 0

    def sub(m: re.Match) -> str:
        nonlocal counter
        counter += 1
        return f"{m.group(1)}({cn_number(counter)})"

    return re.sub(r"(?m)^(\s*)\([一二三四五六七八九十]+\)", sub, text)


NEW_TASK = ("  (三)发展人工智能产业。编制人工智能产业发展行动计划,建设一批人工智能创新应用场景,"
            "推动大模型在政务、制造、医疗等领域落地应用。(省科技厅牵头,省工业和信息化厅按职责分工负责)\n\n")


def insert_task(text: str) -> str:
    """A new task inserted before the third one; every later label renumbered."""
    idx = text.index("  (三)发展硅能源产业")
    return renumber_tasks(text[:idx] + NEW_TASK + text[idx:])


def remove_task(text: str, label: str = "(五)") -> str:
    start = text.index(f"  {label}")
    end = text.index("\n\n", start)
    while not text[end:].lstrip().startswith(("(", "二、", "三、")):
        end = text.index("\n\n", end + 2)
    return renumber_tasks(text[:start] + text[end + 2:])
