"""Tasks: choose the numbered items that are tasks and attach clause, departments and targets."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable

from .departments import DEPT_SUFFIX_CHARS, ROLE_LABEL_RE, ClauseContext, looks_like_clause, parse_clause
from .labels import ATTACHMENT_LINE_RE, DIVISION_RANK, is_date_line
from .outline import Node, subtree_text
from .targets import find_targets

logger = logging.getLogger(__name__)

_CLOSERS = {")": "(", "〕": "〔", "】": "【", "]": "["}
_MAIN_TASK_RE = re.compile(r"(?:主要|重点|工作)任务$|^(?:任务措施|重点举措|主要举措|重点工作|主要措施|重点措施)$")
_NON_SUBSTANTIVE_RE = re.compile(
    r"^(?:总体要求|指导思想|基本原则|发展目标|主要目标|工作目标|总体目标|保障措施|组织实施|工作要求|组织保障|"
    r"组织领导|实施步骤|工作步骤|附则|其他事项|工作机制)$"
)


# The lines that close an official document after its last paragraph (落款 and what follows it):
# the issuer, the date, 此件主动公开, a contact line, 抄送. They end up in the last task's text
# when the tasks are the notice's own paragraphs, and would hide that task's clause.
_ISSUER_LINE_RE = re.compile(
    r"^[^,,。;;::、??!!()()\[\]【】〔〕\d]{2,60}(?:厅|局|委|委员会|办公室|办|政府|中心|院|部|会|署|小组)$")
# The other closing lines: 此件主动公开, a contact line, 抄送 (dates: labels.is_date_line).
_OTHER_CLOSING_RE = re.compile(
    r"^(?:[((]?此件(?:主动|不予|依申请)?公开(?:发布)?[))]?$|[((]?(?:联系人|联系电话|联系方式)|抄送[::])")


def _closing_kind(line: str) -> str | None:
    """"issuer", "other" (a date, 此件主动公开, contact, 抄送) or None for a line of the text."""
    if is_date_line(line.replace(" ", "").replace("○", "〇").removesuffix("印发")) or _OTHER_CLOSING_RE.match(line):
        return "other"
    return "issuer" if _ISSUER_LINE_RE.match(line) else None


# A notice's list of attachments after its last paragraph: "附件:1.申报指南" and what follows it
# (2.申报表 …, the issuer, the date), short lines all of them.
_ATTACHMENT_TAIL_MAX = 80  # characters a line of the list or the signature


def _attachment_tail(text: str) -> int:
    """Where a closing attachment list begins, or len(text)."""
    k = text.find("\n附件")
    if k < 0:
        return len(text)
    for m in ATTACHMENT_LINE_RE.finditer(text, k + 1):  # never the first line
        if all(len(line) <= _ATTACHMENT_TAIL_MAX and "。" not in line
               for line in text[m.start():].split("\n")):
            return m.start() - 1  # the line break before it
    return len(text)


def closing_start(text: str) -> int:
    """Where the closing lines (issuer, date, 此件主动公开, contact, 抄送, the list of
    attachments) at the end of a paragraph's text begin: len(text) when it has none. The first
    line is never a closing line, and issuer-like lines alone ("…中心", "…会") are not a closing:
    a date or one of the other closing lines must be among them."""
    cut = _attachment_tail(text)
    if cut < len(text):
        return closing_start(text[:cut])
    end = len(text)
    closed = False  # a line that only a closing holds (date, 此件主动公开, contact, 抄送) was seen
    while True:
        content_end = end
        while content_end and text[content_end - 1].isspace():
            content_end -= 1
        start = text.rfind("\n", 0, content_end) + 1
        kind = _closing_kind(text[start:content_end].strip()) if start else None
        if kind is None:
            # the text is kept whole, its own trailing blanks included, unless a closing was cut
            return content_end if closed else len(text)
        closed = closed or kind == "other"
        end = start - 1


# "责任单位:…" closing a task, on its own line or after the task's last sentence, bracketed or not.
_LABEL_OPENERS = "((【["


def _labelled_clause(text: str, end: int) -> tuple[str, int] | None:
    """A clause that starts with a role label ("责任单位:", "牵头单位:") and runs to ``end``,
    after a line break or a sentence's end: (its text without brackets, start index)."""
    begin = max(0, end - 400)
    if (text.find("单位", begin, end) < 0 and text.find("部门", begin, end) < 0
            and text.find("室", begin, end) < 0):
        return None  # the usual case, decided without the pattern
    for match in ROLE_LABEL_RE.finditer(text, begin, end):
        start = match.start()
        while start and text[start - 1] in " \t":
            start -= 1
        bracketed = bool(start) and text[start - 1] in _LABEL_OPENERS
        if bracketed:
            start -= 1
        if start and text[start - 1] not in "\n。;;":
            continue  # inside a sentence: not a clause of its own
        inner = text[match.start():end].strip()
        if bracketed and inner[-1:] in _CLOSERS:
            inner = inner[:-1].strip()
        if "\n" in inner and not bracketed:
            # one label a line ("牵头单位:省发展改革委" / "配合单位:省商务厅"): one clause
            lines = [line.strip().rstrip(";\uff1b") for line in inner.split("\n") if line.strip()]
            if all(ROLE_LABEL_RE.match(line) for line in lines):
                inner = ";".join(lines)
        if "。" in inner or "\n" in inner:
            return None
        return (inner, start) if looks_like_clause(inner) else None
    return None


# An unbracketed closing sentence that only names departments and their role:
# "…不少于2000个。省政务服务数据管理局、各地级以上市人民政府负责。"
_ROLE_END_RE = re.compile(r"(?:牵头|负责|负责落实|落实|配合|按职责分工负责|分工负责)$")


def _sentence_clause(text: str, end: int) -> tuple[str, int] | None:
    """The paragraph's last sentence (after 。 or a line break, at most 120 characters) when
    it is a list of departments ending in a role word: (its text, start index)."""
    start = max(text.rfind("。", 0, end), text.rfind("\n", 0, end)) + 1
    if start <= 0 or end - start > 120:
        return None  # a paragraph of one sentence is the task itself, not its clause
    inner = text[start:end].strip()
    if not _ROLE_END_RE.search(inner) or any(c in inner for c in ",,::“”《》"):
        return None
    roles = parse_clause(inner, ClauseContext())
    names = [*roles.lead, *roles.responsible, *roles.implementing]
    if not names or not all(n[-1:] in DEPT_SUFFIX_CHARS for n in names):
        return None
    return inner, start


def find_clause(text: str) -> tuple[str, int] | None:
    """The responsibility clause closing a paragraph: (text inside the brackets, start index)."""
    end = len(text)
    while end and text[end - 1] in "。; \n":
        end -= 1
    if not end:
        return None
    closer = text[end - 1]
    opener = _CLOSERS.get(closer)
    k = text.rfind(opener, max(0, end - 600), end - 1) if opener is not None else -1
    if k < 0:
        return _labelled_clause(text, end) or _sentence_clause(text, end)
    if closer not in text[k + 1:end - 1]:  # the common case: no nested brackets of the same kind
        inner = text[k + 1:end - 1].strip()
        return (inner, k) if looks_like_clause(inner) else None
    depth = 0
    i = end - 1
    limit = max(0, end - 600)
    while i >= limit:
        ch = text[i]
        if ch == closer:
            depth += 1
        elif ch == opener:
            depth -= 1
            if depth == 0:
                inner = text[i + 1:end - 1].strip()
                return (inner, i) if looks_like_clause(inner) else None
        elif ch == "\n" and closer == ")":
            return None
        i -= 1
    return None


def _commonest_rank(nodes: list[Node], indexes: Iterable[int]) -> int:
    """The rank most of these nodes have (of equals, the higher one: 1. before (1))."""
    by_rank = Counter(nodes[i].rank for i in indexes)
    return max(by_rank.items(), key=lambda kv: (kv[1], -kv[0]))[0]


def _section_of(nodes: list[Node], idx: int) -> int:
    while nodes[idx].parent >= 0:
        idx = nodes[idx].parent
    return idx


def select_task_nodes(nodes: list[Node], clauses: dict[int, str]) -> list[int]:
    """Which nodes are tasks (see the module docstring of understand for the rule)."""
    if not nodes:
        return []
    if clauses:
        rank = _commonest_rank(nodes, clauses)
        # each section's tasks are at the rank most of its own clauses are (one section may
        # number its tasks 1., another ①)
        by_section: dict[int, list[int]] = {}
        for i in clauses:
            by_section.setdefault(_section_of(nodes, i), []).append(i)
        ranks = {section: _commonest_rank(nodes, members) for section, members in by_section.items()}
        # 保障措施, 组织实施…: their items are tasks only at the document's own task rank (a
        # department named for 加强组织领导 does not make the section's other ranks tasks)
        ranks = {section: r for section, r in ranks.items()
                 if r == rank or not _NON_SUBSTANTIVE_RE.match(nodes[section].title)}
        if not ranks:  # only such sections: the document's rank in those holding it, as ever
            ranks = {_section_of(nodes, i): rank for i in clauses if nodes[i].rank == rank}
        # a section between two with clauses is one of the plan's task sections whose tasks name
        # no department (not 总体要求 or 保障措施, which come before the first or after the last):
        # its tasks are at the document's rank
        first, last = min(ranks), max(ranks)
        for section, n in enumerate(nodes[first + 1:last], start=first + 1):
            if n.parent < 0 and section not in ranks and not _NON_SUBSTANTIVE_RE.match(n.title):
                ranks[section] = rank
        return [i for i, n in enumerate(nodes) if ranks.get(_section_of(nodes, i)) == n.rank]
    # a regulation (no responsibility clauses: a plan's tasks have them, even with a regulation
    # appended): its articles are its units, every one (附则's too: when it takes effect)
    articles = [i for i, n in enumerate(nodes) if n.rank == DIVISION_RANK["条"]]
    if articles:
        return articles
    top = [i for i, n in enumerate(nodes) if n.parent < 0]
    main = [i for i in top if _MAIN_TASK_RE.search(nodes[i].title)]
    if main:
        out: list[int] = []
        for m in main:
            todo = list(reversed(nodes[m].children))
            while todo:
                i = todo.pop()
                if nodes[i].children:
                    todo.extend(reversed(nodes[i].children))
                else:
                    out.append(i)
        out.sort()
        return out
    has_children = any(nodes[i].children for i in top)
    if has_children:
        picked = []
        for i in top:
            if _NON_SUBSTANTIVE_RE.match(nodes[i].title):
                continue
            picked.extend(nodes[i].children)
        return sorted(picked)
    return [i for i in top if not _NON_SUBSTANTIVE_RE.match(nodes[i].title)]


def build_tasks(
    nodes: list[Node], texts: list[str] | None = None, *, ascii_digits: bool = False
) -> list[dict[str, object]]:
    """The task list of the structure JSON; ``texts``: each node's text, when known already;
    ``ascii_digits``: the nodes hold no decimal digit but 0-9 (see find_targets)."""
    if texts is None:
        texts = [n.text for n in nodes]
    clauses: dict[int, str] = {}
    clause_at: dict[int, int] = {}  # where the clause's bracket opens in the node's own text
    for i, text in enumerate(texts):
        found = find_clause(text)
        if found is None and (end := closing_start(text)) < len(text):
            found = find_clause(text[:end])  # the last paragraph, before the document's closing lines
        if found is not None:
            clauses[i], clause_at[i] = found
    chosen = select_task_nodes(nodes, clauses)
    ctx = ClauseContext()
    roles_of: dict[int, tuple[list[str], list[str], list[str]]] = {}
    for i in clauses:  # filled in node order, as sorted() gave them
        r = parse_clause(clauses[i], ctx)
        roles_of[i] = (r.lead, r.responsible, r.implementing)
    tasks: list[dict[str, object]] = []
    for ordinal, i in enumerate(chosen, start=1):
        n = nodes[i]
        full = subtree_text(nodes, i) if n.children else texts[i]
        cut = len(n.label) if full.startswith(n.label) else 0
        body = full[cut:]
        body = body[:closing_start(body)]
        clause = clauses.get(i)
        if clause is not None:
            lead, responsible, implementing = roles_of[i]
        elif ctx.carried or ctx.first_leads:
            lead, responsible, implementing = [], [], list(ctx.carried.get("implementing", []))
        else:
            lead, responsible, implementing = [], [], []
        target_text = body
        if clause is not None:
            if not n.children and clause_at[i] >= cut:
                # body is the node's text less a prefix that the clause search never reached:
                # find_clause(body) finds the same bracket, cut characters earlier.
                target_text = body[: clause_at[i] - cut]
            else:
                found = find_clause(body)
                if found is not None:
                    target_text = body[: found[1]]
        tasks.append(
            {
                "ordinal": ordinal,
                "label": n.label,
                "path": list(n.path),
                "section": n.path[0],
                "title": n.title,
                "text": body,
                "clause": clause,
                "lead": list(lead),
                "responsible": list(responsible),
                "implementing": list(implementing),
                "targets": find_targets(target_text, ascii_digits=ascii_digits),
            }
        )
    return tasks
