"""Smoke test of the pipeline benchmark (bench/): a 40-document run on SQLite, every figure a
number; and the revisions of the synthetic site, each worth exactly one change event."""

from __future__ import annotations

import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def test_every_edit_of_release_1_is_one_change_event() -> None:
    from bench.site import EDITS, ReleasedSite
    from crawler.snapshot import build_snapshot
    from monitor.compare import compare_versions
    from monitor.events import VersionView

    site = ReleasedSite(400, revise_percent=5)
    revised = site.revised_indexes()
    assert len(revised) == 20
    assert {i % 5 for i in revised} == {0, 1, 2, 3, 4}  # the revisions cycle through the seeds
    seen: set[tuple[int, str, str]] = set()

    def view(index: int) -> VersionView:
        snap = build_snapshot(site.detail_url("http://127.0.0.1:1", index), site.detail(index),
                              "text/html; charset=utf-8")
        return VersionView(title=snap.title, normalized_text=snap.normalized_text,
                           structure=snap.structure, attachments=[])

    for index in revised:
        seed, kind, old_text, _new = site.edit_of(index)
        if (seed, kind, old_text.replace(str(5000 + index), "T")) in seen:
            continue
        seen.add((seed, kind, old_text.replace(str(5000 + index), "T")))
        site.release = 0
        before = view(index)
        site.release = 1
        after = view(index)
        events = compare_versions(before, after)
        assert [str(getattr(e.type, "value", e.type)) for e in events] == [kind], (index, events)
    assert len(seen) == sum(len(v) for v in EDITS.values())
    # an unrevised document is the same in both releases
    site.release = 0
    plain = site.detail(1)
    site.release = 1
    assert site.detail(1) == plain


def test_bench_smoke_sqlite() -> None:
    from bench import urlwatch_peer
    from bench.pipeline import BenchOptions, run_bench

    with_urlwatch = urlwatch_peer.available()
    result = run_bench(BenchOptions(docs=40, revise=5, backends=("sqlite",), urlwatch=with_urlwatch,
                                    rss_small=10, parse_sample=40, aim_docs=20, aim_pairs=2,
                                    command="pytest smoke",
                                    log=lambda _msg: None))
    figures = result.figures
    expected = [
        "floor.fetch.pages_per_s", "floor.parse.pages_per_s",
        "sqlite.first.docs_per_s", "sqlite.first.seconds", "sqlite.first.requests", "sqlite.first.mb_sent",
        "sqlite.first.peak_rss_mb", "sqlite.unchanged_incremental.seconds",
        "sqlite.unchanged_incremental.requests", "sqlite.unchanged_incremental.mb_sent",
        "sqlite.unchanged_full.seconds", "sqlite.unchanged_full.requests", "sqlite.changed.seconds",
        "sqlite.changed.versions_new", "sqlite.changed.events", "sqlite.changed.expected_events",
        "diff.p50_ms", "diff.p95_ms", "sqlite.storage.bytes_per_version",
        "sqlite.storage.ratio_to_compressed", "sqlite.storage.ratio_to_compressed_all",
        "sqlite.digest.render_ms", "sqlite.digest.select_ms", "rss.small.peak_rss_mb", "rss.ratio",
        "floor.scrapy.pages_per_s",
        "aim.sqlite.first.docs_per_s",
        "stages.analysis_ms", "stages.store_ms", "start_crawl.seconds", "ideal.docs_per_s",
    ]
    if with_urlwatch:
        expected += ["urlwatch.first.seconds", "urlwatch.first.pages_per_s", "urlwatch.recheck.seconds",
                     "urlwatch.changed.seconds"]
    missing = [k for k in expected if k not in figures]
    assert not missing, missing
    bad = {k: v for k, v in figures.items() if not isinstance(v, (int, float)) or not math.isfinite(v)}
    assert not bad, bad
    assert figures["sqlite.first.versions_new"] == 40
    assert figures["sqlite.unchanged_full.versions_new"] == 0
    assert figures["sqlite.changed.versions_new"] == 2  # 40 documents, 1 in 20 revised
    assert figures["sqlite.changed.events"] == figures["sqlite.changed.expected_events"] == 2
    assert figures["diff.pairs"] == 2
    report = result.markdown
    assert "policywatch's bytecode: compiled before the runs" in report
    assert figures["aim.pairs"] == 2 and "20 documents (the size the aims name); 2 back-to-back pairs" in report
    if with_urlwatch:  # the aim is decided by the median of the pairs' ratios
        assert "median of 2 pairs" in report and figures["aim.sqlite.ratio_to_urlwatch"] > 0
    for heading in ("## Floors and peer", "## policywatch", "## Aims", "first crawl: documents/s",
                    "unchanged recrawl, full sweep", "changed recrawl: events / expected",
                    "storage: bytes per document version", "digest of 1,000 events", "Diff (", "Peak RSS",
                    "First crawl of a fresh site of 20 documents", "first crawl of 20 documents at least",
                    "policywatch's stages alone", "Bound: no pipeline of these parts crawls 20 documents"):
        assert heading in report, heading


def test_ideal_pipeline_spreads_every_page_but_the_first_over_the_cores() -> None:
    from bench.pipeline import ideal_pipeline

    info = {"scrapy_floor": {"cpu_seconds": 2.0, "pages": 2000},  # 1 ms a page
            "stages": {"analysis_ms": 1.5, "store_ms": 0.5}, "start_crawl": {"seconds": 0.8},
            "machine": {"cpus": 2}}
    ideal = ideal_pipeline(info, 2001)
    assert ideal["cpu_ms_per_page"] == 3.0
    assert round(ideal["seconds"], 6) == 0.8 + 2000 * 0.003 / 2  # 3.8 s
    assert round(ideal["docs_per_s"], 3) == round(2001 / 3.8, 3)
    info["machine"]["cpus"] = 4
    assert round(ideal_pipeline(info, 2001)["seconds"], 6) == 0.8 + 1.5
    assert ideal_pipeline(info, 1)["seconds"] == 0.8  # the start is a crawl of one document


def test_sources_bench_smoke() -> None:
    from bench.sources_bench import run

    result = run(sources=3, pages=1, at_once=2)
    assert result["statuses"] == {"ok": 3} and result["errors"] == 0
    assert result["documents"] == 60  # 20 a list page, each source its own
    assert result["seconds"] > 0 and result["peak_rss_mb"] > 0 and result["max_fds"] > 0


def test_known_bench_smoke(capsys) -> None:
    """The walk holds 21 pages' entries whatever the source's size; loading all holds them all."""
    from bench.known_bench import main

    assert main(["--docs", "420,2000"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| 420 ") or line.startswith("| 2,000 ")]
    assert len(rows) == 2
    kept = [[float(cell.split("MB")[0].split(",")[-1]) for cell in row.split("|")[2:4]] for row in rows]
    assert kept[1][0] > 3 * kept[0][0]  # all of a source grows with it
    assert kept[1][1] < 2 * kept[0][1]  # a walk's does not
