"""The replica's documents: five seeds rendered verbatim plus deterministic fillers, per release.

Sites (names used everywhere in the replica): ``gd`` (www.gd.gov.cn), ``gdii`` (gdii.gd.gov.cn),
``gz`` (www.gz.gov.cn), ``gxj`` (gxj.gz.gov.cn).

Seeds (text from ``replica/data/seeds``, one ``<p>`` per non-blank line, unchanged; the seeds' own
chrome and spam lines stay in the body, title and metadata are also put into the page's title and
metadata table):

- ``000`` post 4183912 on gdii (notice list + gkmlpt category 3): reply to CPPCC proposal
  第20230647号, 广东省工业和信息化厅, signed and published 2023-06-06.
- ``001`` post 4152288 on gdii (notice list + gkmlpt category 2): 2023年广东省数字经济工作要点,
  published 2023-04-01, with a PDF attachment.
- ``002`` post 3436717 on gdii (notice list + gkmlpt category 3): reply to 第20210137号,
  粤工信案函〔2021〕253号, signed 2021-07-16, published 2021-07-21 18:05:34, 买球 spam kept.
- ``003`` post 4287029 on gd (document library ``/zwgk/wjk/qbwj/yfb/`` + gkmlpt category 5):
  粤办函〔2023〕297号 "数字湾区" 三年行动方案, signed 2023-11-07, published 2023-11-21.
- ``004`` post 8320516 on gxj (``/zw/zfxxgkml/xxgkml/rddbjyhzxta/``): Guangzhou reply to NPC
  suggestion 第20222187号, 2022-05-30; served GBK-encoded.

Fillers (``replica/data/filler.json``): 14 on gd, 15 on gdii, 13 on gz, 12 on gxj, all dated
before 2024-04-01, so that every HTML list has two pages of 10 and gd category 5 / gdii category 2
of the gkmlpt API have two pages of 10.

Release 0 is the baseline above.

Release 1 changes exactly two things (constants below name them for tests):

1. One new document on gdii, post ``NEW_POST_ID`` (4381500), title
   "广东省数字经济发展工作领导小组办公室关于印发2024年广东省数字经济工作要点", published
   2024-04-01, in the notice list (first item of page 1) and in gkmlpt category 2 (first
   article of page 1), with a PDF attachment. Its text is seed 001 with, in this order:
   every "2023" replaced by "2024"; the target in task (六) changed from "新增推动 5000 家" to
   "新增推动 6000 家"; the lead of task (十八) 推动制造业协同创新 changed from
   "(省工业和信息化厅牵头)" to "(省科技厅牵头)"; in task (二十四) 发展智慧医疗 the sentence
   part "推进检验检查结果共享平台建设" reworded to "加快建设检验检查结果互认共享平台"; the
   task (二十七) 发展数字住建 removed; a new task "发展数字物流" (``ADDED_TASK``) inserted after
   task (七) in section 二; then all tasks renumbered in order, so 数字物流 is (八), the old
   (八)…(二十六) become (九)…(二十七) and (二十八)…(三十四) keep their numbers (34 tasks).
2. Seed 000 (post 4183912, same URLs) is revised: in its 二、下一步工作计划 section the
   sentence fragment ``REVISED_OLD`` becomes ``REVISED_NEW`` (one sentence reworded).

Nothing else changes; the lists gain the new item at the top, which shifts their pagination.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cache
from importlib import resources

SITES = ("gd", "gdii", "gz", "gxj")
REAL_HOSTS = {"gd": "www.gd.gov.cn", "gdii": "gdii.gd.gov.cn", "gz": "www.gz.gov.cn", "gxj": "gxj.gz.gov.cn"}
SITE_NAMES = {"gd": "广东省人民政府门户网站", "gdii": "广东省工业和信息化厅", "gz": "广州市人民政府门户网站",
              "gxj": "广州市工业和信息化局"}
LIST_PATHS = {"gd": "/zwgk/wjk/qbwj/yfb/", "gdii": "/zwgk/tzgg1011/", "gz": "/zwgk/zcjd/",
              "gxj": "/zw/zfxxgkml/xxgkml/rddbjyhzxta/"}
SOURCE_NAMES = {"gd": "gd-wjk", "gdii": "gdii-notices", "gz": "gz-zcjd", "gxj": "gxj-replies"}
PAGE_SIZE = 10
RELEASES = (0, 1)

NEW_POST_ID = 4381500
NEW_TITLE = "广东省数字经济发展工作领导小组办公室关于印发2024年广东省数字经济工作要点"
REVISED_POST_ID = 4183912
REVISED_OLD = "稳步推进大湾区跨境贸易数据流动规则对接"
REVISED_NEW = "积极稳妥推进大湾区跨境贸易数据流动规则对接"
ADDED_TASK = ("  (八)发展数字物流。推动物流园区、港口、机场等物流枢纽数字化改造,加快建设省级智慧物流公共信息平台,"
              "推广应用无人仓储、无人配送等新技术新模式,培育一批数字物流示范企业。(省发展改革委牵头,"
              "省交通运输厅、商务厅按职责分工负责,相关市政府落实)")
TARGET_OLD, TARGET_NEW = "新增推动 5000 家", "新增推动 6000 家"
LEAD_TASK, LEAD_OLD, LEAD_NEW = "推动制造业协同创新", "(省工业和信息化厅牵头)", "(省科技厅牵头)"
REWORD_TASK, REWORD_OLD, REWORD_NEW = "发展智慧医疗", "推进检验检查结果共享平台建设", "加快建设检验检查结果互认共享平台"
REMOVED_TASK = "发展数字住建"

GKMLPT_SIDS = {"gd": "2", "gdii": "755"}
# (id, name, children); leaves get documents, parents count their children's.
GKMLPT_TREES = {
    "gd": [(1, "综合政务", [(5, "通知公告", [])]), (6, "规划信息", [])],
    "gdii": [(1, "综合政务", [(2, "通知公告", []), (3, "建议提案办理", [])]), (4, "政策解读", [])],
}
GKMLPT_CATEGORIES = {"gd": [5], "gdii": [2, 3]}

_CN_DIGITS = "零一二三四五六七八九"
_TASK_RE = re.compile(r"^(\s*)\(([一二三四五六七八九十]+)\)")
_SECTION_RE = re.compile(r"^\s*[一二三四五六七八九十]+、")
_MIME = {"pdf": "application/pdf", "doc": "application/msword",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "xls": "application/vnd.ms-excel",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "zip": "application/zip"}


@dataclass(frozen=True)
class AttachmentFile:
    """A file linked from a document page and served by the replica."""

    name: str
    path: str
    styled: bool = True  # a.nfw-cms-attachment with alt=name and link text 点击下载; else a plain link

    @property
    def mime(self) -> str:
        return _MIME[self.path.rsplit(".", 1)[-1]]


@dataclass(frozen=True)
class Document:
    """One document of the replica and everything its pages show."""

    site: str
    post_id: int
    title: str
    paragraphs: tuple[str, ...]
    kind: str
    publisher: str
    published: str  # "YYYY-MM-DD HH:MM:SS", China time
    signed: str | None = None
    doc_number: str | None = None
    identifier: str = ""
    category: str = ""
    category_id: int | None = None  # gkmlpt category, when the site runs the platform
    attachments: tuple[AttachmentFile, ...] = ()
    seed: str | None = None
    list_link: str = "post"  # "post" or "mpost": how the HTML list links it
    template: str = "classify"  # gd document library: "classify" or "introduce"
    subject: str = ""

    @property
    def date(self) -> str:
        return self.published[:10]

    @property
    def channel_path(self) -> str:
        return f"{LIST_PATHS[self.site]}content/post_{self.post_id}.html"

    @property
    def list_path(self) -> str:
        return f"{LIST_PATHS[self.site]}content/{self.list_link}_{self.post_id}.html"

    @property
    def gkmlpt_path(self) -> str | None:
        if self.category_id is None:
            return None
        pid = self.post_id
        return f"/gkmlpt/content/{pid // 1000000}/{pid // 1000}/post_{pid}.html"

    @property
    def paths(self) -> list[str]:
        """Every path the replica links this document under (list page link first)."""
        paths = [self.list_path]
        if self.gkmlpt_path:
            paths.append(self.gkmlpt_path)
        return paths

    @property
    def text(self) -> str:
        """The body as extraction should give it: one paragraph a line, runs of spaces collapsed."""
        return "\n".join(" ".join(line.split()) for line in self.paragraphs)


@dataclass
class Catalog:
    """All documents of one release, newest first."""

    release: int
    documents: list[Document] = field(default_factory=list)

    def site_documents(self, site: str) -> list[Document]:
        return [doc for doc in self.documents if doc.site == site]

    def find(self, site: str, post_id: int) -> Document | None:
        for doc in self.documents:
            if doc.site == site and doc.post_id == post_id:
                return doc
        return None

    def category_documents(self, site: str, category_id: int) -> list[Document]:
        ids = set(_subtree_ids(site, category_id))
        return [doc for doc in self.site_documents(site) if doc.category_id in ids]

    def attachment(self, site: str, path: str) -> tuple[Document, AttachmentFile] | None:
        for doc in self.site_documents(site):
            for attachment in doc.attachments:
                if attachment.path == path:
                    return doc, attachment
        return None


def _subtree_ids(site: str, category_id: int) -> list[int]:
    def walk(nodes: list, inside: bool) -> list[int]:
        found: list[int] = []
        for node_id, _name, children in nodes:
            hit = inside or node_id == category_id
            if hit:
                found.append(node_id)
            found.extend(walk(children, hit))
        return found

    return walk(GKMLPT_TREES.get(site, []), False)


def chinese_number(n: int) -> str:
    """1 -> 一, 10 -> 十, 21 -> 二十一 (1..99)."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _CN_DIGITS[ones]
    head = "" if tens == 1 else _CN_DIGITS[tens]
    return head + "十" + (_CN_DIGITS[ones] if ones else "")


def read_seed(prefix: str) -> tuple[str, str]:
    """Return (file name, text) of the seed whose name starts with prefix."""
    folder = resources.files("replica").joinpath("data", "seeds")
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.startswith(prefix):
            return entry.name, entry.read_text(encoding="utf-8")
    raise FileNotFoundError(f"no seed {prefix}")


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line for line in text.split("\n") if line.strip())


def _replace_once(line: str, old: str, new: str) -> str:
    if line.count(old) != 1:
        raise ValueError(f"expected exactly one {old!r} in {line[:30]!r}")
    return line.replace(old, new)


def _task_title(line: str) -> str:
    match = _TASK_RE.match(line)
    return line[match.end():].split("。", 1)[0] if match else ""


def derive_2024(text_2023: str) -> tuple[str, ...]:
    """Build the 2024 work points from seed 001 (see the module docstring for the exact edits)."""
    lines = [line.replace("2023", "2024") for line in _lines(text_2023)]
    out: list[str] = []
    skipping = False
    for line in lines:
        title = _task_title(line)
        if title or _SECTION_RE.match(line):
            skipping = False
        if title == REMOVED_TASK:
            skipping = True
        if skipping:
            continue
        if TARGET_OLD in line:
            line = _replace_once(line, TARGET_OLD, TARGET_NEW)
        if title == LEAD_TASK:
            line = _replace_once(line, LEAD_OLD, LEAD_NEW)
        if title == REWORD_TASK:
            line = _replace_once(line, REWORD_OLD, REWORD_NEW)
        out.append(line)
    anchor = next(i for i, line in enumerate(out) if _task_title(line) == "发展数字农业")
    out.insert(anchor + 1, ADDED_TASK)
    number = 0
    result: list[str] = []
    for line in out:
        match = _TASK_RE.match(line)
        if match:
            number += 1
            line = f"{match.group(1)}({chinese_number(number)}){line[match.end():]}"
        result.append(line)
    if number != 34:
        raise ValueError(f"2024 work points have {number} tasks, expected 34")
    return tuple(result)


def _attachment_path(post_id: int, index: int, ext: str) -> str:
    suffix = "" if index == 0 else f"_{index}"
    return f"/attachment/0/{post_id // 1000 % 1000}/{post_id % 1000}/{post_id}{suffix}.{ext}"


def _seed_documents() -> list[Document]:
    docs = []
    name, text = read_seed("000")
    docs.append(Document(
        site="gdii", post_id=4183912, title="关于省政协十三届一次会议第20230647号提案答复的函",
        paragraphs=_lines(text), kind="proposal_reply", publisher="广东省工业和信息化厅",
        published="2023-06-06 17:30:00", signed="2023-06-06", identifier="006940060/2023-00412",
        category="建议提案办理", category_id=3, seed=name))
    name, text = read_seed("001")
    docs.append(Document(
        site="gdii", post_id=4152288, title=_lines(text)[0].strip(), paragraphs=_lines(text),
        kind="work_points", publisher="广东省数字经济发展工作领导小组办公室", published="2023-04-01 10:12:00",
        signed="2023-03-31", identifier="006940060/2023-00288", category="通知公告", category_id=2,
        attachments=(AttachmentFile("2023年广东省数字经济工作要点.pdf", _attachment_path(4152288, 0, "pdf")),),
        seed=name))
    name, text = read_seed("002")
    docs.append(Document(
        site="gdii", post_id=3436717, title="关于省政协十二届四次会议第20210137号提案答复的函",
        paragraphs=_lines(text), kind="proposal_reply", publisher="广东省工业和信息化厅",
        published="2021-07-21 18:05:34", signed="2021-07-16", doc_number="粤工信案函〔2021〕253号",
        identifier="006940060/2021-00717", category="建议提案办理", category_id=3, seed=name))
    name, text = read_seed("003")
    docs.append(Document(
        site="gd", post_id=4287029, title="广东省人民政府办公厅关于印发“数字湾区”建设三年行动方案的通知",
        paragraphs=_lines(text), kind="action_plan", publisher="广东省人民政府办公厅",
        published="2023-11-21 17:00:00", signed="2023-11-07", doc_number="粤办函〔2023〕297号",
        identifier="006939748/2023-00297", category="通知公告", category_id=5, seed=name, template="introduce",
        subject="数字湾区"))
    name, text = read_seed("004")
    docs.append(Document(
        site="gxj", post_id=8320516, title="关于市十六届人大一次会议第20222187号建议答复的函",
        paragraphs=_lines(text), kind="proposal_reply", publisher="广州市工业和信息化局",
        published="2022-05-30 16:20:00", signed="2022-05-30", category="人大代表建议和政协提案办理", seed=name))
    return docs


@cache
def _filler_data() -> dict:
    raw = resources.files("replica").joinpath("data", "filler.json").read_text(encoding="utf-8")
    return json.loads(raw)


# per site: (number of fillers, newest date, days between documents, first post id, gkmlpt category)
_FILLER_PLAN = {
    "gd": (14, date(2024, 3, 15), 41, 3520000, 5),
    "gdii": (15, date(2024, 3, 20), 61, 3030000, 2),
    "gz": (13, date(2024, 3, 10), 45, 8010000, None),
    "gxj": (12, date(2023, 8, 20), 29, 8410000, None),
}


def _fill(template: str, values: dict[str, object]) -> str:
    return template.format(**values)


def _filler(site: str, index: int, day: date, post_id: int, category_id: int | None) -> Document:
    data = _filler_data()
    spec = data[site]
    topic = spec["topics"][index % len(spec["topics"])]
    variant = index % len(spec["titles"])
    values: dict[str, object] = {
        "topic": topic, "year": day.year, "month": (day.month % 12) + 1, "day": 10 + index % 18,
        "dept": spec.get("depts", ["省政府办公厅"])[index % len(spec.get("depts", ["x"]))],
        "contact": data["contacts"][index % len(data["contacts"])], "phone": f"{3000 + post_id % 7000:04d}",
        "count": 12 + index % 15, "years": 3 + index % 3,
        "name": spec.get("names", ["x"])[index % len(spec.get("names", ["x"]))],
        "session": spec.get("sessions", ["x"])[index % len(spec.get("sessions", ["x"]))],
        "number": f"{day.year}{1000 + index * 37:04d}",
    }
    paragraphs = spec["paragraphs"]
    if site == "gdii":
        chosen = [paragraphs[i] for i in ((0, 1, 3), (2, 3), (0, 1))[variant]]
    elif site == "gd":
        chosen = paragraphs[: 2 + index % 3]
    elif site == "gz":
        chosen = paragraphs if index % 2 == 0 else paragraphs[1:2] + paragraphs[3:]
    else:
        chosen = paragraphs[: 3 + index % 2]
    lines = tuple(_fill(line, values) for line in chosen)
    title = _fill(spec["titles"][variant], values)
    attachments: tuple[AttachmentFile, ...] = ()
    doc_number = None
    kind = {"gd": "notice", "gdii": "notice", "gz": "other", "gxj": "proposal_reply"}[site]
    if site == "gd":
        doc_number = f"{spec['doc_prefix']}〔{day.year}〕{100 + index * 7}号"
        if index % 4 == 0:
            attachments = (AttachmentFile(f"广东省{topic}实施方案.pdf", _attachment_path(post_id, 0, "pdf")),)
    elif site == "gdii":
        if index % 3 == 0:
            attachments = (AttachmentFile(f"{day.year}年{topic}申报表.docx", _attachment_path(post_id, 0, "docx")),
                           AttachmentFile(f"{day.year}年{topic}申报材料.zip", _attachment_path(post_id, 1, "zip")))
        elif index % 3 == 1:
            attachments = (AttachmentFile(f"{day.year}年{topic}名单.pdf", _attachment_path(post_id, 0, "pdf")),)
        if variant == 0:
            doc_number = f"{spec['doc_prefix']}〔{day.year}〕{200 + index * 11}号"
    elif site == "gz" and index % 4 == 1:
        attachments = (AttachmentFile(f"{topic}条款对照表.xlsx", _attachment_path(post_id, 0, "xlsx"), styled=False),)
    elif site == "gxj" and index % 5 == 2:
        attachments = (AttachmentFile(f"第{values['number']}号建议答复.doc", _attachment_path(post_id, 0, "doc"),
                                      styled=False),)
    return Document(
        site=site, post_id=post_id, title=title, paragraphs=lines, kind=kind, publisher=spec["publisher"],
        published=f"{day.isoformat()} {9 + index % 8:02d}:{(index * 13) % 60:02d}:00", signed=day.isoformat(),
        doc_number=doc_number,
        identifier=f"{spec.get('org_code', '00000000X')}/{day.year}-{post_id % 100000:05d}",
        category=spec["category"], category_id=category_id, attachments=attachments,
        list_link="mpost" if site == "gdii" and index == 4 else "post",
        template="classify" if index % 2 == 0 else "introduce")


def _fillers() -> list[Document]:
    docs = []
    for site, (count, newest, step, first_id, category_id) in _FILLER_PLAN.items():
        days = [newest - timedelta(days=step * i + (i * 5) % 7) for i in range(count)]
        for index, day in enumerate(days):
            post_id = first_id + (day - date(2020, 1, 1)).days * 7 + index
            docs.append(_filler(site, index, day, post_id, category_id))
    return docs


def _release_1(docs: list[Document]) -> list[Document]:
    name, text = read_seed("001")
    new = Document(
        site="gdii", post_id=NEW_POST_ID, title=NEW_TITLE, paragraphs=derive_2024(text), kind="work_points",
        publisher="广东省数字经济发展工作领导小组办公室", published="2024-04-01 10:30:00", signed="2024-03-29",
        identifier="006940060/2024-00310", category="通知公告", category_id=2,
        attachments=(AttachmentFile("2024年广东省数字经济工作要点.pdf", _attachment_path(NEW_POST_ID, 0, "pdf")),))
    revised = []
    for doc in docs:
        if doc.post_id == REVISED_POST_ID:
            lines = tuple(_replace_once(line, REVISED_OLD, REVISED_NEW) if REVISED_OLD in line else line
                          for line in doc.paragraphs)
            doc = replace(doc, paragraphs=lines)
        revised.append(doc)
    return [new, *revised]


@cache
def build_catalog(release: int = 0) -> Catalog:
    """Every document of a release, newest first (deterministic)."""
    if release not in RELEASES:
        raise ValueError(f"unknown release {release}; known: {RELEASES}")
    docs = _seed_documents() + _fillers()
    if release >= 1:
        docs = _release_1(docs)
    ids = [(doc.site, doc.post_id) for doc in docs]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate post ids in the replica catalog")
    docs.sort(key=lambda doc: (doc.published, doc.post_id), reverse=True)
    return Catalog(release=release, documents=docs)
