"""A department's own work points name its offices (处室, 科室) as the responsible ones:
"(责任处室:规划处、运行监测协调局)" is a clause like "(责任单位:…)"."""

from __future__ import annotations

from crawler.document import understand

POINTS = """2025年广东省工业和信息化工作要点
一、推动制造业高质量发展
1.实施制造业当家“十大工程”。全年规模以上工业增加值增长5%左右。(责任处室:规划处、运行监测协调局)
2.培育战略性产业集群。新增国家级先进制造业集群2个。(责任处室:产业集群处)
二、加快数字化转型
3.推动规上工业企业数字化转型。(牵头科室:数字产业科;配合科室:信息化科)
4.新建5G基站2万座。(责任单位:省通信管理局,配合单位:信息通信发展处)
5.开展数字化转型诊断服务。(处理情况另行通报)
"""


def test_offices_are_departments_of_their_task() -> None:
    tasks = understand(POINTS)["tasks"]
    roles = [(t["label"], t["lead"], t["responsible"]) for t in tasks]
    assert roles == [
        ("1.", [], ["规划处", "运行监测协调局"]),
        ("2.", [], ["产业集群处"]),
        ("3.", ["数字产业科"], ["信息化科"]),
        ("4.", [], ["省通信管理局", "信息通信发展处"]),
        ("5.", [], []),  # a bracket without a role label or a department: no clause
    ]
    assert tasks[0]["clause"] == "责任处室:规划处、运行监测协调局"
    assert "责任处室" not in tasks[0]["title"]


PLAN = """广东省推进数字政府建设2024年工作要点
一、提升政务服务水平
(一)深化“粤省事”平台建设。新增高频服务事项100项。(省政务服务数据管理局负责)
(二)优化营商环境。
牵头单位:省发展改革委
配合单位:省市场监管局、省商务厅
二、强化数据要素保障
(三)建设省级数据交易平台。由省政务服务数据管理局会同省财政厅推进。
(四)推进公共数据开放。开放数据集不少于2000个。省政务服务数据管理局、各地级以上市人民政府负责。
三、深化数字政府改革
(五)推进政务数据共享。
(六)建设一体化政务云。(省政务服务数据管理局牵头)
四、完善体制机制
(七)健全工作机制。
五、保障措施
(一)加强组织领导。
"""


def test_clauses_on_label_lines_and_in_a_closing_sentence() -> None:
    tasks = {t["label"]: t for t in understand(PLAN)["tasks"]}
    assert (tasks["(二)"]["lead"], tasks["(二)"]["responsible"]) == (["省发展改革委"], ["省市场监管局", "省商务厅"])
    assert tasks["(四)"]["responsible"] == ["省政务服务数据管理局", "各地级以上市人民政府"]
    assert [t["value"] for t in tasks["(四)"]["targets"]] == [2000]
    # a narrative sentence naming departments is no clause
    assert (tasks["(三)"]["lead"], tasks["(三)"]["responsible"]) == ([], [])


def test_a_task_section_without_clauses_between_two_with_them_keeps_its_tasks() -> None:
    labels = [t["label"] for t in understand(PLAN)["tasks"]]
    # 三 (no clause in (五), one in (六)) and 二 are task sections; 四 comes after the last
    # section with a clause and 五 is 保障措施: neither is taken
    assert labels == ["(一)", "(二)", "(三)", "(四)", "(五)", "(六)"]
    sandwiched = PLAN.replace("由省政务服务数据管理局会同省财政厅推进。", "").replace(
        "省政务服务数据管理局、各地级以上市人民政府负责。", "")
    assert [t["label"] for t in understand(sandwiched)["tasks"]] == ["(一)", "(二)", "(三)", "(四)", "(五)", "(六)"]


MIXED = """某市2024年优化营商环境工作要点
一、提升政务服务效能
1、推行“一网通办”。全市政务服务事项网上可办率达到98%。(责任单位:市政务服务数据管理局)
2、推进“跨省通办”。新增跨省通办事项50项。(责任单位:市政务服务数据管理局、各区政府)
二、优化市场环境
1)降低企业成本。为企业减负100亿元以上。(责任单位:市发展改革委)
2)加强知识产权保护。(责任单位:市市场监管局)
三、加强法治保障
①完善地方性法规。(责任单位:市司法局)
②规范行政执法。(责任单位:市司法局、市有关单位)
"""


def test_each_section_numbers_its_tasks_its_own_way() -> None:
    """1、 in one section, 1) in the next, ① in the third: each section's tasks are at the rank
    of its own clauses (the document's commonest rank took only the first section's before)."""
    tasks = understand(MIXED)["tasks"]
    assert [(t["section"], t["label"], t["responsible"][0]) for t in tasks] == [
        ("一、", "1.", "市政务服务数据管理局"), ("一、", "2.", "市政务服务数据管理局"),
        ("二、", "1)", "市发展改革委"), ("二、", "2)", "市市场监管局"),
        ("三、", "①", "市司法局"), ("三、", "②", "市司法局")]


def test_a_safeguards_section_keeps_to_the_documents_task_rank() -> None:
    text = MIXED + "四、保障措施\n(一)加强组织领导。成立工作专班。(市发展改革委负责)\n(二)强化督查考核。\n"
    labels = [(t["section"], t["label"]) for t in understand(text)["tasks"]]
    assert ("四、", "(一)") not in labels and len(labels) == 6
