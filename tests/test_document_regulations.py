"""Regulations (办法, 条例, 实施细则): chapters and articles in the outline, the articles as the
units that are compared, and a parser upgrade that never shows as a change of a document."""

from __future__ import annotations

from crawler.document import normalize_for_compare, understand
from crawler.document.understand import PARSER_VERSION
from monitor.compare import compare_versions
from monitor.events import VersionView

TITLE = "广州市促进数字经济发展管理办法"
REGULATION = """广州市促进数字经济发展管理办法
第一章　总则
第一条　为了促进本市数字经济发展，根据有关法律法规，结合本市实际，制定本办法。
第二条　本办法适用于本市行政区域内数字经济发展及其相关活动。
第三条　市工业和信息化主管部门负责统筹推进全市数字经济发展工作。
第二章　基础设施
第四条　市人民政府应当加快建设新型基础设施，到2025年建成5G基站8万座。
第五条　各区人民政府应当支持数据中心建设，包括：
（一）建设算力中心；
（二）推进绿色数据中心改造。
第五条规定的数据中心，应当符合国家能效标准。
第三章　附则
第六条　本办法自2024年3月1日起施行。"""


def _view(text: str, structure: dict | None = None) -> VersionView:
    return VersionView(title=TITLE, normalized_text=normalize_for_compare(text),
                       structure=structure if structure is not None else understand(text, title=TITLE))


def test_chapters_and_articles_make_the_outline_and_every_article_is_a_task() -> None:
    s = understand(REGULATION, title=TITLE)
    assert s["parser"] == PARSER_VERSION
    outline = [(o["level"], o["label"], o["title"]) for o in s["outline"]]
    assert outline[:2] == [(1, "第一章", "总则"), (2, "第一条", "为了促进本市数字经济发展,根据有关法律法规,结合本市实际,制定本办法")]
    assert (1, "第三章", "附则") in outline
    assert (3, "(一)", "建设算力中心") in outline  # an article's items nest inside it
    tasks = s["tasks"]
    assert [t["label"] for t in tasks] == ["第一条", "第二条", "第三条", "第四条", "第五条", "第六条"]
    assert [t["section"] for t in tasks] == ["第一章"] * 3 + ["第二章"] * 2 + ["第三章"]
    assert tasks[3]["targets"][0]["value"] == 80000
    # "第五条规定的…" refers to an article: it is text of 第五条, not a heading of its own
    assert "第五条规定的数据中心" in tasks[4]["text"] and "建设算力中心" in tasks[4]["text"]


def test_an_article_mentioned_once_in_a_notice_is_no_heading() -> None:
    notice = ("关于做好2024年数字经济工作的通知\n各区人民政府：\n"
              "一、加快建设基础设施。\n"
              "第五条 所列事项按原规定执行。\n二、推动产业发展。")
    s = understand(notice, title="关于做好2024年数字经济工作的通知")
    assert [o["label"] for o in s["outline"]] == ["一、", "二、"]
    assert [t["label"] for t in s["tasks"]] == ["一、", "二、"]


def test_a_revised_article_gives_its_events() -> None:
    revised = (REGULATION.replace("建成5G基站8万座", "建成5G基站10万座")
               .replace("第六条　本办法自2024年3月1日起施行。",
                        "第六条　市人民政府应当建立数字经济统计监测制度。\n第七条　本办法自2024年3月1日起施行。"))
    events = compare_versions(_view(REGULATION), _view(revised))
    kinds = [(str(e.type), e.task_label) for e in events]
    assert ("target_changed", "第四条") in kinds
    assert ("task_added", "第七条") in kinds or ("task_added", "第六条") in kinds
    assert all(label is None or label.startswith("第") for _kind, label in kinds)
    [target] = [e for e in events if str(e.type) == "target_changed"]
    assert target.summary.startswith("条款 第四条") and "8万座" in target.summary  # an article, not a 任务


def test_a_version_read_by_the_earlier_parser_is_read_again_not_reported_as_changed() -> None:
    """A regulation stored before articles were understood has no tasks: compared as stored with
    its revision, every article would be a task_added event."""
    before = understand(REGULATION, title=TITLE)
    stored = {**before, "outline": [], "tasks": []}
    del stored["parser"]  # what parser 1 stored: no "parser" key, no tasks for a regulation
    revised = REGULATION.replace("建成5G基站8万座", "建成5G基站10万座")
    events = compare_versions(_view(REGULATION, stored), _view(revised))
    assert [(str(e.type), e.task_label) for e in events] == [("target_changed", "第四条")]
    # an unchanged text read by two parsers gives nothing at all
    assert compare_versions(_view(REGULATION, stored), _view(REGULATION)) == []


def test_a_plan_with_a_regulation_appended_keeps_its_tasks() -> None:
    plan = ("广州市数字经济发展行动方案\n一、重点任务\n"
            "(一)加快建设基础设施。新建5G基站2万座。(市工业和信息化局牵头)\n"
            "(二)推动产业发展。培育龙头企业。(市发展改革委牵头)\n"
            "附件:管理办法\n第一条 为了规范管理,制定本办法。\n第二条 本办法自发布之日起施行。")
    s = understand(plan, title="广州市数字经济发展行动方案")
    assert [t["label"] for t in s["tasks"]] == ["(一)", "(二)"]
    assert s["tasks"][0]["lead"] == ["市工业和信息化局"]


def test_an_inserted_article_renumbers_the_rest_without_reporting_them() -> None:
    """A revision inserts an article: the ones after it move up a number. Articles are matched by
    their text, so only the new one is reported (and 第五条's cross-reference, which changed)."""
    new = (REGULATION
           .replace("第二条　本办法适用于", "第二条　市人民政府应当将数字经济发展纳入发展规划。\n第三条　本办法适用于")
           .replace("第三条　市工业", "第四条　市工业").replace("第四条　市人民政府应当加快", "第五条　市人民政府应当加快")
           .replace("第五条　各区", "第六条　各区").replace("第五条规定", "第六条规定")
           .replace("第六条　本办法自", "第七条　本办法自"))
    events = compare_versions(_view(REGULATION), _view(new))
    assert [(str(e.type), e.task_label) for e in events] == [("task_added", "第二条"), ("task_reworded", "第六条")]
