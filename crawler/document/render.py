"""Render a structure JSON as plain text for `policywatch show`."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

_META_FIELDS = (
    ("title", "标题"), ("issuer", "发布机构"), ("doc_number", "文号"), ("signed_on", "成文日期"),
    ("published", "发布日期"), ("validity", "有效性"), ("kind", "类型"), ("series_key", "系列"),
    ("year", "年份"), ("attached_title", "印发文件"),
)
_PROPOSAL_FIELDS = (
    ("proposal_type", "类型"), ("addressee", "提出人"), ("role", "身份"), ("proposal_title", "题目"),
    ("proposal_number", "编号"), ("session", "会议"), ("result_class", "办理结果"), ("signed_by", "答复单位"),
    ("signed_on", "答复日期"),
)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_structure(structure: dict[str, Any]) -> str:
    """Plain text: metadata, outline tree, tasks with departments by role and targets, injected content."""
    out: list[str] = []
    meta = structure.get("metadata") or {}
    out.append("== 元数据 metadata ==")
    for key, name in _META_FIELDS:
        value = meta.get(key)
        if value not in (None, "", []):
            out.append(f"{name} ({key}): {value}")
    if meta.get("repost_of_third_party"):
        out.append("转载 (repost_of_third_party): 是 — 第三方网站转载")
    proposal = meta.get("proposal")
    if proposal:
        out.append("-- 提案/建议答复 proposal reply --")
        for key, name in _PROPOSAL_FIELDS:
            value = proposal.get(key)
            if value not in (None, "", []):
                out.append(f"  {name} ({key}): {value}")
        if proposal.get("consulted"):
            out.append(f"  会办单位 (consulted): {'、'.join(proposal['consulted'])}")
        contact = proposal.get("contact")
        if contact:
            out.append(f"  联系人 (contact): {contact.get('name') or ''} {contact.get('phone') or ''}".rstrip())
    outline = structure.get("outline") or []
    out.append("")
    out.append(f"== 目录 outline ({len(outline)}) ==")
    for node in outline:
        level = int(node.get("level") or 1)
        out.append(f"{'  ' * (level - 1)}{_heading(node.get('label', ''), node.get('title', ''))}")
    tasks = structure.get("tasks") or []
    out.append("")
    out.append(f"== 任务 tasks ({len(tasks)}) ==")
    for task in tasks:
        out.append(f"{task.get('ordinal')}. {_heading(task.get('label', ''), task.get('title', ''))}  [{'/'.join(task.get('path') or [])}]")
        for role, name in (("lead", "牵头"), ("responsible", "负责"), ("implementing", "落实")):
            names = task.get(role) or []
            if names:
                out.append(f"     {name} ({role}): {'、'.join(names)}")
        for t in task.get("targets") or []:
            out.append(f"     目标 (target): {t.get('number')}{t.get('unit')} {t.get('what') or ''} — {t.get('text')}")
    injected = structure.get("injected") or []
    out.append("")
    out.append(f"== 注入内容 injected ({len(injected)}) ==")
    for item in injected:
        out.append(f"! [{item.get('kind')}] @{item.get('where')}: {_short(item.get('text', ''), 80)}")
    return "\n".join(out) + "\n"


def _heading(label: str, title: str) -> str:
    """一、总体要求 and (一)加快… run on; 第一章 总则 and 第四条 … take a space, as printed."""
    space = " " if label[-1:] in "编章节条" else ""
    return f"{label}{space}{_short(title)}"
