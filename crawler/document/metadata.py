"""Document metadata: title, issuer, 文号, dates, validity, kind, series key, proposal-reply fields."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from .chars import normalize_line
from .clean import Cleaned
from .dates import parse_date
from .departments import distribute
from .injected import title_inline
from .labels import DOC_NUMBER_RE, is_date_line, is_doc_number_line, match_label

logger = logging.getLogger(__name__)

_WRAPPED_NOTICE_RE = re.compile(r"^(?P<issuer>.*?)关于(?:印发|转发|发布|颁布)(?P<inner>.+?)的(?:通知|通告|决定)$")
_WRAPPED_OPEN_RE = re.compile(r"^(?P<issuer>.*?)关于(?:印发|转发|发布)(?P<inner>.+)$")
_ISSUER_PREFIX_RE = re.compile(r"^(?P<issuer>.{2,40}?)关于")
_ADDRESSEE_RE = re.compile(r"^(?:尊敬的)?(?P<name>[^,。;:,]{1,30}?)(?P<role>委员|代表)(?:们)?[::]$")
_PROPOSAL_TITLE_RE = re.compile(r"提出的《(?P<t>[^》]{2,120})》|提出的(?P<u>关于[^,。;()]{2,120}?的(?:提案|建议))")
_PROPOSAL_NO_RE = re.compile(r"第(?P<n>\d{5,12})号")
# Shorter numbers ("第1234号", provincial sessions number from 1) only where they name the
# proposal itself: before 建议/提案, or in brackets after its title.
_PROPOSAL_NO_NAMED_RES = (
    re.compile(r"第(?P<n>\d{1,12})号(?:代表|委员)?(?:建议|提案)"),
    re.compile(r"[((]第(?P<n>\d{1,12})号[))]"),
)
_SESSION_RE = re.compile(
    r"(?:[省市区县]|全国)?(?:政协|人大)?(?:第)?[一二三四五六七八九十]{1,3}届(?:全国)?(?:政协|人大)?(?:常委会)?"
    # the formal names: 政协第十三届广东省委员会第一次会议, …第十四届人民代表大会第一次会议
    r"(?:[\u4e00-\u9fff]{0,8}?(?:委员会|人民代表大会(?:常务委员会)?))?"
    r"(?:第)?[一二三四五六七八九十]{1,3}次(?:全体)?会议"
)
_CONSULTED_RES = (
    re.compile(r"经(?:综合|征求|商)(?:了)?(?P<u>[^。;]{2,300}?)等(?:有关)?(?:单位|部门)(?:的)?意见"),
    re.compile(r"会同(?P<u>[^。;]{2,400}?)(?:进行了?|作了|做了)?"
               r"(?:认真研究办理|研究办理|共同研究|认真研究|进行研究|共同办理)"),
    re.compile(r"(?:综合|征求)了?(?P<u>[^。;]{2,300}?)等(?:有关)?(?:单位|部门)(?:的)?意见"),
)
# Looser phrasings, taken only when every unit they name reads as an agency (ends in 局, 委, 厅…):
# "并商X、Y,现答复如下", "经商X同意", "经与X共同研究", "由我局主办,X、Y会办", "征求X、Y意见".
_CONSULTED_LOOSE_RES = (
    re.compile(r"[并经]商(?P<u>[^。;:,]{2,300}?)(?:同意)?[,。]"),
    re.compile(r"经?与(?P<u>[^。;:,]{2,300}?)(?:共同|一起|认真)研究"),
    re.compile(r"主办[,,](?P<u>[^。;:]{2,300}?)(?:为)?(?:会办|协办)"),
    re.compile(r"(?:会办|协办)单位[::为](?P<u>[^。;:]{2,300}?)(?:[。;\n]|$)"),
    re.compile(r"(?:综合|征求)了?(?P<u>[^。;:,]{2,300}?)(?:的)?意见"),
)
_CONTACT_RE = re.compile(
    r"联系人(?:及电话|及联系电话|和电话)?[::]?\s?(?P<name>[\u4e00-\u9fff]{2,4})[\s,,;;、]*"
    r"(?:联系)?(?:电话|手机|方式)?[::]?\s?(?P<phone>[0-9][0-9\-—() ]{5,24}[0-9])"
)
# Every alternative opens with a literal, so that search() skips through a line by its first
# character: the letter-before check of "A类" comes after the letter (was a leading look-behind).
_RESULT_CLASS_RE = re.compile(
    r"答复类别[::]?\s?(?P<c1>[ABC])类?|办理结果[::]?\s?(?P<c2>[ABC])类?|类别[::]?\s?(?P<c3>[ABC])类?"
    r"|A(?<![A-Za-z]A)类(?:答复|办理)?|B(?<![A-Za-z]B)类(?:答复|办理)?|C(?<![A-Za-z]C)类(?:答复|办理)?"
)
_VALIDITY_RE = re.compile(r"^(?:有效性|时效性|时效|效力|效力状态|文件状态|状态|是否有效)[::]?(?P<v>有效|失效|已失效|废止|已废止|尚未生效)$")
_VALIDITY_WORDS = ("已废止", "废止", "已失效", "失效", "尚未生效", "有效")
_AGENCY_SUFFIX_RE = re.compile(r"(?:厅|局|委|办公厅|办公室|政府|委员会|院|部|中心|小组|办|署|会)$")
_YEAR_RE = re.compile(r"(?<!\d)(20\d{2}|19\d{2})(?!\d)")
_SERIES_STRIP_RES = (
    # (2021—2025年), (2023年版), in either width of bracket
    re.compile(r"[(\uff08][^()\uff08\uff09]{0,20}?\d{4}[^()\uff08\uff09]{0,20}[)\uff09]"),
    re.compile(r"\d{4}\s?(?:[-—–~至到]\s?\d{4}\s?)?年(?:度)?(?:版)?"),
    re.compile(r"[〇零一二三四五六七八九]{4}年(?:度)?"),  # 二〇二四年
    # a five-year plan's period: “十四五” and “十五五” are editions of one series
    re.compile(r"[“\"]十[一二三四五六七八九]五[”\"](?:时期|期间)?|十[一二三四五六七八九]五(?=规划|时期|期间)"),
    re.compile(r"(?:第[一二三四五六七八九十\d]+版|\d+(?:\.\d+)?版|修订版|修订稿)"),
)
_DOC_CODE_ISSUERS = {
    "粤工信": "广东省工业和信息化厅",
    "粤府": "广东省人民政府",
    "粤府办": "广东省人民政府办公厅",
    "粤办": "广东省人民政府办公厅",
    "粤发改": "广东省发展和改革委员会",
    "粤科": "广东省科学技术厅",
    "粤商务": "广东省商务厅",
    "穗府": "广州市人民政府",
    "穗府办": "广州市人民政府办公厅",
    "穗工信": "广州市工业和信息化局",
}
_DOC_CODES_LONGEST_FIRST = sorted(_DOC_CODE_ISSUERS, key=len, reverse=True)
# A title's last word decides, after a bracketed 试行/暂行/year span: 关于印发《…办法》的通知 is
# a notice (the document that issues the regulation), 广州市…管理办法(试行) a regulation.
_TRAILING_BRACKET = r"(?:[(\uff08][^()\uff08\uff09]{1,16}[)\uff09])?$"
_KIND_RULES = (
    ("work_points", re.compile(r"工作要点")),
    ("action_plan", re.compile(r"行动方案|行动计划|实施方案|工作方案|分工方案|三年行动")),
    ("notice", re.compile(r"通知$|通告$|公告$")),
    # 《…若干措施》政策解读, 一图读懂《…条例》: about a document, not the document
    ("interpretation", re.compile(r"解读|一图读懂|图解")),
    ("regulation", re.compile(r"(?:条例|办法|规定|细则|规则|规程|守则)" + _TRAILING_BRACKET)),
    ("measures", re.compile(r"若干措施|若干政策|政策措施|(?:措施|举措)" + _TRAILING_BRACKET)),
    ("opinion", re.compile(r"意见" + _TRAILING_BRACKET)),
    ("plan", re.compile(r"(?:规划|规划纲要)" + _TRAILING_BRACKET)),
)
# every kind a document can be given (metadata["kind"]); `documents list --kind` offers these
KINDS = (*(kind for kind, _ in _KIND_RULES), "proposal_reply", "other")
_PM_KEYS = {
    "title": ("名称", "标题", "文件名称", "title"),
    "issuer": ("发布机构", "发文机关", "发文单位", "发布单位", "来源机构"),
    "doc_number": ("文号", "发文字号", "发文文号"),
    "signed_on": ("成文日期", "成文时间", "印发日期"),
    "published": ("发布日期", "发布时间", "PubDate", "pubdate", "公开日期", "时间"),  # 时间: an info line's
    "validity": ("有效性", "时效性", "效力状态", "效力", "是否有效", "状态"),
}
_TITLE_SITE_SUFFIX_RE = re.compile(r"\s?[-_|—]\s?[^-_|—]{0,30}(?:网站|门户|政府网|网)$")


def _pm(page_metadata: dict[str, str] | None, field: str) -> str | None:
    if not page_metadata:
        return None
    for key in _PM_KEYS[field]:
        v = page_metadata.get(key)
        if v and v.strip():
            return normalize_line(v)
    return None


def normalize_doc_number(text: str) -> tuple[str, str | None] | None:
    """A 文号 in canonical form (brackets → 〔〕, no spaces) and a trailing result class, if any."""
    m = DOC_NUMBER_RE.search(text.replace(" ", ""))
    if m is None:
        return None
    number = f"{m.group('code')}〔{m.group('year')}〕{int(m.group('num'))}号"
    tail = text.replace(" ", "")[m.end():m.end() + 2]
    cls = tail[0] if tail[:1] in ("A", "B", "C") else None
    return number, cls


def _clean_title(title: str) -> str:
    t, _ = title_inline(title)
    t = _TITLE_SITE_SUFFIX_RE.sub("", t) if len(t) > 12 else t
    return t.strip()


def header_lines(lines: list[str]) -> list[str]:
    """Lines before the first prose line (title, 文号, subtitle)."""
    out: list[str] = []
    for line in lines[:12]:
        if "。" in line or line.endswith(":") or ("," in line and len(line) >= 20) or match_label(line):
            break
        out.append(line)
    return out


def series_key(title: str | None) -> str | None:
    """The title without its year or edition and without a 关于印发…的通知 wrapper."""
    if not title:
        return None
    t = title
    m = _WRAPPED_NOTICE_RE.match(t) or _WRAPPED_OPEN_RE.match(t)
    if m is not None:
        t = m.group("inner")
    t = t.strip("《》")
    for rx in _SERIES_STRIP_RES:
        t = rx.sub("", t)
    t = t.replace("《", "").replace("》", "").strip()
    return t or None


def _kind_from_title(title: str | None) -> str:
    if not title:
        return "other"
    if _WRAPPED_NOTICE_RE.match(title):
        return "notice"
    for kind, rx in _KIND_RULES:
        if rx.search(title):
            return kind
    return "other"


def _signature(lines: list[str]) -> tuple[str | None, str | None]:
    """(signing agency, signing date) from the first standalone date line and the line above it."""
    for i, line in enumerate(lines):
        if is_date_line(line):
            agency = None
            if i > 0:
                prev = lines[i - 1]
                if len(prev) <= 30 and _AGENCY_SUFFIX_RE.search(prev) and not any(c in prev for c in "。,,;:"):
                    agency = prev
            return agency, parse_date(line)
    return None, None


def _consulted(text: str) -> list[str]:
    for rx in _CONSULTED_RES:
        m = rx.search(text)
        if m is None:
            continue
        units = [u.strip().rstrip("等") for u in re.split(r"[、,,]", m.group("u")) if u.strip()]
        units = [u for u in units if 1 < len(u) <= 40]
        if units:
            return distribute(units)
    for rx in _CONSULTED_LOOSE_RES:
        for m in rx.finditer(text):
            units = [u.strip() for u in re.split(r"[、,,]", m.group("u").removesuffix("等")) if u.strip()]
            units = distribute(units) if units else []
            if units and all(1 < len(u) <= 40 and _AGENCY_SUFFIX_RE.search(u) for u in units):
                return units
    return []


def _proposal(
    lines: list[str], header: list[str], title: str | None, doc_cls: str | None,
    signature: tuple[str | None, str | None],
) -> dict[str, Any] | None:
    start = len(header)
    addressee = role = None
    for line in lines[start:start + 4]:
        m = _ADDRESSEE_RE.match(line)
        if m is not None:
            addressee, role = m.group("name"), m.group("role")
            break
    head_text = "\n".join(lines[start:start + 6])
    if addressee is None and not (title and "答复" in title and ("提案" in title or "建议" in title)):
        return None
    if addressee is None and "收悉" not in head_text:
        return None
    ptitle = None
    m = _PROPOSAL_TITLE_RE.search(head_text)
    if m is not None:
        ptitle = m.group("t") or m.group("u")
    number = next((n.group("n") for rx in (*_PROPOSAL_NO_NAMED_RES, _PROPOSAL_NO_RE)
                   for src in (head_text, title or "") if (n := rx.search(src)) is not None), None)
    ptype = {"委员": "提案", "代表": "建议"}.get(role or "")
    if ptype is None:
        for src in (ptitle or "", title or "", head_text):
            if "提案" in src:
                ptype = "提案"
                break
            if "建议" in src:
                ptype = "建议"
                break
    session = None
    for src in (title or "", head_text):
        for s in _session_matches(src):
            if "政协" in s.group(0) or "人大" in s.group(0) or "人民代表大会" in s.group(0):
                session = s.group(0)
                break
        if session:
            break
    result_class = doc_cls
    if result_class is None:
        for line in header + lines[-6:]:
            r = _RESULT_CLASS_RE.search(line)
            if r is not None:
                # The class letter: a named group, or the first character of "A类…".
                result_class = r.group("c1") or r.group("c2") or r.group("c3") or r.group(0)[0]
                break
    signed_by, signed_on = signature  # _signature(lines), already found by the caller
    contact = None
    for line in lines[-8:]:
        c = _CONTACT_RE.search(line)
        if c is not None:
            contact = {"name": c.group("name"), "phone": re.sub(r"\s", "", c.group("phone"))}
            break
    return {
        "proposal_type": ptype,
        "addressee": addressee,
        "role": role,
        "proposal_title": ptitle,
        "proposal_number": number,
        "session": session,
        "result_class": result_class,
        "consulted": _consulted(head_text),
        "signed_by": signed_by,
        "signed_on": signed_on,
        "contact": contact,
    }


def _session_matches(src: str) -> Iterator[re.Match[str]]:
    """_SESSION_RE.finditer(src), trying only the starts that can reach a 届.

    Every match has 届 within its first nine characters (at most eight of 省/全国, 政协/人大, 第 and
    numerals before it), so starts more than eight characters before the next 届 cannot match;
    finditer tried the pattern's optional prefixes at every character of the text.
    """
    pos = 0
    q = src.find("届")
    while q >= 0:
        for start in range(max(pos, q - 8), q):
            m = _SESSION_RE.match(src, start)
            if m is not None:
                yield m
                pos = m.end()
                break
        else:
            pos = q + 1  # a match never starts at a 届
        q = src.find("届", pos)


def _published_from_page(c: Cleaned) -> str | None:
    for kind, line in c.chrome:
        if kind in ("source_time", "counter") and ("时间" in line or "日期" in line):
            d = parse_date(line.split("时间", 1)[-1] if "时间" in line else line.split("日期", 1)[-1])
            if d:
                return d
    for line in c.repost_header:
        m = re.match(r"^(\d{4}年\d{1,2}月\d{1,2}日)[,,]?(?:据|消息|讯)", line)
        if m is not None:
            return parse_date(m.group(1))
    return None


def _validity(c: Cleaned, header: list[str]) -> str | None:
    for line in header + [line for _, line in c.chrome]:
        m = _VALIDITY_RE.match(line.replace(" ", ""))
        if m is not None:
            return m.group("v").lstrip("已")
    return None


def extract_metadata(
    c: Cleaned, *, title: str | None = None, page_metadata: dict[str, str] | None = None
) -> dict[str, Any]:
    """The metadata block of the structure JSON."""
    lines = c.lines
    header = header_lines(lines)
    attached_title = None
    issuer = _pm(page_metadata, "issuer")
    cand = _pm(page_metadata, "title") or (_clean_title(title) if title else None)
    if cand is None:
        cand = next((h for h in header if not is_doc_number_line(h) and not is_date_line(h)), None)
    doc_title = cand
    kind: str | None = None
    if cand:
        m = _WRAPPED_NOTICE_RE.match(cand)
        if m is not None:
            attached_title = m.group("inner").strip("《》")
            issuer = issuer or (m.group("issuer") or None)
            kind = "notice"
        else:
            o = _WRAPPED_OPEN_RE.match(cand)
            if o is not None and o.group("inner") in lines[:12]:
                # The page title wraps the document itself ("…关于印发2023年…工作要点"): the
                # document is the inner text, issued by the wrapper's issuer.
                doc_title = o.group("inner")
                issuer = issuer or (o.group("issuer") or None)
            elif o is not None:
                attached_title = o.group("inner").strip("《》")
                issuer = issuer or (o.group("issuer") or None)
                kind = "notice"
    if doc_title and issuer is None:
        p = _ISSUER_PREFIX_RE.match(doc_title)
        if p is not None and _AGENCY_SUFFIX_RE.search(p.group("issuer")):
            issuer = p.group("issuer")
    # 文号: the metadata table, else a standalone line near the top (never one cited in the body).
    doc_number = None
    doc_cls = None
    pm_no = _pm(page_metadata, "doc_number")
    if pm_no:
        parsed = normalize_doc_number(pm_no)
        if parsed:
            doc_number, doc_cls = parsed
    if doc_number is None:
        for line in lines[:15]:
            if is_doc_number_line(line.replace(" ", "")):
                parsed = normalize_doc_number(line)
                if parsed:
                    doc_number, doc_cls = parsed
                    break
    signature = _signature(lines)
    signed_by, signed_on_text = signature
    signed_on = parse_date(_pm(page_metadata, "signed_on"), keep_time=False) or signed_on_text
    published = parse_date(_pm(page_metadata, "published")) or _published_from_page(c)
    validity = None
    pm_valid = _pm(page_metadata, "validity")
    if pm_valid:
        validity = next((w.lstrip("已") for w in _VALIDITY_WORDS if w in pm_valid), None)
    validity = validity or _validity(c, header)
    proposal = _proposal(lines, header, doc_title, doc_cls, signature)
    if proposal is not None:
        kind = "proposal_reply"
    if kind is None:
        kind = _kind_from_title(doc_title)
    if issuer is None:
        issuer = signed_by if signed_by and len(signed_by) > 6 else None
    if issuer is None and doc_number:
        code = DOC_NUMBER_RE.match(doc_number)
        if code is not None:
            c_ = code.group("code")
            for k in _DOC_CODES_LONGEST_FIRST:
                if c_.startswith(k):
                    issuer = _DOC_CODE_ISSUERS[k]
                    break
    if issuer is None and signed_by:
        issuer = signed_by
    skey = None if kind == "proposal_reply" else series_key(doc_title)
    year = None
    for src in (doc_title or "", signed_on or "", published or ""):
        y = _YEAR_RE.search(src)
        if y is not None:
            year = int(y.group(1))
            break
    return {
        "title": doc_title,
        "issuer": issuer,
        "doc_number": doc_number,
        "signed_on": signed_on,
        "published": published,
        "validity": validity,
        "kind": kind,
        "series_key": skey,
        "year": year,
        "attached_title": attached_title,
        "repost_of_third_party": bool(c.repost_header),
        "proposal": proposal,
    }
