"""Normalization for comparison: noise variants give identical text; wording and typos survive."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.document import canonical_department, clean_text, normalize_for_compare, split_sentences
from crawler.document.clean import clean
from crawler.document.metadata import header_lines

SEEDS = Path(__file__).resolve().parent.parent / "replica" / "data" / "seeds"
SEED_NAMES = sorted(p.name for p in SEEDS.glob("*.txt"))
_TO_FULL = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "(),:;!?0123456789"})


def _wrap(paragraph: str, width: int) -> list[str]:
    """Hard-wrap like a PDF extractor: never inside an ASCII word."""
    out: list[str] = []
    rest = paragraph
    while len(rest) > width:
        cut = width
        while 0 < cut < len(rest) and rest[cut - 1].isascii() and rest[cut].isascii() and rest[cut].isalnum():
            cut -= 1
        if cut == 0:
            cut = width
        out.append(rest[:cut])
        rest = rest[cut:]
    out.append(rest)
    return out


def _reflowed(raw: str, width: int, *, blank_between: bool = False) -> str:
    """The seed as a PDF extraction at another line width: indented paragraph starts, wrapped lines."""
    c = clean(raw)
    head = header_lines(c.lines)
    out: list[str] = []
    for i, para in enumerate(c.display):
        if i < len(head):
            out.append(para)
            continue
        pieces = _wrap(para, width)
        out.append("\u3000\u3000" + pieces[0])
        out.extend(pieces[1:])
        if blank_between:
            out.append("")
    return "\n".join(out)


@pytest.mark.parametrize("name", SEED_NAMES)
@pytest.mark.parametrize("width", [28, 33, 41])
def test_pdf_reflow_variants_normalize_identically(name: str, width: int) -> None:
    raw = (SEEDS / name).read_text("utf-8")
    assert normalize_for_compare(_reflowed(raw, width)) == normalize_for_compare(raw)


@pytest.mark.parametrize("name", SEED_NAMES)
def test_width_swapped_variant(name: str) -> None:
    raw = (SEEDS / name).read_text("utf-8")
    assert normalize_for_compare(raw.translate(_TO_FULL)) == normalize_for_compare(raw)


@pytest.mark.parametrize("name", SEED_NAMES)
@pytest.mark.parametrize(
    "noise",
    ["浏览量:2114", "访问量: 9", "阅读量:1", "分享到: 微信 微博 QQ空间", "【打印】【关闭】", "字号:[大][中][小]",
     "当前位置:首页 > 政务公开 > 通知公告", "无障碍 | 长者助手 | 繁体版", "来源:本网", "信息来源:广州市工业和信息化局 时间:2022-06-01 字体:[大][中][小]",
     "扫一扫在手机打开当前页"],
)
def test_chrome_line_added(name: str, noise: str) -> None:
    raw = (SEEDS / name).read_text("utf-8")
    lines = raw.splitlines()
    variant = "\n".join(lines[:1] + [noise] + lines[1:] + [noise])
    assert normalize_for_compare(variant) == normalize_for_compare(raw)


def test_counter_changed_in_seed_001() -> None:
    raw = (SEEDS / "001_cc1e52097dc33dac.txt").read_text("utf-8")
    assert normalize_for_compare(raw.replace("浏览量:2113", "浏览量:9999")) == normalize_for_compare(raw)


def test_spam_variant_normalizes_like_clean_text() -> None:
    raw = (SEEDS / "000_ee7ba84e13d86c9d.txt").read_text("utf-8")
    lines = raw.splitlines()
    hacked = "\n".join(["买球", "百家乐-真人娱乐-娱乐城官网"] + lines[:-2] + ["买球-线上买球-买球网站"] + lines[-2:])
    assert normalize_for_compare(hacked) == normalize_for_compare(raw)
    _, injected = clean_text(hacked)
    assert {i["text"] for i in injected} == {"买球", "百家乐-真人娱乐-娱乐城官网", "买球-线上买球-买球网站"}


def test_reflow_spaces_and_ascii_words() -> None:
    text = "支持工业和信息化 厅、相关市政 府落实,推进 TCL 模组和 5G+4K/8K 超高清,Smart   City 建设。"
    assert normalize_for_compare(text) == "支持工业和信息化厅、相关市政府落实,推进TCL模组和5G+4K/8K超高清,Smart City建设。"


def test_full_width_folding_and_quotes() -> None:
    assert normalize_for_compare("（一）加快建设：提升能力；完成１２３项！是否？") == "(一)加快建设:提升能力;完成123项!是否?"
    assert normalize_for_compare('支持"链主"企业') == normalize_for_compare("支持“链主”企业") == "支持“链主”企业"
    assert normalize_for_compare("专精特新“小巨人”、《条例》。") == "专精特新“小巨人”、《条例》。"


def test_paragraph_split_across_blank_line_is_joined() -> None:
    text = "标题\n\n  为贯彻落实,制定本要点。\n\n  (三十三)强化资金支持。发挥好财政资金和政策性基\n\n  金的引导作用。(省财政厅负责)\n\n  (三十四)加强合作。"
    lines = normalize_for_compare(text).splitlines()
    assert lines[2] == "(三十三)强化资金支持。发挥好财政资金和政策性基金的引导作用。(省财政厅负责)"
    assert lines[3] == "(三十四)加强合作。"


def test_heading_line_not_joined_with_its_paragraph() -> None:
    text = "罗某代表:\n您提出的建议收悉。\n(五)加强营商环境建设,推进数字经济健康发展\n完善信用监管机制。"
    assert normalize_for_compare(text).splitlines()[-2:] == ["(五)加强营商环境建设,推进数字经济健康发展", "完善信用监管机制。"]


def test_typos_are_never_fixed() -> None:
    text = "布局人工智能应用场景不范、智能网联直车重大科技专项,聚焦突破关数字经济键核心技术。"
    assert normalize_for_compare(text) == text
    assert clean_text(text)[0] == text


def test_clean_text_keeps_original_characters() -> None:
    text = "浏览量:12\n关于某事的通知\n各单位：\n（一）加快 建设。\n"
    cleaned, injected = clean_text(text)
    assert cleaned == "关于某事的通知\n各单位：\n（一）加快建设。"
    assert injected == []


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("省政务服务数据管理局", "省政务和数据局"),
        ("省政务服务和数据管理局", "省政务和数据局"),
        ("省政务和数据局", "省政务和数据局"),
        ("人民银行广州分行", "中国人民银行广东省分行"),
        ("中国人民银行广东省分行", "中国人民银行广东省分行"),
        ("市政务服务数据管理局", "市政务和数据局"),
        ("市政务服务和数据管理局", "市政务和数据局"),
        ("省工业和信息化 厅", "省工业和信息化厅"),
        ("省教育厅", "省教育厅"),
    ],
)
def test_canonical_department(name: str, canonical: str) -> None:
    assert canonical_department(name) == canonical


def test_split_sentences() -> None:
    assert split_sentences("一是强化领导。二是出台条例;三是打好“组合拳”!对吗?是的。\n新段落") == [
        "一是强化领导。", "二是出台条例;", "三是打好“组合拳”!", "对吗?", "是的。", "新段落",
    ]
    assert split_sentences("甲；乙！丙？") == ["甲;", "乙!", "丙?"] or split_sentences("甲；乙！丙？") == ["甲；", "乙！", "丙？"]
    assert split_sentences("") == []
