"""The shortcuts of crawler.document give what the plain computations they skip would give."""

from __future__ import annotations

import re
import time

import pytest

from crawler.document import understand
from crawler.document.chars import _FOLD_TABLE, ODD_DIGIT_RANGES, fold_width, split_lines, strip_reflow_spaces
from crawler.document.clean import clean
from crawler.document.injected import candidate_lines, find_inline, spam_line_kind
from crawler.document.targets import find_targets


def test_every_decimal_digit_beyond_ascii_is_in_the_odd_ranges() -> None:
    odd = re.compile(f"[{ODD_DIGIT_RANGES}\uff10-\uff19]")
    missing = [hex(cp) for cp in range(0x80, 0x10000) if chr(cp).isdecimal() and not odd.match(chr(cp))]
    assert missing == []


@pytest.mark.parametrize("digit", ["\u0665", "\u096b", "\ua625", "\U0001d7d3", "\uff15"])
def test_targets_with_digits_beyond_ascii(digit: str) -> None:
    text = f"2023年工作要点\n一、主要任务\n(一)新增{digit}{digit}家企业,提高{digit}%。\n"
    (task,) = understand(text)["tasks"]
    folded = fold_width(digit)  # a full-width digit is folded to ASCII
    assert [t["number"] for t in task["targets"]] == [folded * 2, folded]
    assert task["targets"] == find_targets(task["text"])


def test_fold_width_is_the_translation_table() -> None:
    text = "".join(map(chr, range(0x20, 0x3100))) + "\uff01\uff5e\ufe59\u2474\u2491\u301f\ufeff"
    for line in split_lines(text):
        assert fold_width(line) == line.translate(_FOLD_TABLE)


@pytest.mark.parametrize(
    "line",
    ["买 球网站", "bet 365 注册送", "www. abc .com", "访问 http://x.y.cc/a", "娱乐城", "色情", "下 注", "a.b.top!",
     "某某 市 体育 投注", "百家乐-官网-入口", "pk 10", "关注民生", "彩票管理条例"],
)
def test_candidate_lines_cover_every_finding(line: str) -> None:
    norm = strip_reflow_spaces(fold_width(line))
    if spam_line_kind(norm) is not None or find_inline(norm) != (norm, []):
        assert 0 in candidate_lines(norm)


def test_long_hard_wrapped_paragraph_is_linear() -> None:
    para = "加快数字产业集群建设做优做强新一代电子信息软件与信息服务新增推动企业发展,"
    body = (para * 20_000)[:600_000]
    text = "2023年工作要点\n一、总体要求\n" + "\n".join(body[i:i + 30] for i in range(0, len(body), 30)) + "。"
    started = time.perf_counter()
    c = clean(text)
    assert time.perf_counter() - started < 3  # rebuilding the paragraph at every line: ~4 s
    # The first wrapped line is no prose yet (no mark), so joining starts at the second.
    assert len(c.lines) == 4 and "".join(c.lines[2:]) == body + "。"
