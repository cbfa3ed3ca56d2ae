"""The heading hierarchy of a document (一、 → (一) → 1. → (1) → ①, and a regulation's
第一章 → 第一节 → 第一条 above them) as a flat list of nodes."""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field

from .labels import ATTACHMENT_LINE_RE, SENTENCE_END, Label, heading_body_only, match_division, match_label

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Node:
    """One heading: canonical label, kind rank, depth level, title, own text and children indexes."""

    label: str
    rank: int
    level: int
    title: str
    path: list[str]
    lines: list[str] = field(default_factory=list)
    parent: int = -1
    children: list[int] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def as_dict(self, text: str | None = None) -> dict[str, object]:
        """The outline entry; ``text``: self.text when the caller has it already."""
        return {"label": self.label, "level": self.level, "title": self.title,
                "text": self.text if text is None else text, "path": list(self.path)}


def heading_title(rest: str) -> str:
    """A heading's title: its first sentence (without the end mark), or the whole heading line."""
    cut = len(rest)
    for mark in SENTENCE_END:
        k = rest.find(mark, 0, cut)  # only an earlier mark can move the cut
        if k >= 0:
            cut = k
    title = rest[:cut].strip()
    return title.rstrip(":").rstrip(":").strip()


# A notice's list of attachments: "附件:1.申报指南" and then "2.申报表" on lines of their own.
# Those numbered lines name files; they are no headings of the text above them.
_LIST_ENTRY_RE = re.compile(r"^(\d{1,2})\s*[.、]")
_LIST_ENTRY_MAX = 80  # characters: a file's name, not a paragraph


def _attachment_entries(lines: list[str]) -> set[int]:
    """Indexes of the lines that continue an attachment list (2., 3. … after 附件:1.)."""
    out: set[int] = set()
    index = 0
    while index < len(lines):
        rest = lines[index][2:].lstrip(" :\uff1a")
        first = _LIST_ENTRY_RE.match(rest)
        if not ATTACHMENT_LINE_RE.match(lines[index]) or (rest and not first):
            index += 1  # not an attachment line, or one naming a single file (附件:申报指南)
            continue
        expected = 2 if first else 1
        index += 1
        while index < len(lines):
            m = _LIST_ENTRY_RE.match(lines[index])
            if m is None or int(m.group(1)) != expected or len(lines[index]) > _LIST_ENTRY_MAX \
                    or "。" in lines[index]:
                break
            out.add(index)
            expected += 1
            index += 1
    return out


def build_outline(lines: list[str]) -> tuple[list[Node], list[str]]:
    """Nodes in document order and the lines before the first heading (the preamble)."""
    nodes: list[Node] = []
    preamble: list[str] = []
    stack: list[int] = []  # indexes of open nodes, ranks strictly increasing
    divisions = _divisions(lines)
    listed = _attachment_entries(lines) if any(line.startswith("附件") for line in lines) else ()
    for index, line in enumerate(lines):
        label = None if index in listed else divisions.get(index) or match_label(line)
        if label is None:
            if nodes:
                nodes[-1].lines.append(line)
            else:
                preamble.append(line)
            continue
        while stack and nodes[stack[-1]].rank >= label.rank:
            stack.pop()
        rest = line[label.end:]
        body = rest.rstrip("。")
        title = body.strip() if heading_body_only(body) else heading_title(rest)  # heading_only()
        parent = stack[-1] if stack else -1
        path = (nodes[parent].path if parent >= 0 else []) + [label.text]
        # Positional (label, rank, level, title, path, lines, parent): keywords cost more.
        node = Node(label.text, label.rank, len(stack) + 1, title, path, [line], parent)
        idx = len(nodes)
        nodes.append(node)
        if parent >= 0:
            nodes[parent].children.append(idx)
        stack.append(idx)
    return nodes, preamble


def _divisions(lines: list[str]) -> dict[int, Label]:
    """The lines that head a chapter, section or article: of each kind, only when the text has at
    least two (a lone line starting 第五条 is a sentence about an article, not a regulation)."""
    found = {i: label for i, line in enumerate(lines) if (label := match_division(line))}
    count = Counter(label.rank for label in found.values())
    return {i: label for i, label in found.items() if count[label.rank] >= 2}


def subtree_text(nodes: list[Node], idx: int) -> str:
    """The text of a node and all its descendants, in document order."""
    out: list[str] = []
    todo = [idx]
    while todo:
        i = todo.pop()
        out.extend(nodes[i].lines)
        todo.extend(reversed(nodes[i].children))
    return "\n".join(out)
