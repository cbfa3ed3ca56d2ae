"""Task tables in a page's body (重点任务分工表, 任务清单): their cells, row by row, for the
document parser (crawler.document.task_tables). The body text keeps a table as one line a cell;
these grids are what it loses, which rows and columns the cells stood in.

Only a table whose head names a task column and a role column (牵头单位, 责任部门…) is kept: a
metadata table, a statistics table or a layout table is none of the parser's business.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from .htmltext import block_lines

# The head of a task column, and of a role column: what the parser reads them as.
TASK_HEAD_RE = re.compile(r"任务|工作内容|工作措施|具体措施|主要措施|重点工作|工作事项|举措|事项")
ROLE_HEAD_RE = re.compile(r"(?:牵头|责任|配合|参与|协同|协办|实施|落实|主办|承办|主责)(?:单位|部门|处室|科室)|责任主体")
HEAD_ROWS = 3  # the head is one of the first rows (a title row may come first)
MAX_ROWS = 3000  # a table's rows read, at most (a hostile page's bound; plans list tens to hundreds)
MAX_SPAN = 50  # a rowspan or colspan past this is a broken page, not a table's layout
Grid = list[list[str]]


def head_row(rows: Grid) -> int | None:
    """The index of a task table's head row: a task column and a role column; else None."""
    for index, row in enumerate(rows[:HEAD_ROWS]):
        if any(TASK_HEAD_RE.search(cell) for cell in row if len(cell) <= 12) and any(
                ROLE_HEAD_RE.search(cell) for cell in row if len(cell) <= 12):
            return index
    return None


def task_tables(root: HtmlElement) -> list[Grid]:
    """The task tables under ``root``, each as rows of cell texts (spans filled in)."""
    out: list[Grid] = []
    for table in root.iter("table"):
        if _has_inner_table(table):
            continue  # a layout table around others: its inner tables are read on their own
        rows = _grid(table)
        if head_row(rows) is not None:
            out.append(rows)
    return out


def _has_inner_table(table: HtmlElement) -> bool:
    it = table.iter("table")
    next(it, None)  # the table itself
    return next(it, None) is not None


def _span(cell: HtmlElement, name: str) -> int:
    try:
        return max(1, min(MAX_SPAN, int(cell.get(name) or 1)))
    except ValueError:
        return 1


def _grid(table: HtmlElement) -> Grid:
    """The table's rows with each spanning cell's text repeated in every row and column it spans,
    as a reader sees it (a 牵头单位 merged over three tasks leads each of them)."""
    rows: Grid = []
    pending: dict[int, tuple[int, str]] = {}  # column: (rows still spanned, text)
    for tr in table.iter("tr"):
        if len(rows) >= MAX_ROWS:
            break
        row: list[str] = []
        cells = [c for c in tr if isinstance(c.tag, str) and c.tag in ("td", "th")]
        col = 0
        for cell in cells:
            while col in pending:
                row.append(_take(pending, col))
                col += 1
            text = " ".join(block_lines(cell))
            down = _span(cell, "rowspan")
            for _ in range(_span(cell, "colspan")):
                row.append(text)
                if down > 1:
                    pending[col] = (down - 1, text)
                col += 1
        for spanned in sorted(c for c in pending if c >= col):  # spans past the row's own cells
            row.extend([""] * (spanned - len(row)))
            row.append(_take(pending, spanned))
        if any(row):
            rows.append(row)
    return rows


def _take(pending: dict[int, tuple[int, str]], col: int) -> str:
    left, text = pending[col]
    if left > 1:
        pending[col] = (left - 1, text)
    else:
        del pending[col]
    return text
