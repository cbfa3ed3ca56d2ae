"""Departments: responsibility clauses parsed by role, 省/市 prefix distribution, rename aliases."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache

from .chars import normalize_line

logger = logging.getLogger(__name__)

# Renames and common abbreviations → the current name. Chains are followed to the end.
ALIASES: dict[str, str] = {
    "省政务服务数据管理局": "省政务服务和数据管理局",
    "省政务服务和数据管理局": "省政务和数据局",
    "广东省政务服务数据管理局": "广东省政务服务和数据管理局",
    "广东省政务服务和数据管理局": "广东省政务和数据局",
    "市政务服务数据管理局": "市政务服务和数据管理局",
    "市政务服务和数据管理局": "市政务和数据局",
    "广州市政务服务数据管理局": "广州市政务服务和数据管理局",
    "广州市政务服务和数据管理局": "广州市政务和数据局",
    "人民银行广州分行": "中国人民银行广东省分行",
    "中国人民银行广州分行": "中国人民银行广东省分行",
    "人民银行深圳中心支行": "中国人民银行深圳市分行",
    "中国人民银行深圳市中心支行": "中国人民银行深圳市分行",
    "广东银保监局": "国家金融监督管理总局广东监管局",
    "广东银保监局、广东证监局": "国家金融监督管理总局广东监管局",
    "省地方金融监管局": "省地方金融管理局",
    "市地方金融监管局": "市地方金融管理局",
    "省工信厅": "省工业和信息化厅",
    "广东省工信厅": "广东省工业和信息化厅",
    "市工信局": "市工业和信息化局",
    "广州市工信局": "广州市工业和信息化局",
    "省发改委": "省发展改革委",
    "市发改委": "市发展改革委",
    "省人社厅": "省人力资源社会保障厅",
    "市人社局": "市人力资源社会保障局",
    "省税务局": "国家税务总局广东省税务局",
    "省网信办": "省委网信办",
}

_ROLE_RE = re.compile(
    r"(?P<role>按职责分工负责|按职责分别负责|按职责负责|分工负责|共同负责|负责|牵头负责|牵头|结合实际落实|组织落实|"
    r"抓好落实|负责落实|落实|配合|参与|指导|督促|支持)$"
)
_ROLE_MAP = {
    "按职责分工负责": "responsible", "按职责分别负责": "responsible", "按职责负责": "responsible",
    "分工负责": "responsible", "共同负责": "responsible", "负责": "responsible", "牵头负责": "lead",
    "牵头": "lead", "结合实际落实": "implementing", "组织落实": "implementing", "抓好落实": "implementing",
    "负责落实": "implementing", "落实": "implementing", "配合": "responsible", "参与": "responsible",
    "指导": "responsible", "督促": "responsible", "支持": "responsible",
}
_FIRST_LEADS_RE = re.compile(r"^(?:排[在名]?)?第一(?:个|位|家)?(?:单位)?为牵头(?:单位|部门)?$|^排名第一的为牵头单位$")
_SAME_BELOW = frozenset({"下同", "以下同", "后同", "下略"})
_NO_PREFIX_STARTS = (
    "省", "市", "区", "县", "国家", "中国", "中央", "人民银行", "相关", "有关", "各", "广东", "全国", "全省", "全市",
    "驻", "海关", "其他", "其它", "部", "民航",
)
DEPT_SUFFIX_CHARS = frozenset("厅局委办部府院行会司署室处所校社队馆站心团盟")
# A department clause: at least one department-like word or a role word.
_DEPTISH_RE = re.compile(r"(?:厅|局|委|办|部|政府|银行|分行|支行|中心|院|会|公司|单位|部门|处室|科室)")
_KNOWN_ROLE_WORDS_RE = re.compile(r"牵头|负责|落实|配合|(?:单位|部门|处室|科室)\s*[::]")
# Role labels, as action plans of many provinces write their clauses: "牵头单位:省X厅",
# "责任单位:市X局、市Y委", "配合部门:…". The one vocabulary of them: tasks finds such clauses
# with ROLE_LABEL_RE, clean keeps their lines apart, _parse_segment reads the role.
_LABEL_ROLE = {"牵头": "lead", "主要责任": "responsible", "责任": "responsible", "配合": "responsible",
               "参与": "responsible", "协同": "responsible", "协办": "responsible", "实施": "implementing",
               "落实": "implementing"}
# A department's own work points name its offices: "责任处室:规划处", "牵头科室:…".
ROLE_LABEL = r"(?P<label>" + "|".join(_LABEL_ROLE) + r")(?:单位|部门|处室|科室)\s*[::]"
ROLE_LABEL_RE = re.compile(ROLE_LABEL)
_SEGMENT_LABEL_RE = re.compile("^" + ROLE_LABEL + r"\s*")
_BRACKETS_RE = re.compile(r"[(〔\[【《“)〕\]】》”]")


@dataclass
class Roles:
    """Departments of one clause by role, with the conventions it declares for later clauses."""

    lead: list[str] = field(default_factory=list)
    responsible: list[str] = field(default_factory=list)
    implementing: list[str] = field(default_factory=list)


@dataclass
class ClauseContext:
    """Rules carried from clause to clause by 下同 (first listed leads; units that always implement)."""

    first_leads: bool = False
    carried: dict[str, list[str]] = field(default_factory=dict)


def canonical_department(name: str) -> str:
    """The current name of a department, through the rename/abbreviation table (spaces, widths folded)."""
    n = normalize_line(name or "").replace(" ", "")
    seen = 0
    while n in ALIASES and seen < 8:
        n = ALIASES[n]
        seen += 1
    return n


# One compiled splitter per separator set: building the pattern text and looking it up in re's
# cache on every call cost more than the split itself.
_SPLIT_RES: dict[str, re.Pattern[str]] = {}


def _split_top(text: str, seps: str) -> list[str]:
    """Split on any of ``seps`` outside brackets."""
    if not _BRACKETS_RE.search(text):
        if len(seps) == 1:
            return [q for p in text.split(seps) if (q := p.strip())]
        rx = _SPLIT_RES.get(seps)
        if rx is None:
            rx = _SPLIT_RES[seps] = re.compile("[" + re.escape(seps) + "]")
        return [q for p in rx.split(text) if (q := p.strip())]
    parts: list[str] = []
    depth = 0
    buf: list[str] = []
    for ch in text:
        if ch in "(〔[【《“":
            depth += 1
        elif ch in ")〕]】》”" and depth:
            depth -= 1
        if ch in seps and depth == 0:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return [p.strip() for p in parts if p.strip()]


def _prefix_of(name: str) -> str | None:
    """省委, 省, 市委 or 市 when the name starts with it."""
    first = name[:1]
    if first != "省" and first != "市":
        return None
    return first + "委" if name[1:2] == "委" else first


def distribute(names: list[str]) -> list[str]:
    """Spread a written-once prefix over a 、-run: 省发展改革委、科技厅 → 省发展改革委, 省科技厅;
    广州、深圳市政府 → 广州市政府, 深圳市政府."""
    out = list(names)
    if len(out) < 2:
        return out
    # Trailing "市政府" style suffix shared by bare place names: 广州、深圳、韶关市政府.
    last = out[-1]
    k = last.find("市")
    if 0 < k <= 4:
        suffix = last[k:]
        for i in range(len(out) - 1):
            n = out[i]
            if 1 <= len(n) <= 4 and DEPT_SUFFIX_CHARS.isdisjoint(n) and not n.endswith("市"):
                out[i] = n + suffix
    prefix: str | None = None
    for i, n in enumerate(out):
        p = _prefix_of(n)
        if p is not None:
            prefix = p
            continue
        if prefix and not n.startswith(_NO_PREFIX_STARTS) and n[-1:] in DEPT_SUFFIX_CHARS and "市" not in n[:4]:
            out[i] = prefix + n
    return out


def looks_like_clause(text: str) -> bool:
    """Does a bracketed text read like a responsibility clause (departments, role words)?"""
    if not text or len(text) > 400 or "。" in text:
        return False
    if _KNOWN_ROLE_WORDS_RE.search(text):
        return bool(_DEPTISH_RE.search(text))
    # A bare list of departments ("省科技厅、工业和信息化厅") also counts.
    items = _split_top(text, "、,,;")
    return bool(items) and all(len(i) <= 30 and i[-1:] in DEPT_SUFFIX_CHARS for i in items)


def _strip_role(seg: str) -> tuple[str, str | None]:
    m = _ROLE_RE.search(seg)
    if m is None:
        return seg, None
    return seg[: m.start()].rstrip("等"), _ROLE_MAP[m.group("role")]


@lru_cache(maxsize=4096)
def _parse_segment(seg: str) -> tuple[tuple[str, ...], str | None]:
    """The departments of one clause segment and their role. Kept for the last few thousand
    segments: the same few dozen departments and role phrases recur across the tasks of a
    document and across the documents of a site."""
    labelled = _SEGMENT_LABEL_RE.match(seg)
    if labelled is not None:
        body, role = _strip_role(seg[labelled.end():])
        role = role or _LABEL_ROLE[labelled.group("label")]
    else:
        body, role = _strip_role(seg)
    # _split_top's parts are stripped and never empty.
    names = distribute([n.rstrip("等") for n in _split_top(body, "、")])
    return tuple(n for n in names if n), role


def parse_clause(clause: str, ctx: ClauseContext | None = None) -> Roles:
    """Parse a responsibility clause into lead / responsible / implementing departments.

    ``ctx`` carries 下同 rules between the clauses of one document and is updated in place.
    """
    ctx = ctx if ctx is not None else ClauseContext()
    roles = Roles()
    segments = _split_top(clause, ",,;;")
    first_leads = ctx.first_leads
    unassigned: list[str] = []
    parsed: list[tuple[list[str], str | None]] = []
    for i, seg in enumerate(segments):
        if seg in _SAME_BELOW or seg.startswith("下同"):
            # 下同 carries the previous rule or unit to every later clause.
            if i >= 1 and _FIRST_LEADS_RE.match(segments[i - 1]):
                ctx.first_leads = True
            elif parsed:
                names, role = parsed[-1]
                if role is not None:
                    ctx.carried.setdefault(role, [])
                    for n in names:
                        if n not in ctx.carried[role]:
                            ctx.carried[role].append(n)
            continue
        if _FIRST_LEADS_RE.match(seg):
            first_leads = True
            parsed.append(([], None))
            continue
        names, role = _parse_segment(seg)
        parsed.append((list(names), role))
    # Units without a role word take the role of the next segment that has one if it is
    # 按职责分工负责-like, else count as responsible ("省委宣传部,省文化和旅游厅按职责分工负责").
    for names, role in parsed:
        if role is None:
            unassigned.extend(names)
            continue
        bucket = getattr(roles, role)
        if unassigned and role == "responsible":
            bucket.extend(unassigned)
            unassigned = []
        elif unassigned:
            roles.responsible.extend(unassigned)
            unassigned = []
        bucket.extend(names)
    roles.responsible.extend(unassigned)
    if first_leads and not roles.lead:
        everyone = roles.responsible
        if everyone:
            roles.lead.append(everyone.pop(0))
    for role, names in ctx.carried.items():
        bucket = getattr(roles, role)
        for n in names:
            if n not in bucket:
                bucket.append(n)
    for bucket in (roles.lead, roles.responsible, roles.implementing):
        if len(bucket) > 1:
            bucket[:] = dict.fromkeys(bucket)  # first occurrence of each name, in order
    return roles
