"""Targets in the units energy, transport, computing and trade plans use (GWh, 千瓦时, 兆瓦, 辆,
标箱, EFLOPS, 美元, 小时…), and what the unit list's change (PARSER_VERSION 3) means for the
versions stored before it: nothing to report."""

from __future__ import annotations

import pytest

from crawler.document import normalize_for_compare, understand
from crawler.document.understand import PARSER_VERSION
from monitor.compare import compare_versions
from monitor.events import VersionView


def task_targets(sentence: str) -> list[tuple[str, str, str]]:
    structure = understand(f"二、重点任务\n(一)加快建设。{sentence}。\n(二)其他任务。")
    return [(t["number"], t["unit"], t["what"]) for t in structure["tasks"][0]["targets"]]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("新增储能产能20GWh", [("20", "GWh", "")]),
        ("年发电量达到50亿千瓦时", [("50亿", "千瓦时", "")]),
        ("新增储能装机300MW/600MWh", [("300", "MW", ""), ("600", "MWh", "")]),
        ("光伏装机10GW,风电5吉瓦", [("10", "GW", ""), ("5", "吉瓦", "")]),
        ("新增装机200万千瓦", [("200万", "千瓦", "")]),
        ("推广新能源汽车5万辆", [("5万", "辆", "")]),
        ("集装箱吞吐量达到2500万标箱", [("2500万", "标箱", "")]),
        ("算力规模达到50EFLOPS", [("50", "EFLOPS", "")]),
        ("跨境电商进出口额达到1000亿美元", [("1000亿", "美元", "")]),
        ("处理能力100万立方米/日", [("100万", "立方米", "")]),
        ("千兆宽带达到1000Mbps,存储100GB", [("1000", "Mbps", ""), ("100", "GB", "")]),
        ("审批时间压缩至5天,响应不超过2小时", [("5", "天", ""), ("2", "小时", "")]),
        ("建成15分钟便民生活圈", [("15", "分钟", "便民生活圈")]),
        # unchanged: times of day, years and ordinals are no targets
        ("会议于15时30分召开", []),
        ("2025年底前完成第3批", []),
    ],
)
def test_units(sentence: str, expected: list[tuple[str, str, str]]) -> None:
    assert task_targets(sentence) == expected


def view(text: str, structure: dict | None = None) -> VersionView:
    structure = structure or understand(text)
    return VersionView(title=None, normalized_text=normalize_for_compare(text), structure=structure,
                       attachments=[])


PLAN = "二、重点任务\n(一)发展新型储能。新增储能装机300MW/600MWh,推广新能源汽车5万辆。\n(二)其他任务。"


def test_a_changed_energy_target_is_paired_by_its_unit() -> None:
    [event] = compare_versions(view(PLAN), view(PLAN.replace("600MWh", "800MWh")))
    assert str(event.type) == "target_changed"
    assert event.details["old_target"]["unit"] == event.details["new_target"]["unit"] == "MWh"
    assert (event.details["old_target"]["value"], event.details["new_target"]["value"]) == (600, 800)


def test_a_version_read_by_the_previous_parser_is_read_again_not_reported() -> None:
    # what parser 2 stored for this page: "600MWh" as 600 MW of "h", "5万辆" as 5万 of "辆"
    old = understand(PLAN)
    old["parser"] = 2
    for task in old["tasks"]:
        for t in task["targets"]:
            if t["unit"] == "MWh":
                t["unit"], t["what"] = "MW", "h"
            elif t["unit"] == "辆":
                t["unit"], t["what"] = "", "辆"
    assert PARSER_VERSION == 3
    assert compare_versions(view(PLAN, old), view(PLAN)) == []
    # and a real change next to the upgrade is still one event
    [event] = compare_versions(view(PLAN, old), view(PLAN.replace("5万辆", "8万辆")))
    assert str(event.type) == "target_changed" and event.details["new_target"]["unit"] == "辆"
