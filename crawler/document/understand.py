"""Understand one document: clean it, then build the structure JSON (metadata, outline, tasks).

Tasks are the numbered items at the level that carries responsibility clauses; without clauses,
the leaf items under a main-task section (主要任务/重点任务); otherwise the (一)-level items of the
substantive sections (not 总体要求/保障措施…). A regulation's tasks are its articles (第一条…),
every one of them.
"""

from __future__ import annotations

import logging
from typing import Any

from .clean import clean
from .injected import title_inline
from .metadata import extract_metadata
from .outline import build_outline
from .task_tables import table_tasks
from .tasks import build_tasks

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
# Which reading of a text made a structure: raised when a change to the parser changes the
# outline or tasks it finds (2: the chapters and articles of regulations). Structures stored by
# an earlier parser carry a lower number (none: 1); monitor.compare reads both versions of a
# comparison again before comparing them, so a parser change never shows as a document change.
# 3: targets in GWh, 千瓦时, 兆瓦, 辆, 标箱, 美元, 小时, 天… (a unit they lacked, or cut short);
# offices (责任处室:规划处) as a task's departments; an attachment list's 2., 3. no headings;
# a task table's rows as tasks (crawler.document.task_tables); 1) labels; each section's own task rank;
# a closing 附件: list is no part of the last task.
PARSER_VERSION = 3


def understand(
    text: str, *, title: str | None = None, page_metadata: dict[str, str] | None = None,
    tables: list[list[list[str]]] | None = None,
) -> dict[str, Any]:
    """The structure JSON of docs/design.md for a document's body text. ``tables``: the page's
    task tables (crawler.extract.tables), whose rows are the tasks when no paragraph task names a
    department."""
    c = clean(text or "")
    nodes, _preamble = build_outline(c.lines)
    metadata = extract_metadata(c, title=title, page_metadata=page_metadata)
    texts = [n.text for n in nodes]  # joined once for the outline and the tasks
    tasks = build_tasks(nodes, texts, ascii_digits=c.ascii_digits)
    if tables and not any(t["lead"] or t["responsible"] or t["implementing"] for t in tasks):
        # a task table names each task's departments, where the paragraphs name none (or the
        # table's own section rows were all the outline found)
        tasks = table_tasks(tables) or tasks
    injected = [dict(i) for i in c.injected]
    if title:
        _, found = title_inline(title)  # the metadata's title cleaning did the same work
        known = {i["text"] for i in injected}
        injected.extend({"text": f.text, "kind": f.kind, "where": "page_title"} for f in found if f.text not in known)
    logger.debug("understood %d lines: %d nodes, %d tasks", len(c.lines), len(nodes), len(tasks))
    return {
        "schema": SCHEMA_VERSION,
        "parser": PARSER_VERSION,
        "metadata": metadata,
        "outline": [n.as_dict(t) for n, t in zip(nodes, texts, strict=True)],
        "tasks": tasks,
        "injected": injected,
    }


def normalize_for_compare(text: str) -> str:
    """The text two versions are compared on: chrome and spam removed, paragraphs rejoined one per
    line, reflow spaces removed, full-width ASCII folded to half-width, quotes paired."""
    return "\n".join(clean(text or "").lines)
