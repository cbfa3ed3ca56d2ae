"""Benchmark: diff and classify a pair of ~25 KB documents (seed 001 and an edited copy).

    python bench/diff_bench.py [--runs 300]

Structures are computed once before timing (understand() is excluded): with crawler.document
when it is importable, else with the test-only mini extractor of tests/test_compare_support.py.
One timed run = compare_versions() + unified_diff() + diff_stats(), with the module caches
cleared first (every run starts cold, as a real comparison of fresh texts does). The HTML view
is timed separately.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from monitor import textdiff  # noqa: E402
from monitor.compare import compare_versions  # noqa: E402
from monitor.diff_html import render_diff_html  # noqa: E402
from monitor.events import VersionView  # noqa: E402


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{platform.system()} {platform.release()} {platform.machine()}, {cpu}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()} ({platform.python_implementation()})")


def edited(text: str) -> str:
    from test_compare_support import insert_task

    t = insert_task(text)  # one task added in the middle (all later labels renumbered)
    t = t.replace("新增推动 5000 家", "新增推动 6000 家")  # a target
    t = t.replace("开展数据资产合规登记工作", "全面开展数据资产合规登记工作")  # a sentence
    t = t.replace("(省工业和信息化厅牵头,省税务局", "(省科技厅牵头,省税务局")  # a lead department
    return t.replace("全面建设数字经济强省", "加快建设数字经济强省")  # text outside tasks


def views(old_raw: str, new_raw: str) -> tuple[VersionView, VersionView, str]:
    from test_compare_support import crawler_document, mini_view, understand_view

    if crawler_document() is not None:
        return understand_view(old_raw), understand_view(new_raw), "crawler.document.understand"
    return mini_view(old_raw), mini_view(new_raw), "test mini extractor (crawler.document not importable)"


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def clear_caches() -> None:
    textdiff.compare_key.cache_clear()
    textdiff._char_key.cache_clear()


GRANULARITY_CASES = [
    ("推进省级现代农业产业园建设,指导产业园开展数字农业项目建设。", "推进省级现代农业产业园提质增效,指导产业园开展数字农业项目建设。"),
    ("新增推动5000家规模以上工业企业、带动10万家中小企业数字化转型", "新增推动6000家规模以上工业企业、带动12万家中小企业数字化转型"),
    ("全面提升数字化水平,加快建设数字经济强省。", "全面推进数据化水平,加快打造数字经济强省。"),
    ("省工业和信息化厅牵头,省税务局、通信管理局按职责分工负责", "省科技厅牵头,省税务局、通信管理局、省政务和数据局按职责分工负责"),
    ("开展数据资产合规登记工作,完善广东数据资产登记合规委员会工作机制。",
     "全面开展数据资产合规登记试点工作,健全广东数据资产登记合规委员会工作机制。"),
]


def granularity_report() -> None:
    """Which highlights read better for Chinese: fragments per change and highlighted characters
    (fewer fragments = less choppy; fewer highlighted characters = more precise)."""
    print("inline highlight granularity (sum over 5 edit pairs): fragments / highlighted chars / ms per pair")
    for label, kw in (("char, tiny equal runs merged (default)", {"granularity": "char"}),
                      ("char, no merging", {"granularity": "char", "min_equal": 0}),
                      ("jieba words", {"granularity": "word"})):
        textdiff.inline_diff("预热", "预热一下", **kw)  # load jieba's dictionary outside the timing
        frags = chars = 0
        t0 = time.perf_counter()
        for a, b in GRANULARITY_CASES:
            left, right = textdiff.inline_diff(a, b, **kw)
            frags += sum(1 for k, _ in left + right if k != "equal")
            chars += sum(len(t) for k, t in left + right if k != "equal")
        ms = (time.perf_counter() - t0) * 1000 / len(GRANULARITY_CASES)
        print(f"  {label:40s} {frags:3d} fragments, {chars:3d} chars, {ms:.2f} ms")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=300)
    args = ap.parse_args()

    from test_compare_support import seed

    old_raw = seed(1)
    new_raw = edited(old_raw)
    old, new, how = views(old_raw, new_raw)
    print(f"machine:    {machine()}")
    print(f"documents:  seed 001 ({len(old_raw.encode())} bytes, {len(old.structure['tasks'])} tasks) vs edited copy "
          f"({len(new_raw.encode())} bytes, {len(new.structure['tasks'])} tasks)")
    print(f"structures: {how} (precomputed, not timed)")

    events = compare_versions(old, new)
    print(f"events:     {len(events)}")
    for e in events:
        print(f"  - {e.type}: {e.summary}")

    def one() -> None:
        compare_versions(old, new)
        textdiff.diff_stats(textdiff.unified_diff(old.normalized_text, new.normalized_text, "old", "new"))

    for _ in range(5):  # warm imports (unidiff), not caches
        one()
    times = []
    for _ in range(args.runs):
        clear_caches()
        t0 = time.perf_counter()
        one()
        times.append((time.perf_counter() - t0) * 1000)
    print(f"compare_versions + unified_diff + diff_stats, {args.runs} cold runs: "
          f"p50 {statistics.median(times):.1f} ms, p95 {percentile(times, 0.95):.1f} ms, max {max(times):.1f} ms")

    html_times = []
    for _ in range(max(20, args.runs // 10)):
        clear_caches()
        t0 = time.perf_counter()
        render_diff_html(old, new, title="bench")
        html_times.append((time.perf_counter() - t0) * 1000)
    print(f"render_diff_html, {len(html_times)} cold runs: p50 {statistics.median(html_times):.1f} ms, "
          f"p95 {percentile(html_times, 0.95):.1f} ms")
    granularity_report()
    target = percentile(times, 0.95) <= 50
    print(f"target p95 <= 50 ms: {'met' if target else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
