"""A reply's consulted departments (会办单位) in the phrasings replies use beyond the seeds'
"经综合…等单位意见" and "会同…研究办理"; a looser phrasing counts only when every name it gives
reads as an agency."""

from __future__ import annotations

import pytest

from crawler.document import understand

REPLY = """关于市十六届人大四次会议第20240312号代表建议答复的函
张伟代表:
您提出的《关于加快发展低空经济的建议》(第20240312号)收悉。{how},现答复如下:
一、工作开展情况
(一)强化政策引领。我局出台了实施方案。
二、下一步工作
下一步,我局将继续推进低空经济高质量发展。
广州市工业和信息化局
2024年6月18日
"""


@pytest.mark.parametrize(
    ("how", "consulted"),
    [
        ("经认真研究,并商市发展改革委、市交通运输局、市规划和自然资源局",
         ["市发展改革委", "市交通运输局", "市规划和自然资源局"]),
        ("经商市发展改革委、市财政局同意", ["市发展改革委", "市财政局"]),
        ("经与市发展改革委、市财政局共同研究", ["市发展改革委", "市财政局"]),
        ("我局会同市发展改革委、市科技局进行了认真研究", ["市发展改革委", "市科技局"]),
        ("本建议由我局主办,市发展改革委、市科技局会办。经认真研究", ["市发展改革委", "市科技局"]),
        ("经征求市财政局、市人力资源社会保障局意见", ["市财政局", "市人力资源社会保障局"]),
        ("经征求省发展改革委、科技厅意见", ["省发展改革委", "省科技厅"]),  # a prefix written once
        # not agencies: nothing, rather than the public or a meeting as a department
        ("经广泛征求社会各界意见", []),
        ("经与您电话沟通并认真研究", []),
        ("经认真研究", []),
    ],
)
def test_consulted(how: str, consulted: list[str]) -> None:
    structure = understand(REPLY.format(how=how))
    proposal = structure["metadata"]["proposal"]
    assert proposal["addressee"] == "张伟" and proposal["role"] == "代表"
    assert proposal["consulted"] == consulted


@pytest.mark.parametrize(
    ("title", "session"),
    [
        ("关于政协第十三届广东省委员会第一次会议第20230647号提案答复的函", "政协第十三届广东省委员会第一次会议"),
        ("对省十四届人大一次会议第1234号代表建议的答复", "省十四届人大一次会议"),
        ("对十四届全国人大二次会议第5号建议的答复", "十四届全国人大二次会议"),
        ("对省第十四届人民代表大会第一次会议第1001号代表建议的答复", "省第十四届人民代表大会第一次会议"),
        ("关于省政协十二届四次会议第20210137号提案答复的函", "省政协十二届四次会议"),
    ],
)
def test_session_in_its_short_and_formal_names(title: str, session: str) -> None:
    text = f"{title}\n韩学智委员:\n您提出的提案收悉。现答复如下:\n一、工作情况\n广东省工业和信息化厅\n2023年6月6日\n"
    assert understand(text, title=title)["metadata"]["proposal"]["session"] == session
