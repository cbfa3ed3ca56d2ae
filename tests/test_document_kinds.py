"""A document's kind, from its title: the kinds a follower of policy filters on (subscribers'
``kinds``, ``documents list --kind``)."""

from __future__ import annotations

import pytest

from crawler.document import understand


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("2024年广东省数字经济工作要点", "work_points"),
        ("广州市推动低空经济高质量发展行动方案(2024—2026年)", "action_plan"),
        ("广州市2024年数字经济重点任务分工方案", "action_plan"),
        ("关于印发《广州市数据要素市场管理办法》的通知", "notice"),  # the document that issues it
        ("广州市数据要素市场管理办法(试行)", "regulation"),
        ("广州市数据要素市场管理办法\uff08暂行\uff09", "regulation"),  # full-width brackets
        ("广东省数字经济促进条例", "regulation"),
        ("广州市促进数据要素市场发展若干措施实施细则", "regulation"),
        ("广东省促进数字经济发展若干措施(2024年修订)", "measures"),
        ("关于进一步优化营商环境的若干政策", "measures"),
        ("广东省人民政府办公厅关于推进新型城镇化建设的实施意见", "opinion"),
        ("关于加快推进新型工业化的指导意见(征求意见稿)", "opinion"),
        ("广州市数字经济发展规划(2024—2035年)", "plan"),
        ("《广州市进一步优化营商环境若干措施》政策解读", "interpretation"),
        ("一图读懂《广东省数字经济促进条例》", "interpretation"),
        ("市政府常务会议研究部署数字经济工作", "other"),
        ("广东省人民政府关于同意设立广州南沙数据交易所的批复", "other"),
    ],
)
def test_kind_from_title(title: str, kind: str) -> None:
    body = "一、总体要求\n(一)加强领导。\n"
    assert understand(f"{title}\n{body}", title=title)["metadata"]["kind"] == kind


@pytest.mark.parametrize(
    ("titles", "key"),
    [
        (["2023年广东省数字经济工作要点", "2024年广东省数字经济工作要点",
          "关于印发2025年广东省数字经济工作要点的通知"], "广东省数字经济工作要点"),
        (["广州市推动新型储能产业高质量发展行动方案(2024—2026年)",
          "广州市推动新型储能产业高质量发展行动方案\uff082027\u20142029年\uff09"],
         "广州市推动新型储能产业高质量发展行动方案"),
        (["二〇二四年全省工业和信息化工作要点", "二〇二五年全省工业和信息化工作要点"], "全省工业和信息化工作要点"),
        (["广州市“十四五”数字经济发展规划", "广州市“十五五”数字经济发展规划",
          "关于印发广州市“十五五”时期数字经济发展规划的通知"], "广州市数字经济发展规划"),
    ],
)
def test_editions_of_a_series_share_its_key(titles: list[str], key: str) -> None:
    """The next edition is found by this key (new_edition events): years, periods and the 关于印发
    wrapper are not part of it, whatever the brackets' width."""
    from crawler.document.metadata import series_key

    assert {series_key(t) for t in titles} == {key}


def test_numbers_that_are_no_edition_stay_in_the_key() -> None:
    from crawler.document.metadata import series_key

    assert series_key("第十五届广交会工作方案") == "第十五届广交会工作方案"
    assert series_key("关于支持15个重点产业集群的若干措施") == "关于支持15个重点产业集群的若干措施"
