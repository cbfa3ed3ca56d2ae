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
