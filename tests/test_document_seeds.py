"""Accuracy on the five seed documents against the labelled ground truth in tests/fixtures/labels."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from crawler.document import understand

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "replica" / "data" / "seeds"
LABELS = Path(__file__).parent / "fixtures" / "labels"
TASKS_001 = json.loads((LABELS / "seed_001_tasks.json").read_text("utf-8"))
METADATA = json.loads((LABELS / "seed_metadata.json").read_text("utf-8"))["documents"]
PROPOSAL_FIELDS = ("proposal_type", "addressee", "role", "proposal_title", "proposal_number", "session",
                   "result_class", "consulted", "signed_by", "contact")


@lru_cache(maxsize=8)
def structure_of(name: str) -> dict[str, Any]:
    return understand((SEEDS / name).read_text("utf-8"))


def _actual(structure: dict[str, Any], field: str) -> Any:
    meta = structure["metadata"]
    proposal = meta.get("proposal") or {}
    if field == "sections":
        return [n["label"] + n["title"] for n in structure["outline"] if n["level"] == 1]
    if field == "injected_spam":
        return sorted({i["text"] for i in structure["injected"]})
    if field == "signed_by":
        return proposal.get("signed_by")
    if field in PROPOSAL_FIELDS:
        return proposal.get(field)
    return meta.get(field)


@pytest.mark.parametrize(
    ("ordinal", "field"),
    [(t["ordinal"], f) for t in TASKS_001["tasks"] for f in ("label", "title", "clause", "lead", "responsible", "implementing")],
)
def test_seed_001_task(ordinal: int, field: str) -> None:
    tasks = structure_of(TASKS_001["document"])["tasks"]
    want = TASKS_001["tasks"][ordinal - 1]
    got = tasks[ordinal - 1]
    assert got["ordinal"] == ordinal
    assert got[field] == want[field]


def test_seed_001_counts_and_sections() -> None:
    s = structure_of(TASKS_001["document"])
    assert len(s["tasks"]) == 34
    top = [(n["label"], n["title"]) for n in s["outline"] if n["level"] == 1]
    assert top == [(x["label"], x["title"]) for x in TASKS_001["sections"]]
    assert all(t["section"] == t["path"][0] for t in s["tasks"])


@pytest.mark.parametrize("field", sorted(TASKS_001["metadata"]))
def test_seed_001_metadata(field: str) -> None:
    assert structure_of(TASKS_001["document"])["metadata"][field] == TASKS_001["metadata"][field]


def test_seed_001_targets() -> None:
    task6 = structure_of(TASKS_001["document"])["tasks"][5]
    targets = {(t["value"], t["number"], t["unit"], t["what"]) for t in task6["targets"]}
    assert (5000, "5000", "家", "规模以上工业企业") in targets
    assert (100000, "10万", "家", "中小企业") in targets
    task32 = structure_of(TASKS_001["document"])["tasks"][31]
    assert any(t["value"] == 2 and t["unit"] == "个" and t["what"] == "职称评价标准条件" for t in task32["targets"])
    # No year is a target.
    for task in structure_of(TASKS_001["document"])["tasks"]:
        assert all(t["value"] not in (2023, 2021) for t in task["targets"])


@pytest.mark.parametrize(
    ("document", "field"),
    [(d["document"], f) for d in METADATA for f in d if f != "document"],
)
def test_seed_metadata(document: str, field: str) -> None:
    want = next(d for d in METADATA if d["document"] == document)[field]
    got = _actual(structure_of(document), field)
    if field == "injected_spam":
        want = sorted(set(want))
    assert got == want


def test_seed_002_spam_kept_out_of_text() -> None:
    from crawler.document import normalize_for_compare

    text = normalize_for_compare((SEEDS / "002_546492bd35b0be4f.txt").read_text("utf-8"))
    assert "买球" not in text
    assert text.splitlines()[0] == "关于省政协十二届四次会议第20210137号提案答复的函"
    kinds = {i["kind"] for i in structure_of("002_546492bd35b0be4f.txt")["injected"]}
    assert kinds <= {"gambling", "seo"}


def test_seed_003_third_party_header_removed() -> None:
    from crawler.document import normalize_for_compare

    text = normalize_for_compare((SEEDS / "003_bf751a360a542439.txt").read_text("utf-8"))
    for noise in ("大宗交易圈", "推荐阅读", "商务合作", "全文如下", "通知中提到"):
        assert noise not in text
    assert text.startswith("广东省人民政府办公厅关于印发“数字湾区”建设三年行动方案的通知\n粤办函〔2023〕297号\n")
    s = structure_of("003_bf751a360a542439.txt")
    levels = {n["level"] for n in s["outline"]}
    assert levels == {1, 2, 3}
    assert s["tasks"] and all(t["path"][0] == "二、" and t["label"].endswith(".") for t in s["tasks"])


def test_seed_001_reflow_repaired() -> None:
    from crawler.document import normalize_for_compare

    text = normalize_for_compare((SEEDS / "001_cc1e52097dc33dac.txt").read_text("utf-8"))
    assert "工业和信息化厅" in text and "工业和信息化 厅" not in text
    assert "相关市政府落实" in text
    assert "TCL模组" in text
    assert "发挥好财政资金和政策性基金的引导作用" in text  # paragraph split across a blank line
    assert "浏览量" not in text and "发布时间" not in text
    assert "国发〔2021〕29号" in text


def test_seed_004_typos_untouched() -> None:
    from crawler.document import clean_text, normalize_for_compare

    raw = (SEEDS / "004_cd1ecd22c7801974.txt").read_text("utf-8")
    for form in (normalize_for_compare(raw), clean_text(raw)[0]):
        assert "人工智能应用场景不范" in form
        assert "智能网联直车重大科技专项" in form
        assert "突破关数字经济键核心技术" in form
