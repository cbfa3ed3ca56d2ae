"""A notice's closing list of attachments ("附件:1.申报指南" / "2.申报表") names files: its
numbered lines are no headings of the section above them."""

from __future__ import annotations

from crawler.document import understand

NOTICE = """广州市工业和信息化局关于做好2024年度工业企业技术改造项目申报工作的通知
各区工业和信息化主管部门,各有关单位:
一、支持方向
(一)智能化改造。支持企业建设智能工厂,单个项目最高补助1000万元。
二、申报条件
1.在广州市内注册的独立法人企业;
2.项目总投资不低于500万元。
三、工作要求
请各区于2024年5月31日前完成审核推荐。
{attachments}
广州市工业和信息化局
2024年4月15日
"""


def outline(attachments: str) -> list[tuple[str, str]]:
    nodes = understand(NOTICE.format(attachments=attachments))["outline"]
    return [(n["label"], n["title"]) for n in nodes]


HEADINGS = [("一、", "支持方向"), ("(一)", "智能化改造"), ("二、", "申报条件"),
            ("1.", "在广州市内注册的独立法人企业"), ("2.", "项目总投资不低于500万元"), ("三、", "工作要求")]


def test_an_attachment_list_adds_no_headings() -> None:
    assert outline("附件:1.2024年度技术改造项目申报指南\n2.项目申报表\n3.承诺书") == HEADINGS
    assert outline("附件:\n1.2024年度技术改造项目申报指南\n2.项目申报表") == HEADINGS
    assert outline("附件\n1.申报指南\n2.申报表") == HEADINGS
    assert outline("附件:2024年度技术改造项目申报指南") == HEADINGS
    # the list's lines stay in the text of the section they close
    last = understand(NOTICE.format(attachments="附件:1.申报指南\n2.申报表"))["outline"][-1]
    assert "2.申报表" in last["text"]


def test_numbered_paragraphs_after_an_attachment_line_are_still_headings() -> None:
    # not a list continuing 1., 2.: a numbered paragraph of the text (a sentence, out of sequence)
    assert outline("附件:1.申报指南\n3.各区要加强统筹。确保按时完成。")[-1] == ("3.", "各区要加强统筹")


def test_a_plan_attached_after_the_notice_keeps_its_outline() -> None:
    text = ("广东省人民政府办公厅关于印发行动方案的通知\n各地级以上市人民政府:\n现将《行动方案》印发给你们。\n"
            "广东省人民政府办公厅\n2023年11月7日\n附件\n行动方案\n一、总体要求\n(一)指导思想\n二、主要任务\n"
            "1.推动数据要素流通\n2.建设数据要素网络")
    labels = [n["label"] for n in understand(text)["outline"]]
    assert labels == ["一、", "(一)", "二、", "1.", "2."]


def test_the_list_after_the_last_task_is_no_part_of_it() -> None:
    text = ("关于开展试点的通知\n一、工作目标\n(一)建成100个试点。(省工业和信息化厅负责)\n"
            "(二)完善配套政策。(省财政厅负责)\n附件:1.试点名单\n2.申报表\n广东省工业和信息化厅\n2024年4月15日")
    last = understand(text)["tasks"][-1]
    assert (last["label"], last["responsible"]) == ("(二)", ["省财政厅"])
    assert "附件" not in last["text"] and "申报表" not in last["text"]
    # a line that merely starts with 附件 inside the text is kept when sentences follow it
    text = text.replace("附件:1.试点名单\n2.申报表", "附件所列试点要按期完成建设任务。各地要加强统筹。")
    assert "附件所列" in understand(text)["tasks"][-1]["text"]
