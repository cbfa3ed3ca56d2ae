"""Sentence alignment, character highlights, unified diff (+ unidiff counts) and the HTML view."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_compare_support import insert_task, mini_view, seed

from monitor.diff_html import render_diff_html
from monitor.textdiff import (
    align_sentences,
    clean_display,
    compare_key,
    diff_stats,
    excerpt_pair,
    inline_diff,
    split_sentences,
    unified_diff,
)

SEED1 = seed(1)


# --------------------------------------------------------------------------------------------
# keys and sentences
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("发展硅能源产 业,", "发展硅能源产业\uff0c"),
        ("(省发展改革委牵头)", "\uff08省发展改革委牵头\uff09"),
        ("“链主”企业", '"链主"企业'),
        ("2021—2025年", "2021-2025年"),
        ("5G+4K/8K", "\uff15\uff27\uff0b\uff14\uff2b\uff0f\uff18\uff2b"),
    ],
)
def test_compare_key_folds_noise(a: str, b: str) -> None:
    assert compare_key(a) == compare_key(b)


def test_compare_key_keeps_real_differences() -> None:
    assert compare_key("5000家") != compare_key("6000家")
    assert compare_key("不范") != compare_key("规范")  # typos in the original survive


def test_split_sentences_joins_pdf_wrapped_lines_and_keeps_headings() -> None:
    text = "一、总体要求\n\n  (十二)加快培育数据要素市场。编制《广东省数据条\n\n例》,研究制定文件。\n二、保障措施"
    assert split_sentences(text) == [
        "一、总体要求",
        "(十二)加快培育数据要素市场。",
        "编制《广东省数据条例》,研究制定文件。",
        "二、保障措施",
    ]


def test_split_sentences_on_all_stops() -> None:
    assert split_sentences("甲。乙;丙!丁?戊\uff1b己\uff01庚\uff1f") == [
        "甲。", "乙;", "丙!", "丁?", "戊\uff1b", "己\uff01", "庚\uff1f"]


def test_clean_display_removes_reflow_spaces_only_around_chinese() -> None:
    assert clean_display("推进 广州创 维超高清, TCL 模组 and 5G core") == "推进广州创维超高清, TCL模组and 5G core"


def test_align_sentences_reflow_is_equal() -> None:
    a = ["甲乙丙。", "丁戊", "己庚。"]
    b = ["甲乙丙。", "丁戊己庚。"]
    assert [blk.tag for blk in align_sentences(a, b)] == ["equal"]


# --------------------------------------------------------------------------------------------
# inline highlights
# --------------------------------------------------------------------------------------------


def test_inline_char_diff_reads_as_whole_replacements() -> None:
    left, right = inline_diff("推进省级现代农业产业园建设,指导产业园", "推进省级现代农业产业园提质增效,指导产业园")
    assert left == [("equal", "推进省级现代农业产业园"), ("del", "建设"), ("equal", ",指导产业园")]
    assert right == [("equal", "推进省级现代农业产业园"), ("ins", "提质增效"), ("equal", ",指导产业园")]


def test_inline_diff_tiny_equal_runs_are_merged() -> None:
    # 提升数字→推进数据 share one 数 in the middle: one replacement, not two fragments
    left, right = inline_diff("全面提升数字化水平", "全面推进数据化水平")
    assert [k for k, _ in left] == ["equal", "del", "equal"]
    assert left[1] == ("del", "提升数字")
    assert right[1] == ("ins", "推进数据")
    # with min_equal=0 the shared character stays unhighlighted
    left0, _ = inline_diff("全面提升数字化水平", "全面推进数据化水平", min_equal=0)
    assert ("equal", "数") in left0


def test_inline_diff_width_is_not_highlighted() -> None:
    left, right = inline_diff("甲,乙(丙)", "甲\uff0c乙\uff08丙\uff09")
    assert left == [("equal", "甲,乙(丙)")] and right == [("equal", "甲\uff0c乙\uff08丙\uff09")]


def test_inline_word_granularity() -> None:
    left, right = inline_diff("推动5000家企业转型", "推动6000家企业转型", granularity="word")
    assert "".join(t for _, t in left) == "推动5000家企业转型"
    assert any(k == "ins" and "6000" in t for k, t in right)


cjk = st.text(alphabet="甲乙丙丁戊己庚辛壬癸,。、的了和", max_size=60)


@settings(max_examples=150, deadline=None)
@given(cjk, cjk, st.sampled_from(["char", "word"]))
def test_inline_diff_reconstructs_both_texts(a: str, b: str, granularity: str) -> None:
    left, right = inline_diff(a, b, granularity=granularity)
    assert "".join(t for k, t in left if k in ("equal", "del")) == a
    assert "".join(t for k, t in right if k in ("equal", "ins")) == b
    assert all(k in ("equal", "del") for k, _ in left)
    assert all(k in ("equal", "ins") for k, _ in right)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="甲乙丙丁戊己庚辛。;\n ", max_size=120), st.data())
def test_whitespace_never_makes_a_diff(text: str, data) -> None:
    spaced = "".join(ch + (" " if data.draw(st.booleans()) else "") for ch in text)
    assert unified_diff(text, spaced) == ""


# --------------------------------------------------------------------------------------------
# excerpts
# --------------------------------------------------------------------------------------------


def test_excerpt_pair_windows_around_the_change() -> None:
    before = "甲" * 400 + "乙" + "丙" * 400
    after = "甲" * 400 + "丁" + "丙" * 400
    b, a = excerpt_pair(before, after, 300)
    assert len(b) <= 300 and len(a) <= 300
    assert "乙" in b and "丁" in a and b.startswith("…") and b.endswith("…")


def test_excerpt_pair_short_is_untouched() -> None:
    assert excerpt_pair("甲乙", "甲丙") == ("甲乙", "甲丙")
    assert excerpt_pair(None, "甲" * 500)[1].endswith("…")


# --------------------------------------------------------------------------------------------
# unified diff and its counts
# --------------------------------------------------------------------------------------------


def test_unified_diff_counts_with_unidiff() -> None:
    old = "一、总体要求\n我们要提升数字经济。加快推进新型基础设施建设;推动5000家企业转型。\n编制《广东省数据条\n\n例》,研究制定文件。"
    new = "一、总体要求\n我们要提升数字经济。加快推进新型基础设施建设\uff1b推动6000家企业转型。\n编制《广东省数据条例》\uff0c研究制定文件。新增一句话。"
    u = unified_diff(old, new, "v1", "v2")
    assert u.startswith("--- v1\n+++ v2\n@@ ")
    assert "-推动5000家企业转型。\n+推动6000家企业转型。\n" in u
    assert diff_stats(u) == {"added": 2, "removed": 1}


def test_unified_diff_of_noise_is_empty() -> None:
    assert unified_diff(SEED1, SEED1.replace(",", "\uff0c").replace(" ", "")) == ""
    assert diff_stats("") == {"added": 0, "removed": 0}


def test_unified_diff_on_seed_one_line_per_sentence() -> None:
    new = insert_task(SEED1).replace("新增推动 5000 家", "新增推动 6000 家")
    u = unified_diff(SEED1, new, "a/001", "b/001")
    stats = diff_stats(u)
    # the inserted task is 3 sentences (title, body, clause); its renumbering relabels 32
    # task heads (a label is text here: the unified diff is the plain view); the target 1 line
    relabeled = len(re.findall(r"(?m)^\+\([一二三四五六七八九十]+\)", u))
    assert stats["added"] == stats["removed"] + 3
    assert relabeled >= 30
    assert max(len(line) for line in u.splitlines()) < 400  # no giant paragraph lines


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------


def test_html_escapes_crawled_text() -> None:
    evil = SEED1.replace("推进省级现代农 业产业园建设", "推进省级现代农业产业园<script>alert('x')</script>建设")
    html = render_diff_html(mini_view(SEED1), mini_view(evil), title="<b>标题</b> & 测试")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<b>标题</b>" not in html and "&lt;b&gt;标题&lt;/b&gt; &amp; 测试" in html


def test_html_is_standalone_with_inline_highlights() -> None:
    new = insert_task(SEED1).replace("新增推动 5000 家", "新增推动 6000 家")
    html = render_diff_html(mini_view(SEED1), mini_view(new), title="2023年广东省数字经济工作要点")
    assert html.lstrip().startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "<style" not in html and "<link" not in html and "<script" not in html
    assert re.search(r'<del style="[^"]+">5</del>', html)
    assert re.search(r'<ins style="[^"]+">6</ins>', html)
    assert "新增任务 (三) 发展人工智能产业" in html
    assert 'class="task-added"' in html and 'class="task-changed"' in html
    assert "另有 33 项任务未变化" in html  # 35 tasks: one added, one changed


def test_html_no_change() -> None:
    html = render_diff_html(mini_view(SEED1), mini_view(SEED1.replace(" ", "")), title="t")
    assert "无实质变化" in html and "<del" not in html and "<ins" not in html
