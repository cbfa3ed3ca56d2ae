"""Tasks from a task table (重点任务分工表): a row a task, its departments from the role columns.

A plan that lists its tasks as a table (序号 | 重点任务 | 牵头单位 | 配合单位 | 完成时限) has no
numbered paragraphs for the outline to find. Each row becomes a task of the same shape as
build_tasks' (label, title, text, clause, lead, responsible, implementing, targets): its text is
the task cell followed by its clause in brackets, as a paragraph task writes it, so that a
change of department is a responsibility change and not a rewording. A row that spans the whole
table (二、数字产业化) heads the rows below it: their section.
"""

from __future__ import annotations

import re

from crawler.extract.tables import ROLE_HEAD_RE, TASK_HEAD_RE, head_row

from .chars import normalize_line
from .departments import ClauseContext, parse_clause
from .outline import heading_title
from .targets import find_targets

_NUMBER_HEAD_RE = re.compile(r"^(?:序号|编号|序列|项目编号)$")
_DEADLINE_HEAD_RE = re.compile(r"时限|时间|进度|期限")
_CATEGORY_HEAD_RE = re.compile(r"类别|领域|方面|板块|分类|类型")
# a task column of these words is the specific task, preferred to a category column (任务类别)
_SPECIFIC_RE = re.compile(r"具体|内容|措施|举措|重点任务|工作任务|主要任务")


def table_tasks(tables: list[list[list[str]]]) -> list[dict[str, object]]:
    """The tasks of every task table, in order (ordinal counted across the tables)."""
    tasks: list[dict[str, object]] = []
    for rows in tables:
        rows = [[normalize_line(cell) for cell in row] for row in rows]
        head = head_row(rows)
        if head is None:
            continue
        tasks.extend(_rows_tasks(rows[head], rows[head + 1:], len(tasks)))
    return tasks


def _task_column(header: list[str], body: list[list[str]]) -> int:
    candidates = [i for i, cell in enumerate(header) if len(cell) <= 12 and TASK_HEAD_RE.search(cell)
                  and not ROLE_HEAD_RE.search(cell) and not _DEADLINE_HEAD_RE.search(cell)]
    specific = [i for i in candidates if _SPECIFIC_RE.search(header[i])]
    if specific:
        return specific[-1]
    # else the one with the longest texts: a category column repeats a few words
    return max(candidates, key=lambda i: sum(len(row[i]) for row in body if i < len(row)), default=-1)


def _rows_tasks(header: list[str], body: list[list[str]], before: int) -> list[dict[str, object]]:
    task_col = _task_column(header, body)
    if task_col < 0:
        return []
    number_col = next((i for i, cell in enumerate(header) if _NUMBER_HEAD_RE.match(cell)), None)
    # a category column (任务类别, 重点领域) groups the rows as a section row would
    category_col = next((i for i, cell in enumerate(header) if i not in (task_col, number_col)
                         and len(cell) <= 8 and _CATEGORY_HEAD_RE.search(cell)), None)
    role_cols = [(i, cell) for i, cell in enumerate(header) if i != task_col and ROLE_HEAD_RE.search(cell)]
    # the other columns (完成时限, 工作目标…) are part of the task's text: a changed deadline is a
    # changed task
    other_cols = [i for i, cell in enumerate(header)
                  if i not in (task_col, number_col, category_col) and all(i != j for j, _ in role_cols) and cell]
    ctx = ClauseContext()
    section = ""
    out: list[dict[str, object]] = []
    for row in body:
        cells = row + [""] * (len(header) - len(row))
        if len(set(cells)) == 1:  # one cell across the table: a section heading
            section = cells[0]
            continue
        text = cells[task_col]
        if not text or text == header[task_col]:
            continue
        parts = [f"{header[i]}:{cells[i]}" for i, _ in role_cols if cells[i] and cells[i] != text]
        clause = ";".join(parts) or None
        roles = parse_clause(clause, ctx) if clause else None
        if category_col is not None and cells[category_col]:
            section = cells[category_col]
        number = cells[number_col] if number_col is not None else ""
        label = number if number and len(number) <= 8 else str(len(out) + 1)
        if label.isdigit():
            label += "."  # as a numbered paragraph's label reads: 1.
        details = ";".join(f"{header[i]}:{cells[i]}" for i in other_cols if cells[i] and cells[i] != text)
        body = f"{text} {details}" if details else text
        out.append({
            "ordinal": before + len(out) + 1,
            "label": label,
            "path": [section, label] if section else [label],
            "section": section or label,
            "title": heading_title(text),
            "text": f"{body}({clause})" if clause else body,
            "clause": clause,
            "lead": list(roles.lead) if roles else [],
            "responsible": list(roles.responsible) if roles else [],
            "implementing": list(roles.implementing) if roles else [],
            "targets": find_targets(text),
            # the row's cells: lines of the page's text that belong to this task, not to the text
            # around the tasks (monitor.compare.outside_sentences)
            "cells": [cell for cell in cells if cell],
        })
    return out
