"""The whole-pipeline benchmark: crawl → store → detect → diff → digest, next to its floors and
urlwatch, on SQLite and PostgreSQL, every figure also a ratio.

    python -m bench [--docs 10000] [--revise 5] [--backends sqlite,postgresql] [--quick]
                    [--out bench/results.md] [--no-urlwatch] [--profile]

Callable as ``run_bench(BenchOptions(...))`` (the smoke test does). What one run does:

1. a synthetic replica of N documents from the seeds (``bench.site.ReleasedSite``), served on
   127.0.0.1; k % of them revised in release 1;
2. the floors (``bench.floors``): a plain 16-thread keep-alive fetch of the detail pages,
   BeautifulSoup+lxml body-text extraction on one core, Scrapy with a spider that discards the
   pages; policywatch's analysis and storage each alone, in memory, and a crawl of one document:
   with the Scrapy floor, the bound no pipeline of these parts beats (``ideal_pipeline``);
3. the peer: urlwatch, one job per detail URL (``bench.urlwatch_peer``): first check, unchanged
   recheck, and (after release 1) the changed recheck;
4. per backend, against a fresh database: the first crawl, an unchanged recrawl (incremental walk,
   the default ``full_sweep_every = 10``), an unchanged recrawl sweeping every list page
   (``full_sweep_every = 1``: every known page re-validated with a conditional GET), then
   release 1 and the changed recrawl (full sweep: revisions hide on every list page, an
   incremental walk would only see the first one); storage size; a digest of 1,000 events;
5. the diff of every stored version pair of the changed recrawl (``compare_versions``);
6. the first crawl again at N/10 documents (peak RSS growth).

Every crawl is ``python -m monitor crawl --config … --format json --quiet`` in a child process,
measured by ``bench.measure`` (wall time, CPU time of the whole process tree, peak RSS: the
largest sampled sum over the crawl process and its page-analysis workers).
"""

from __future__ import annotations

import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import urlwatch_peer  # noqa: E402
from bench.site import ReleasedSite  # noqa: E402
from bench.synthetic import LIST_PATH, PAGE_SIZE  # noqa: E402

MB = 2**20
DIGEST_EVENTS = 1000
# politeness off for the measurement; filtered against what the code accepts at run time
WANTED_CRAWL = {"download_delay": 0, "autothrottle": False, "obey_robots": False,
                "concurrency_per_domain": 16, "concurrency": 16}
WANTED_SOURCE = {"download_delay": 0, "obey_robots": False, "concurrency_per_domain": 16}
PROXY_VARIABLES = urlwatch_peer.PROXY_VARIABLES


@dataclass
class BenchOptions:
    docs: int = 10_000
    revise: int = 5
    backends: tuple[str, ...] = ("sqlite", "postgresql")
    urlwatch: bool = True
    rss_small: int | None = None  # default: docs // 10 (at least 10)
    parse_sample: int = 2000
    profile: bool = False
    profile_docs: int = 2000
    aim_docs: int = 2000  # the first-crawl aims are stated for 2,000 documents
    # back-to-back pairs (urlwatch, then each backend) for those aims: one run's ratio moves by
    # ±0.15 with the load of the moment, the median of a few pairs much less
    aim_pairs: int = 3
    out: Path | None = None
    command: str = "python -m bench"
    timeout_per_doc: float = 0.5  # seconds a child may take per document before it is killed
    log: Callable[[str], None] = field(default=lambda msg: print(msg, file=sys.stderr, flush=True))


@dataclass
class BenchResult:
    figures: dict[str, float]  # every figure of the report, flat: "sqlite.first.docs_per_s" …
    markdown: str
    details: dict[str, Any]


# -- processes -------------------------------------------------------------------------------
def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
    env.pop("POLICYWATCH_DATABASE_URL", None)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def _run_bounded(cmd: list[str], *, timeout: float, env: dict[str, str] | None = None,
                 cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run in a process group of its own; on timeout the whole group is killed."""
    proc = subprocess.Popen(cmd, cwd=str(cwd), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise RuntimeError(f"timed out after {timeout:.0f}s: {' '.join(cmd[:6])} …") from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def measured(cmd: list[str], workdir: Path, label: str, *, timeout: float,
             env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``cmd`` under bench.measure; wall/CPU seconds, peak RSS, and its stdout."""
    res, out, err = (workdir / f"{label}.{ext}" for ext in ("json", "out", "err"))
    wrapper = [sys.executable, "-m", "bench.measure", str(res), str(out), str(err), "--", *cmd]
    done = _run_bounded(wrapper, timeout=timeout, env=env)
    if done.returncode != 0 or not res.exists():
        raise RuntimeError(f"{label}: measurement failed: {done.stderr[-1500:]}")
    result = json.loads(res.read_text())
    result["stdout"] = out.read_text(encoding="utf-8", errors="replace")
    result["stderr"] = err.read_text(encoding="utf-8", errors="replace")
    return result


# -- configuration ---------------------------------------------------------------------------
def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def accepted_options() -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The [crawl] and source options of WANTED_* that this checkout accepts (and the dropped)."""
    from crawler.runner import CRAWL_OPTIONS
    from crawler.sources import HtmlPagesSource, Source

    source_keys = {**Source.common_options, **HtmlPagesSource.options}
    crawl = {k: v for k, v in WANTED_CRAWL.items() if k in CRAWL_OPTIONS}
    source = {k: v for k, v in WANTED_SOURCE.items() if k in source_keys}
    dropped = [f"[crawl] {k}" for k in WANTED_CRAWL if k not in crawl]
    dropped += [f"source {k}" for k in WANTED_SOURCE if k not in source]
    if "full_sweep_every" not in source_keys:
        dropped.append("source full_sweep_every")
    return crawl, source, dropped


def write_config(path: Path, database_url: str, base: str, docs: int, *,
                 full_sweep_every: int | None) -> Path:
    from crawler.sources import Source

    crawl, source, _dropped = accepted_options()
    pages = (docs + PAGE_SIZE - 1) // PAGE_SIZE
    lines = [
        "[database]", f"url = {_toml(database_url)}", "",
        "[[sources]]", 'name = "synthetic"', 'kind = "html_pages"',
        f"start_urls = [{_toml(base + LIST_PATH + 'index.html')}]", 'allowed_domains = ["127.0.0.1"]',
        'item_selector = "ul.list li a"', 'next_selector = "div.page a.next"',
        f"max_pages = {pages + 10}",
    ]
    if full_sweep_every is not None and "full_sweep_every" in Source.common_options:
        lines.append(f"full_sweep_every = {full_sweep_every}")
    lines += [f"{k} = {_toml(v)}" for k, v in source.items()]
    lines += ["", "[crawl]", *[f"{k} = {_toml(v)}" for k, v in crawl.items()], ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


# -- one crawl -------------------------------------------------------------------------------
def crawl_once(site: ReleasedSite, config: Path, workdir: Path, label: str, *, timeout: float,
               profile_to: Path | None = None) -> dict[str, Any]:
    site.reset_counts()
    head = [sys.executable]
    if profile_to is not None:
        head += ["-m", "cProfile", "-o", str(profile_to)]
    cmd = [*head, "-m", "monitor", "crawl", "--config", str(config), "--format", "json", "--quiet"]
    result = measured(cmd, workdir, label, timeout=timeout, env=_clean_env())
    if result["returncode"] not in (0, 1):
        raise RuntimeError(f"{label}: crawl exited {result['returncode']}: {result['stderr'][-1500:]}")
    try:
        report = json.loads(result["stdout"])[0]
    except (ValueError, IndexError):
        raise RuntimeError(f"{label}: no JSON report: {result['stdout'][-500:]} {result['stderr'][-1500:]}") from None
    counts = dict(site.counts)
    detail = sum(v for k, v in counts.items() if k.startswith("detail_"))
    row = {
        "label": label, "seconds": result["seconds"], "cpu_seconds": result["cpu_user"] + result["cpu_system"],
        "peak_rss_mb": result.get("peak_tree_rss_bytes", result["peak_rss_bytes"]) / MB, "requests": counts.get("requests", 0),
        "detail_requests": detail, "detail_304": counts.get("detail_304", 0),
        "list_requests": counts.get("requests", 0) - detail, "mb_sent": counts.get("bytes", 0) / MB,
        **{k: report.get(k) for k in ("status", "documents_seen", "documents_new", "versions_new",
                                      "unchanged", "errors", "events", "baseline", "pages_fetched")},
        "error_samples": report.get("error_samples") or [],
    }
    row["docs_per_s"] = (row["documents_seen"] or 0) / row["seconds"] if row["seconds"] else 0.0
    return row


# -- storage, diff, digest -------------------------------------------------------------------
def max_event_id(database_url: str) -> int:
    from sqlalchemy import func, select

    from storage.db import make_engine
    from storage.models import ChangeEvent

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.max(ChangeEvent.id))).scalar() or 0)
    finally:
        engine.dispose()


def events_by_type(database_url: str, after_id: int) -> dict[str, int]:
    from sqlalchemy import func, select

    from storage.db import make_engine
    from storage.models import ChangeEvent

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(ChangeEvent.type, func.count()).where(ChangeEvent.id > after_id)
                                .group_by(ChangeEvent.type)).all()
        return {str(t): int(n) for t, n in rows}
    finally:
        engine.dispose()


def storage_figures(database_url: str) -> dict[str, Any]:
    """Bytes on disk per stored version, against zlib-6 of the distinct normalized texts.

    The texts are read back through storage (``storage.content``): distinct by content (their
    digest), each compressed alone with zlib-6, the figure the aim compares with."""
    from sqlalchemy import func, select, text

    from storage.content import read_blobs
    from storage.db import make_engine
    from storage.models import Blob, Version

    engine = make_engine(database_url)
    out: dict[str, Any] = {}
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            versions = int(conn.execute(select(func.count()).select_from(Version)).scalar() or 0)
            if engine.dialect.name == "sqlite":
                path = Path(engine.url.database or "")
                wal = Path(str(path) + "-wal")
                on_disk = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
                out["how"] = "SQLite file + -wal after PRAGMA wal_checkpoint(TRUNCATE)"
            else:
                on_disk = int(conn.execute(text(
                    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind = 'r'")).scalar())
                out["database_bytes"] = int(conn.execute(text(
                    "SELECT pg_database_size(current_database())")).scalar())
                out["how"] = "sum of pg_total_relation_size (heap + TOAST + indexes) of the tables"
            out["table_bytes"] = table_bytes(conn)
            # logical bytes of the blobs the versions refer to, by what they hold (the text and
            # the normalized text are one blob when equal: counted in both)
            blob_bytes = {}
            for role, column in (("page", Version.page_id), ("text", Version.text_id),
                                 ("normalized_text", Version.normalized_id)):
                blob_bytes[role] = int(conn.execute(
                    select(func.coalesce(func.sum(func.length(Blob.data)), 0))
                    .where(Blob.id.in_(select(column).distinct()))).scalar())
            blob_bytes["all"] = int(conn.execute(
                select(func.coalesce(func.sum(func.length(Blob.data)), 0))).scalar())
            # the distinct normalized texts, each compressed alone; and every version's text
            # compressed alone (no dedup: the baseline when no two documents share a body).
            # Distinct by content (digest), not by blob: storage may keep one content twice.
            uses = conn.execute(select(Blob.digest, func.min(Blob.id), func.count(Version.id))
                                .join(Version, Version.normalized_id == Blob.id)
                                .group_by(Blob.digest)).all()
            distinct = distinct_bytes = compressed = compressed_all = 0
            for start in range(0, len(uses), 200):
                batch = uses[start:start + 200]
                contents = read_blobs(conn, [blob_id for _, blob_id, _ in batch])
                for _, blob_id, count in batch:
                    data = contents[blob_id]
                    size = len(zlib.compress(data, 6))
                    distinct += 1
                    distinct_bytes += len(data)
                    compressed += size
                    compressed_all += size * count
    finally:
        engine.dispose()
    out.update({
        "versions": versions, "bytes": on_disk, "bytes_per_version": on_disk / max(versions, 1),
        "distinct_texts": distinct, "distinct_text_bytes": distinct_bytes,
        "compressed_bytes": compressed, "ratio_to_compressed": on_disk / max(compressed, 1),
        "compressed_all_bytes": compressed_all,
        "ratio_to_compressed_all": on_disk / max(compressed_all, 1),
        "blob_bytes": blob_bytes,
    })
    return out


def table_bytes(conn: Any) -> dict[str, int]:
    """Bytes on disk of each table with its indexes (SQLite: from dbstat, when compiled in;
    PostgreSQL: heap + TOAST + indexes)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    if conn.dialect.name == "sqlite":
        try:
            rows = conn.execute(text(
                "SELECT coalesce(m.tbl_name, d.name), sum(d.pgsize) FROM dbstat d "
                "LEFT JOIN sqlite_schema m ON m.name = d.name GROUP BY 1")).all()
        except DBAPIError:
            return {}
    else:
        rows = conn.execute(text(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'")).all()
    return {str(name): int(size) for name, size in rows}


def clear_diff_caches() -> None:
    try:
        from monitor import textdiff
    except ImportError:
        return
    for name in ("compare_key", "_char_key"):
        fn = getattr(textdiff, name, None)
        if fn is not None and hasattr(fn, "cache_clear"):
            fn.cache_clear()


def diff_figures(database_url: str, run_id_after: int) -> dict[str, Any]:
    """Time compare_versions over every (seq-1, seq) pair written after ``run_id_after``'s start,
    caches cleared before each (a real comparison of fresh texts starts cold)."""
    from sqlalchemy import select
    from sqlalchemy.orm import aliased

    from monitor.compare import compare_versions
    from monitor.detect import version_view
    from storage.db import make_engine, session_factory
    from storage.models import Version

    engine = make_engine(database_url)
    times: list[float] = []
    events = 0
    try:
        with session_factory(engine)() as session:
            old = aliased(Version)
            pairs = session.execute(
                select(old, Version).join(old, (old.document_id == Version.document_id)
                                          & (old.seq == Version.seq - 1))
                .where(Version.crawl_run_id > run_id_after).order_by(Version.id)).all()
            views = [(version_view(a), version_view(b)) for a, b in pairs]
        compare_versions(*views[0]) if views else None  # imports and dictionaries, not timed
        for a, b in views:
            clear_diff_caches()
            started = time.perf_counter()
            events += len(compare_versions(a, b))
            times.append((time.perf_counter() - started) * 1000)
    finally:
        engine.dispose()
    return {"pairs": len(times), "events": events, "p50_ms": _percentile(times, 0.50),
            "p95_ms": _percentile(times, 0.95), "max_ms": max(times) if times else float("nan")}


def digest_figures(database_url: str, events: int = DIGEST_EVENTS, repeats: int = 3) -> dict[str, Any]:
    """Insert ``events`` events (copies of the stored ones, else wording changes) through
    storage.events.add_event; then, as the digest job does it for one subscriber, select them
    (pending_for: undelivered, enriched) and render one digest (build_digest + build_message,
    serialized), without sending."""
    from sqlalchemy import select

    from monitor.digest import PREVIEW_SENDER, build_digest, build_message, pending_for
    from storage.db import make_engine, session_factory, session_scope
    from storage.events import add_event
    from storage.models import ChangeEvent, Document, Version
    from storage.subscribers import upsert_subscriber

    engine = make_engine(database_url)
    sessions = session_factory(engine)
    try:
        with session_scope(sessions) as session:
            templates = list(session.scalars(select(ChangeEvent).order_by(ChangeEvent.id).limit(events)))
            if not templates:  # no detected events: wording changes on stored documents
                docs = list(session.scalars(select(Document).limit(events)))
                for doc in docs:
                    version = session.scalar(select(Version).where(Version.document_id == doc.id).limit(1))
                    templates.append(ChangeEvent(
                        type="wording_changed", source_id=doc.source_id, document_id=doc.id,
                        version_from_id=version.id if version else None,
                        version_to_id=version.id if version else None,
                        before="全面建设数字经济强省", after="加快建设数字经济强省",
                        summary="正文表述修改", details={}))
            if not templates:
                raise RuntimeError("no documents stored: cannot build digest events")
            started = time.perf_counter()
            for i in range(events):
                t = templates[i % len(templates)]
                add_event(session, type=t.type, source_id=t.source_id, document_id=t.document_id,
                          summary=t.summary, version_from_id=t.version_from_id,
                          version_to_id=t.version_to_id, task_label=t.task_label,
                          task_title=t.task_title, before=t.before, after=t.after,
                          details=dict(t.details or {}), related_document_id=t.related_document_id)
            insert_s = time.perf_counter() - started
            subscriber, _ = upsert_subscriber(session, "bench@example.org", cadence="daily",
                                              filters={}, origin="cli")
            subscriber_id = subscriber.id
        select_ms: list[float] = []
        render_ms: list[float] = []
        size = 0
        count = 0
        for _ in range(repeats):
            with session_scope(sessions) as session:
                from storage.models import Subscriber

                subscriber = session.get(Subscriber, subscriber_id)
                started = time.perf_counter()
                pending = pending_for(session, subscriber, limit=events)
                middle = time.perf_counter()
                digest = build_digest(session, pending, recipient=subscriber.email)
                message = build_message(digest, sender=PREVIEW_SENDER, recipient=subscriber.email)
                size = len(message.as_bytes())
                ended = time.perf_counter()
            count = len(pending)
            select_ms.append((middle - started) * 1000)
            render_ms.append((ended - middle) * 1000)
    finally:
        engine.dispose()
    return {"events": count, "insert_s": insert_s, "select_ms": statistics.median(select_ms),
            "render_ms": statistics.median(render_ms), "render_cold_ms": render_ms[0],
            "message_bytes": size}


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


# -- floors and peer -------------------------------------------------------------------------
def floor(which: str, args: list[str], timeout: float) -> dict[str, Any]:
    done = _run_bounded([sys.executable, "-m", "bench.floors", which, *args], timeout=timeout,
                        env=_clean_env())
    if done.returncode != 0:
        raise RuntimeError(f"{which} floor failed: {done.stderr[-1500:]}")
    return json.loads(done.stdout)


def urlwatch_run(site: ReleasedSite, paths: dict[str, Path], workdir: Path, label: str,
                 timeout: float) -> dict[str, Any]:
    site.reset_counts()
    result = measured(urlwatch_peer.command(paths), workdir, label, timeout=timeout,
                      env=urlwatch_peer.environment(paths))
    if result["returncode"] != 0:
        raise RuntimeError(f"{label}: urlwatch exited {result['returncode']}: {result['stderr'][-1500:]}")
    counts = dict(site.counts)
    return {"label": label, "seconds": result["seconds"],
            "cpu_seconds": result["cpu_user"] + result["cpu_system"],
            "peak_rss_mb": result.get("peak_tree_rss_bytes", result["peak_rss_bytes"]) / MB, "requests": counts.get("requests", 0),
            "detail_304": counts.get("detail_304", 0), "detail_200": counts.get("detail_200", 0),
            "mb_sent": counts.get("bytes", 0) / MB,
            "pages_per_s": site.documents / result["seconds"] if result["seconds"] else 0.0}


# -- machine ---------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        import psutil

        memory = psutil.virtual_memory().total
    except Exception:
        try:
            for line in Path("/proc/meminfo").read_text().splitlines():
                if line.startswith("MemTotal:"):
                    memory = int(line.split()[1]) * 1024
        except OSError:
            pass
    return {"platform": platform.platform(), "cpu": cpu, "cpus": os.cpu_count(),
            "python": f"{platform.python_version()} ({platform.python_implementation()})",
            "memory_gib": (memory or 0) / 2**30}


# -- profile ---------------------------------------------------------------------------------
def profile_summary(path: Path, top: int = 25) -> dict[str, Any]:
    import pstats

    stats = pstats.Stats(str(path))
    total = stats.total_tt or 1e-9  # type: ignore[attr-defined]
    rows = []
    for (filename, line, name), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        short = filename.replace(str(ROOT) + "/", "")
        if "site-packages/" in short:
            short = short.split("site-packages/", 1)[1]
        rows.append({"function": f"{short}:{line}({name})", "calls": calls, "tottime": tottime,
                     "cumtime": cumtime})
    by_self = sorted(rows, key=lambda r: r["tottime"], reverse=True)[:top]
    by_cum = sorted(rows, key=lambda r: r["cumtime"], reverse=True)[: top * 2]
    return {"tool": "cProfile (main thread only)", "samples": 0,
            "inclusive": [(r["function"], 100 * r["cumtime"] / total) for r in by_cum],
            "own": [(r["function"], 100 * r["tottime"] / total) for r in by_self]}


# -- the run ---------------------------------------------------------------------------------
PACKAGES = ("crawler", "storage", "monitor")


def precompile() -> str:
    """Compile policywatch's modules to bytecode once, before anything is timed, as pip does for
    an installed package (urlwatch's and Scrapy's are compiled so). An editable install has none,
    and with PYTHONDONTWRITEBYTECODE (set on these machines) every crawl would compile ~50
    modules in each of its processes again: ~0.1 s of the crawl process's start."""
    import compileall

    root = Path(__file__).resolve().parent.parent
    ok = all(compileall.compile_dir(str(root / name), quiet=2) for name in PACKAGES)
    return "compiled before the runs" if ok else "could not be compiled: compiled by each run"


def run_bench(opts: BenchOptions) -> BenchResult:
    log = opts.log
    t_start = time.perf_counter()
    bytecode = precompile()
    crawl_opts, _source_opts, dropped = accepted_options()
    info: dict[str, Any] = {"machine": machine(), "options": opts, "dropped_options": dropped,
                            "crawl_options": crawl_opts, "backends": {}, "bytecode": bytecode}
    timeout = max(300.0, opts.docs * opts.timeout_per_doc)
    site = ReleasedSite(opts.docs, revise_percent=opts.revise)
    base = site.start()
    info["revised"] = len(site.revised_indexes())
    info["expected_changes"] = site.expected_changes()
    pg_server = None

    def stamp(msg: str) -> None:
        log(f"[bench {time.perf_counter() - t_start:7.1f}s] {msg}")

    try:
        with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp_name:
            tmp = Path(tmp_name)
            stamp(f"synthetic site of {opts.docs} documents at {base} ({info['revised']} revised in release 1)")
            # floors
            info["fetch_floor"] = floor("fetch", ["--base", base, "--docs", str(opts.docs), "--threads", "16"],
                                        timeout)
            stamp(f"fetch floor: {info['fetch_floor']['pages_per_s']:.0f} pages/s")
            info["scrapy_floor"] = floor("scrapy", ["--base", base, "--docs", str(opts.docs)], timeout)
            stamp(f"Scrapy floor: {info['scrapy_floor']['pages_per_s']:.0f} pages/s")
            info["parse_floor"] = floor("parse", ["--docs", str(opts.docs), "--sample", str(opts.parse_sample)],
                                        timeout)
            stamp(f"parse floor: {info['parse_floor']['pages_per_s']:.0f} pages/s "
                  f"({info['parse_floor']['pages']} pages)")
            info["stages"] = floor("stages", ["--docs", str(opts.docs), "--sample", str(opts.parse_sample)],
                                   timeout)
            info["start_crawl"] = small_crawl(1, opts, tmp, stamp)
            stamp(f"stages alone: analysis {info['stages']['analysis_ms']:.2f} ms/page, storage "
                  f"{info['stages']['store_ms']:.2f} ms/version; a one-document crawl "
                  f"{info['start_crawl']['seconds']:.2f} s")
            # the peer, release 0
            uw_paths = None
            if opts.urlwatch and urlwatch_peer.available():
                uw_paths = urlwatch_peer.prepare(tmp / "urlwatch", [site.detail_url(base, i) for i in range(opts.docs)])
                info["urlwatch_version"] = urlwatch_peer.version()
                info["urlwatch_first"] = urlwatch_run(site, uw_paths, tmp, "urlwatch-first", timeout)
                stamp(f"urlwatch first check: {info['urlwatch_first']['seconds']:.1f}s")
                info["urlwatch_recheck"] = urlwatch_run(site, uw_paths, tmp, "urlwatch-recheck", timeout)
                stamp(f"urlwatch unchanged recheck: {info['urlwatch_recheck']['seconds']:.1f}s")
            else:
                info["urlwatch_skipped"] = ("switched off (--no-urlwatch)" if not opts.urlwatch
                                            else "not installed (pip install urlwatch)")
                stamp(f"urlwatch skipped: {info['urlwatch_skipped']}")
            # the backends
            for backend in opts.backends:
                site.release = 0
                bdir = tmp / backend
                bdir.mkdir()
                if backend == "sqlite":
                    url = f"sqlite:///{bdir / 'bench.db'}"
                elif backend == "postgresql":
                    if pg_server is None:
                        from tests.servers import PostgresServer

                        pg_server = PostgresServer().start()
                    url = pg_server.create_database("bench")
                else:
                    raise ValueError(f"unknown backend {backend!r} (sqlite, postgresql)")
                info["backends"][backend] = run_backend(site, base, url, bdir, opts, timeout, stamp,
                                                        diff=not any("diff" in b for b in info["backends"].values()))
            # the peer, release 1 (the last backend left the site at release 1)
            if uw_paths is not None:
                site.release = 1
                info["urlwatch_changed"] = urlwatch_run(site, uw_paths, tmp, "urlwatch-changed", timeout)
                stamp(f"urlwatch changed recheck: {info['urlwatch_changed']['seconds']:.1f}s")
            site.release = 0
            # the first-crawl aims, at the size they are stated for: urlwatch and each backend
            # on a fresh site of aim_docs documents
            if 0 < opts.aim_docs < opts.docs:  # else the main first crawl is that size or smaller
                info["aim_first"] = median_pair([
                    aim_first_crawls(opts.aim_docs, opts, tmp, stamp, pg_server,
                                     uw=uw_paths is not None, pair=pair)
                    for pair in range(1, max(1, opts.aim_pairs) + 1)])
            # peak RSS growth: the first crawl at N/10 (SQLite)
            small = opts.rss_small or max(10, opts.docs // 10)
            info["rss_small"] = small_crawl(small, opts, tmp, stamp)
            if opts.profile:
                info["profile"] = profile_crawl(min(opts.docs, opts.profile_docs), opts, tmp, stamp)
    finally:
        site.stop()
        if pg_server is not None:
            pg_server.stop()
    info["elapsed_s"] = time.perf_counter() - t_start
    info["ideal"] = ideal_pipeline(info, _aim_size(info))
    figures = collect_figures(info)
    markdown = render_markdown(info, figures)
    if opts.out is not None:
        Path(opts.out).write_text(markdown, encoding="utf-8")
    stamp(f"done in {info['elapsed_s']:.0f}s")
    return BenchResult(figures=figures, markdown=markdown, details=info)


def run_backend(site: ReleasedSite, base: str, url: str, bdir: Path, opts: BenchOptions,
                timeout: float, stamp: Callable[[str], None], *, diff: bool) -> dict[str, Any]:
    from storage.db import upgrade

    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    upgrade(url)
    incremental = write_config(bdir / "incremental.toml", url, base, opts.docs, full_sweep_every=10)
    full = write_config(bdir / "full.toml", url, base, opts.docs, full_sweep_every=1)
    out: dict[str, Any] = {"url_kind": backend}
    out["first"] = crawl_once(site, incremental, bdir, f"{backend}-first", timeout=timeout)
    stamp(f"{backend} first crawl: {out['first']['seconds']:.1f}s, {out['first']['docs_per_s']:.1f} docs/s, "
          f"peak RSS {out['first']['peak_rss_mb']:.0f} MB")
    out["unchanged_incremental"] = crawl_once(site, incremental, bdir, f"{backend}-unchanged-inc", timeout=timeout)
    stamp(f"{backend} unchanged recrawl (incremental): {out['unchanged_incremental']['seconds']:.1f}s")
    out["unchanged_full"] = crawl_once(site, full, bdir, f"{backend}-unchanged-full", timeout=timeout)
    stamp(f"{backend} unchanged recrawl (full sweep): {out['unchanged_full']['seconds']:.1f}s")
    before = max_event_id(url)
    site.release = 1
    out["changed"] = crawl_once(site, full, bdir, f"{backend}-changed", timeout=timeout)
    out["changed"]["events_by_type"] = events_by_type(url, before)
    stamp(f"{backend} changed recrawl: {out['changed']['seconds']:.1f}s, "
          f"{out['changed']['versions_new']} new versions, {out['changed']['events']} events")
    out["storage"] = storage_figures(url)
    stamp(f"{backend} storage: {out['storage']['bytes_per_version'] / 1024:.1f} KiB/version, "
          f"{out['storage']['ratio_to_compressed']:.2f}x compressed texts")
    if diff:
        from sqlalchemy import func, select

        from storage.db import make_engine
        from storage.models import CrawlRun

        engine = make_engine(url)
        with engine.connect() as conn:
            last_run = int(conn.execute(select(func.max(CrawlRun.id))).scalar() or 0)
        engine.dispose()
        out["diff"] = diff_figures(url, last_run - 1)
        stamp(f"diff of {out['diff']['pairs']} version pairs: p50 {out['diff']['p50_ms']:.1f} ms, "
              f"p95 {out['diff']['p95_ms']:.1f} ms")
    out["digest"] = digest_figures(url)
    stamp(f"{backend} digest of {out['digest']['events']} events: render {out['digest']['render_ms']:.0f} ms")
    return out


def aim_first_crawls(docs: int, opts: BenchOptions, tmp: Path, stamp: Callable[[str], None],
                     pg_server: Any, *, uw: bool, pair: int = 1) -> dict[str, Any]:
    """urlwatch's first check and each backend's first crawl of the same fresh site (``pair``:
    which of several such runs, for its directory and database names)."""
    from storage.db import upgrade

    site = ReleasedSite(docs, revise_percent=opts.revise)
    base = site.start()
    timeout = max(300.0, docs * opts.timeout_per_doc)
    out: dict[str, Any] = {"docs": docs, "backends": {}, "bytecode": precompile()}
    try:
        adir = tmp / f"aim-{docs}-{pair}"
        adir.mkdir()
        if uw:
            paths = urlwatch_peer.prepare(adir / "urlwatch", [site.detail_url(base, i) for i in range(docs)])
            out["urlwatch_first"] = urlwatch_run(site, paths, adir, f"urlwatch-first-{docs}", timeout)
            stamp(f"urlwatch first check of {docs}: {out['urlwatch_first']['seconds']:.1f}s")
        for backend in opts.backends:
            bdir = adir / backend
            bdir.mkdir()
            url = (f"sqlite:///{bdir / 'bench.db'}" if backend == "sqlite"
                   else pg_server.create_database(f"aim{docs}_{pair}"))
            upgrade(url)
            config = write_config(bdir / "crawl.toml", url, base, docs, full_sweep_every=10)
            row = crawl_once(site, config, bdir, f"{backend}-first-{docs}", timeout=timeout)
            out["backends"][backend] = row
            stamp(f"{backend} first crawl of {docs}: {row['seconds']:.1f}s, {row['docs_per_s']:.1f} docs/s")
    finally:
        site.stop()
    return out


def median_pair(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several ``aim_first_crawls`` as one: each crawler's run of median time (the lower of the
    two middle ones for an even number), ``ratios``: per backend, its speed ÷ urlwatch's in each
    pair (a pair's two runs saw about the same load), and ``pairs``, the runs themselves."""
    def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
        middle = statistics.median_low(run["seconds"] for run in runs)
        return next(run for run in runs if run["seconds"] == middle)

    out: dict[str, Any] = {"docs": pairs[0]["docs"], "bytecode": pairs[0]["bytecode"], "pairs": pairs,
                           "backends": {}, "ratios": {}}
    if all(p.get("urlwatch_first") for p in pairs):
        out["urlwatch_first"] = median_run([p["urlwatch_first"] for p in pairs])
    for backend in pairs[0]["backends"]:
        out["backends"][backend] = median_run([p["backends"][backend] for p in pairs])
        if "urlwatch_first" in out:
            out["ratios"][backend] = [p["backends"][backend]["docs_per_s"] / p["urlwatch_first"]["pages_per_s"]
                                      for p in pairs]
    return out


def ideal_pipeline(info: dict[str, Any], docs: int) -> dict[str, float]:
    """The first crawl of ``docs`` documents as no pipeline of these parts can beat: the start
    of a one-document crawl (interpreter, imports, workers, the list page and one document),
    then every other page's CPU (the Scrapy floor's, the analysis's and the storing's, each
    measured alone) spread over every core with nothing lost to queues, pickling, waiting or
    an idle core. A bound from below: the real pipeline has all of those."""
    scrapy = info["scrapy_floor"]
    per_page = (scrapy["cpu_seconds"] / scrapy["pages"]
                + (info["stages"]["analysis_ms"] + info["stages"]["store_ms"]) / 1000)
    cpus = info["machine"]["cpus"] or 1
    seconds = info["start_crawl"]["seconds"] + max(docs - 1, 0) * per_page / cpus
    return {"docs": docs, "cpus": cpus, "cpu_ms_per_page": per_page * 1000, "seconds": seconds,
            "docs_per_s": docs / seconds}


def small_crawl(docs: int, opts: BenchOptions, tmp: Path, stamp: Callable[[str], None]) -> dict[str, Any]:
    from storage.db import upgrade

    site = ReleasedSite(docs, revise_percent=opts.revise)
    base = site.start()
    try:
        sdir = tmp / f"small-{docs}"
        sdir.mkdir()
        url = f"sqlite:///{sdir / 'bench.db'}"
        upgrade(url)
        config = write_config(sdir / "crawl.toml", url, base, docs, full_sweep_every=10)
        row = crawl_once(site, config, sdir, f"first-{docs}", timeout=max(300.0, docs * opts.timeout_per_doc))
    finally:
        site.stop()
    stamp(f"first crawl of {docs} documents (SQLite): {row['seconds']:.1f}s, peak RSS {row['peak_rss_mb']:.0f} MB")
    return row


def profile_crawl(docs: int, opts: BenchOptions, tmp: Path, stamp: Callable[[str], None]) -> dict[str, Any]:
    """The first crawl of ``docs`` documents under py-spy (``--gil``: samples the thread that
    holds the interpreter lock, so the reactor thread and the storage thread both count), or
    under cProfile when py-spy is missing (main thread only: it misses the storage thread)."""
    import shutil

    from storage.db import upgrade

    site = ReleasedSite(docs, revise_percent=opts.revise)
    base = site.start()
    spy = shutil.which("py-spy")
    try:
        pdir = tmp / f"profile-{docs}"
        pdir.mkdir()
        url = f"sqlite:///{pdir / 'bench.db'}"
        upgrade(url)
        config = write_config(pdir / "crawl.toml", url, base, docs, full_sweep_every=10)
        prof = pdir / ("crawl.spy.txt" if spy else "crawl.prof")
        limit = max(300.0, docs * opts.timeout_per_doc * 3)
        if spy:
            site.reset_counts()
            cmd = [spy, "record", "--gil", "-r", "200", "--format", "raw", "-o", str(prof), "--",
                   sys.executable, "-m", "monitor", "crawl", "--config", str(config), "--format", "json", "--quiet"]
            result = measured(cmd, pdir, f"profile-{docs}", timeout=limit, env=_clean_env())
            if result["returncode"] != 0 or not prof.exists():
                raise RuntimeError(f"py-spy failed: {result['stderr'][-1500:]}")
            summary = spy_profile(prof)
            row = {"seconds": result["seconds"]}
        else:
            row = crawl_once(site, config, pdir, f"profile-{docs}", profile_to=prof, timeout=limit)
            summary = profile_summary(prof)
    finally:
        site.stop()
    stamp(f"profiled first crawl of {docs} documents: {row['seconds']:.1f}s under {summary['tool']}")
    return {"docs": docs, "row": row, **summary}


def spy_profile(path: Path, top: int = 40) -> dict[str, Any]:
    from bench.spy_summary import summarize

    total, inclusive, own = summarize(path)
    interesting = ("crawler/", "storage/", "monitor/", "scrapy/core", "bs4/__init__", "soupsieve",
                   "sqlalchemy/orm/session.py", "json/", "jieba", "lxml", "twisted/internet")
    inc = [(k, 100 * n / max(total, 1)) for k, n in inclusive.most_common()
           if any(s in k for s in interesting)][:top]
    own_rows = [(k, 100 * n / max(total, 1)) for k, n in own.most_common(top)]
    return {"tool": "py-spy --gil (200 Hz)", "samples": total, "inclusive": inc, "own": own_rows}


# -- figures and report ----------------------------------------------------------------------
def collect_figures(info: dict[str, Any]) -> dict[str, float]:
    f: dict[str, float] = {
        "floor.fetch.pages_per_s": info["fetch_floor"]["pages_per_s"],
        "floor.parse.pages_per_s": info["parse_floor"]["pages_per_s"],
        "floor.scrapy.pages_per_s": info["scrapy_floor"]["pages_per_s"],
        "stages.analysis_ms": info["stages"]["analysis_ms"],
        "stages.store_ms": info["stages"]["store_ms"],
        "start_crawl.seconds": info["start_crawl"]["seconds"],
    }
    ideal = info["ideal"]
    f["ideal.docs_per_s"] = ideal["docs_per_s"]
    f["ideal.seconds"] = ideal["seconds"]
    for key in ("urlwatch_first", "urlwatch_recheck", "urlwatch_changed"):
        if key in info:
            row = info[key]
            name = "urlwatch." + key.split("_", 1)[1]
            f[f"{name}.seconds"] = row["seconds"]
            f[f"{name}.pages_per_s"] = row["pages_per_s"]
            f[f"{name}.requests"] = row["requests"]
            f[f"{name}.mb_sent"] = row["mb_sent"]
            f[f"{name}.peak_rss_mb"] = row["peak_rss_mb"]
    for backend, b in info["backends"].items():
        for run in ("first", "unchanged_incremental", "unchanged_full", "changed"):
            row = b[run]
            for key in ("seconds", "cpu_seconds", "docs_per_s", "requests", "detail_304", "mb_sent",
                        "peak_rss_mb", "versions_new", "events"):
                f[f"{backend}.{run}.{key}"] = float(row[key] or 0)
        f[f"{backend}.changed.expected_events"] = float(sum(info["expected_changes"].values()))
        s = b["storage"]
        f[f"{backend}.storage.bytes_per_version"] = s["bytes_per_version"]
        f[f"{backend}.storage.ratio_to_compressed"] = s["ratio_to_compressed"]
        f[f"{backend}.storage.ratio_to_compressed_all"] = s["ratio_to_compressed_all"]
        f[f"{backend}.digest.select_ms"] = b["digest"]["select_ms"]
        f[f"{backend}.digest.render_ms"] = b["digest"]["render_ms"]
        if "diff" in b:
            f["diff.p50_ms"] = b["diff"]["p50_ms"]
            f["diff.p95_ms"] = b["diff"]["p95_ms"]
            f["diff.pairs"] = float(b["diff"]["pairs"])
    aim = info.get("aim_first")
    if aim:
        if aim.get("urlwatch_first"):
            f["aim.urlwatch_first.pages_per_s"] = aim["urlwatch_first"]["pages_per_s"]
        for backend, row in aim["backends"].items():
            f[f"aim.{backend}.first.docs_per_s"] = row["docs_per_s"]
            f[f"aim.{backend}.first.seconds"] = row["seconds"]
            if backend in aim["ratios"]:
                f[f"aim.{backend}.ratio_to_urlwatch"] = statistics.median(aim["ratios"][backend])
        f["aim.pairs"] = float(len(aim["pairs"]))
    small = info["rss_small"]
    f["rss.small.docs"] = float(small["documents_seen"] or 0)
    f["rss.small.peak_rss_mb"] = small["peak_rss_mb"]
    if "sqlite" in info["backends"] or info["backends"]:
        big = info["backends"].get("sqlite") or next(iter(info["backends"].values()))
        f["rss.ratio"] = big["first"]["peak_rss_mb"] / max(small["peak_rss_mb"], 1e-9)
    return f


def _aim_size(info: dict[str, Any]) -> int:
    """The size of the first crawl the aims are judged on (aims())."""
    aim = info.get("aim_first")
    return aim["docs"] if aim else info["options"].docs


def _x(a: float | None, b: float | None) -> str:
    if a is None or b is None or not b or (isinstance(a, float) and math.isnan(a)):
        return "–"
    return f"{a / b:.2f}×"


def _num(v: float, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if abs(v) >= 100 or float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def render_markdown(info: dict[str, Any], f: dict[str, float]) -> str:
    m = info["machine"]
    opts: BenchOptions = info["options"]
    backends = list(info["backends"])
    uw = "urlwatch_first" in info
    docs = opts.docs
    fetch = info["fetch_floor"]["pages_per_s"]
    parse = info["parse_floor"]["pages_per_s"]
    lines = [
        f"# policywatch pipeline benchmark ({docs:,} documents, {opts.revise}% revised)", "",
        f"- machine: {m['platform']}, {m['cpu']}, {m['cpus']} CPUs, {m['memory_gib']:.1f} GiB, Python {m['python']}",
        f"- command: `{opts.command}`; policywatch's bytecode: {info.get('bytecode', 'not recorded')}",
        f"- run time: {info['elapsed_s']:.0f} s; backends: {', '.join(backends) or 'none'}; "
        f"urlwatch: {info.get('urlwatch_version') or info.get('urlwatch_skipped')}",
        f"- crawl settings: `[crawl] {', '.join(f'{k} = {_toml(v)}' for k, v in info['crawl_options'].items())}`"
        + (f"; not accepted by this checkout, left out: {', '.join(info['dropped_options'])}"
           if info["dropped_options"] else ""),
        f"- site: {docs:,} detail pages (~{info['fetch_floor']['bytes'] / max(docs, 1) / 1024:.1f} KiB each) "
        f"from the 5 seeds, {PAGE_SIZE} to a list page; release 1 edits {info['revised']} of them "
        f"(expected events: {', '.join(f'{k} {v}' for k, v in sorted(info['expected_changes'].items()))})",
        "- each crawl: `python -m monitor crawl --config … --format json --quiet` in a child process; "
        "time = wall clock of the child (interpreter start included); peak RSS = the largest sum over the child and its page-analysis workers (sampled every 0.1 s)",
        "",
        "## Floors and peer", "",
        "| figure | value |", "|---|---|",
        f"| fetch floor (http.client, 16 threads, keep-alive) | {_num(fetch)} pages/s |",
        f"| Scrapy floor (a spider that discards the pages, 16 concurrent, engine time) | "
        f"{_num(info['scrapy_floor']['pages_per_s'])} pages/s, CPU {info['scrapy_floor']['cpu_seconds']:.1f} s |",
        f"| parse floor (BeautifulSoup+lxml `.article-content` get_text, 1 core, "
        f"{info['parse_floor']['pages']:,} pages) | {_num(parse)} pages/s |",
        f"| policywatch's stages alone (1 process, pages in memory, {info['stages']['pages']:,} pages): "
        f"analysis (`build_snapshot`), storage (`store_snapshot`, SQLite) | "
        f"{info['stages']['analysis_ms']:.2f} ms, {info['stages']['store_ms']:.2f} ms of CPU a page |",
        f"| start: a first crawl of one document (interpreter, imports, workers, one list page) | "
        f"{info['start_crawl']['seconds']:.2f} s |",
    ]
    if uw:
        for key, label in (("urlwatch_first", "urlwatch first check"), ("urlwatch_recheck", "urlwatch unchanged recheck"),
                           ("urlwatch_changed", "urlwatch changed recheck (release 1)")):
            if key in info:
                r = info[key]
                lines.append(f"| {label} | {r['seconds']:.1f} s, {_num(r['pages_per_s'])} pages/s, "
                             f"{r['requests']:,} requests ({r['detail_304']:,} × 304), {r['mb_sent']:.1f} MB, "
                             f"peak RSS {r['peak_rss_mb']:.0f} MB, CPU {r['cpu_seconds']:.1f} s |")
    else:
        lines.append(f"| urlwatch | skipped: {info['urlwatch_skipped']} |")
    lines += ["", "## policywatch", ""]
    head = "| figure | " + " | ".join(backends) + " | compared with |"
    lines += [head, "|---|" + "---|" * len(backends) + "---|"]
    uwf = info.get("urlwatch_first")
    uwr = info.get("urlwatch_recheck")
    uwc = info.get("urlwatch_changed")

    def row(label: str, cell: Callable[[str, dict[str, Any]], str], compare: Callable[[str, dict[str, Any]], str]) -> None:
        cmp_cells = [compare(bk, info["backends"][bk]) for bk in backends]
        joined = " / ".join(c for c in cmp_cells if c) if len(set(cmp_cells)) > 1 else (cmp_cells[0] if cmp_cells else "")
        lines.append(f"| {label} | " + " | ".join(cell(bk, info["backends"][bk]) for bk in backends)
                     + f" | {joined} |")

    def vs_first(_bk: str, b: dict[str, Any]) -> str:
        r = b["first"]["docs_per_s"]
        parts = [f"{_x(r, fetch)} fetch floor", f"{_x(r, parse)} parse floor"]
        if uwf:
            parts.append(f"{_x(r, uwf['pages_per_s'])} urlwatch first check")
        return ", ".join(parts)

    row("first crawl: documents/s", lambda bk, b: f"{_num(b['first']['docs_per_s'])}", vs_first)
    row("first crawl: time, CPU (s)", lambda bk, b: f"{b['first']['seconds']:.1f}, {b['first']['cpu_seconds']:.1f}",
        lambda bk, b: f"{_x(b['first']['seconds'], uwf['seconds'])} urlwatch's time" if uwf else "")
    row("first crawl: requests, MB sent",
        lambda bk, b: f"{b['first']['requests']:,}, {b['first']['mb_sent']:.1f}",
        lambda bk, b: f"urlwatch {uwf['requests']:,}, {uwf['mb_sent']:.1f}" if uwf else "")
    row("first crawl: peak RSS (MB)", lambda bk, b: f"{b['first']['peak_rss_mb']:.0f}",
        lambda bk, b: f"{_x(b['first']['peak_rss_mb'], uwf['peak_rss_mb'])} urlwatch's" if uwf else "")
    for run, label in (("unchanged_incremental", "unchanged recrawl, incremental walk (default)"),
                       ("unchanged_full", "unchanged recrawl, full sweep")):
        row(f"{label}: time (s)", lambda bk, b, run=run: f"{b[run]['seconds']:.1f}",
            lambda bk, b, run=run: (f"{_x(b[run]['seconds'], uwr['seconds'])} urlwatch recheck" if uwr else "")
            + f"; {_x(b[run]['seconds'], b['first']['seconds'])} first crawl")
        row(f"{label}: requests (304), MB sent",
            lambda bk, b, run=run: f"{b[run]['requests']:,} ({b[run]['detail_304']:,}), {b[run]['mb_sent']:.2f}",
            lambda bk, b, run=run: f"urlwatch {uwr['requests']:,} ({uwr['detail_304']:,}), {uwr['mb_sent']:.2f}" if uwr else "")
    row("changed recrawl (release 1, full sweep): time (s)", lambda bk, b: f"{b['changed']['seconds']:.1f}",
        lambda bk, b: f"{_x(b['changed']['seconds'], uwc['seconds'])} urlwatch changed recheck" if uwc else "")
    row("changed recrawl: new versions / revised documents",
        lambda bk, b: f"{b['changed']['versions_new']} / {info['revised']}", lambda bk, b: "")
    row("changed recrawl: events / expected",
        lambda bk, b: f"{b['changed']['events']} / {sum(info['expected_changes'].values())}",
        lambda bk, b: ", ".join(f"{k} {v}" for k, v in sorted(b["changed"]["events_by_type"].items())))
    row("storage: bytes per document version",
        lambda bk, b: f"{_num(b['storage']['bytes_per_version'])} ({b['storage']['versions']:,} versions)",
        lambda bk, b: "")
    row("storage ÷ zlib-6 of the distinct normalized texts",
        lambda bk, b: f"{b['storage']['ratio_to_compressed']:.2f}×",
        lambda bk, b: f"{b['storage']['compressed_bytes'] / max(b['storage']['distinct_texts'], 1):,.0f} B compressed per text")
    row("storage ÷ zlib-6 of every version's normalized text (no dedup)",
        lambda bk, b: f"{b['storage']['ratio_to_compressed_all']:.2f}×",
        lambda bk, b: "the baseline when no two documents share a body")
    row("digest of 1,000 events: select+enrich (ms)", lambda bk, b: f"{b['digest']['select_ms']:.0f}", lambda bk, b: "")
    row("digest of 1,000 events: render, text+HTML+MIME (ms)",
        lambda bk, b: f"{b['digest']['render_ms']:.0f} (first of 3: {b['digest']['render_cold_ms']:.0f})",
        lambda bk, b: f"{b['digest']['message_bytes'] / 1024:.0f} KiB message")
    d = next((b["diff"] for b in info["backends"].values() if "diff" in b), None)
    lines.append("")
    aim = info.get("aim_first")
    if aim:
        peer = aim.get("urlwatch_first")
        runs = len(aim["pairs"])
        lines += [f"First crawl of a fresh site of {aim['docs']:,} documents (the size the aims name)"
                  + (f"; {runs} back-to-back pairs, each crawler's run of median time:" if runs > 1 else ":"), "",
                  "| crawler | time (s) | CPU (s) | documents/s | ÷ urlwatch | ÷ parse floor | ÷ Scrapy floor "
                  "| peak RSS (MB) |",
                  "|---|---|---|---|---|---|---|---|"]
        scrapy_rate = info["scrapy_floor"]["pages_per_s"]
        if peer:
            lines.append(f"| urlwatch | {peer['seconds']:.1f} | {peer['cpu_seconds']:.1f} | "
                         f"{_num(peer['pages_per_s'])} | 1.00× | {_x(peer['pages_per_s'], parse)} | "
                         f"{_x(peer['pages_per_s'], scrapy_rate)} | {peer['peak_rss_mb']:.0f} |")
        ratios = aim["ratios"]  # a backend's, whenever urlwatch ran (median_pair)
        for bk, r in aim["backends"].items():
            to_peer = f"{statistics.median(ratios[bk]):.2f}×" if bk in ratios else "–"
            lines.append(f"| policywatch, {bk} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} | {_num(r['docs_per_s'])} | "
                         f"{to_peer} | {_x(r['docs_per_s'], parse)} | {_x(r['docs_per_s'], scrapy_rate)} | "
                         f"{r['peak_rss_mb']:.0f} |")
        lines.append("")
        if runs > 1 and ratios:
            lines.append("÷ urlwatch: the median of the pairs' ratios (speed ÷ urlwatch's speed in the same pair): "
                         + "; ".join(f"{bk} " + ", ".join(f"{x:.2f}×" for x in values)
                                     for bk, values in ratios.items()) + ".")
            lines.append("")
    if d:
        lines.append(f"Diff (`monitor.compare.compare_versions`, caches cleared, every version pair of the "
                     f"changed recrawl): {d['pairs']} pairs, p50 {d['p50_ms']:.1f} ms, p95 {d['p95_ms']:.1f} ms, "
                     f"max {d['max_ms']:.1f} ms, {d['events']} events.")
    small = info["rss_small"]
    if "rss.ratio" in f:
        lines.append(f"Peak RSS of the first crawl (SQLite): {f['rss.small.peak_rss_mb']:.0f} MB at "
                     f"{int(f['rss.small.docs']):,} documents, "
                     f"{f['rss.small.peak_rss_mb'] * f['rss.ratio']:.0f} MB at {docs:,}: {f['rss.ratio']:.2f}× "
                     f"(first crawl of {int(f['rss.small.docs']):,}: {small['seconds']:.1f} s, "
                     f"{small['docs_per_s']:.1f} docs/s).")
    lines += ["", "Storage breakdown: the contents are blobs (`storage.content`), stored once per distinct "
              "content, zstd against similar contents; logical bytes of the blobs the versions refer to, "
              "then on-disk bytes by table with its indexes:", ""]
    lines += ["| backend | on disk | blobs: pages (body + structure) | texts | normalized | all blobs | "
              "distinct texts, zlib-6 |", "|---|---|---|---|---|---|---|"]
    for bk, b in info["backends"].items():
        s = b["storage"]
        c = s["blob_bytes"]
        lines.append(f"| {bk} | {s['bytes'] / MB:.2f} MB | {c['page'] / MB:.2f} MB | {c['text'] / MB:.2f} MB | "
                     f"{c['normalized_text'] / MB:.2f} MB | {c['all'] / MB:.2f} MB | "
                     f"{s['compressed_bytes'] / MB:.2f} MB ({s['distinct_texts']:,} texts, "
                     f"{s['distinct_text_bytes'] / MB:.1f} MB raw) |")
    for bk, b in info["backends"].items():
        tables = sorted(b["storage"].get("table_bytes", {}).items(), key=lambda kv: -kv[1])
        if tables:
            lines.append("")
            lines.append(f"{bk}, on disk by table: " + ", ".join(f"{name} {size / 1024:,.0f} KiB"
                                                              for name, size in tables if size))
    for bk, b in info["backends"].items():
        for run in ("first", "unchanged_incremental", "unchanged_full", "changed"):
            if b[run]["errors"]:
                lines.append(f"\n{bk} {run}: {b[run]['errors']} errors, e.g. {b[run]['error_samples'][:2]}")
    lines += ["", "## Aims", "", "| aim | result | met |", "|---|---|---|"]
    for aim, result, met in aims(info, f):
        lines.append(f"| {aim} | {result} | {met} |")
    ideal = info["ideal"]
    scrapy_ms = info["scrapy_floor"]["cpu_seconds"] * 1000 / info["scrapy_floor"]["pages"]
    lines += ["", f"Bound: no pipeline of these parts crawls {ideal['docs']:,} documents faster than the start "
              f"above plus every other page's CPU (Scrapy floor {scrapy_ms:.2f} ms, analysis "
              f"{info['stages']['analysis_ms']:.2f} ms, storage {info['stages']['store_ms']:.2f} ms: "
              f"{ideal['cpu_ms_per_page']:.2f} ms a page) spread over {ideal['cpus']} cores "
              f"with no overhead: {ideal['seconds']:.2f} s, {_num(ideal['docs_per_s'])} docs/s, "
              f"{_x(ideal['docs_per_s'], parse)} of the parse floor (`bench.pipeline.ideal_pipeline`)."]
    if "profile" in info:
        p = info["profile"]
        lines += ["", f"## Where the first crawl's time goes ({p['tool']}, {p['docs']:,} documents, SQLite)", "",
                  f"{p['row']['seconds']:.1f} s wall under the profiler"
                  + (f", {p['samples']:,} samples" if p["samples"] else "") + ".", "",
                  "Inclusive (policywatch and the main libraries):", "", "| function | % |", "|---|---|"]
        lines += [f"| `{k}` | {pct:.1f} |" for k, pct in p["inclusive"]]
        lines += ["", "Own time:", "", "| function | % |", "|---|---|"]
        lines += [f"| `{k}` | {pct:.1f} |" for k, pct in p["own"][:25]]
    return "\n".join(lines) + "\n"


def aims(info: dict[str, Any], f: dict[str, float]) -> list[tuple[str, str, str]]:
    out = []
    uwf, uwr = info.get("urlwatch_first"), info.get("urlwatch_recheck")
    parse = info["parse_floor"]["pages_per_s"]
    aim = info.get("aim_first")
    bound = info["ideal"]["docs_per_s"]
    for bk, b in info["backends"].items():
        # the aims are stated for a first crawl of 2,000 documents: that run when there is one
        first, peer, size = b["first"], uwf, info["options"].docs
        ratios: list[float] = []
        if aim and bk in aim["backends"]:
            first, peer, size = aim["backends"][bk], aim.get("urlwatch_first"), aim["docs"]
            ratios = aim["ratios"].get(bk, [])
        r = first["docs_per_s"]
        if peer and len(ratios) > 1:  # pairs: the median of their ratios decides
            ratio = statistics.median(ratios)
            out.append((f"{bk}: first crawl of {size:,} documents at least as fast as urlwatch's first check",
                        f"{ratio:.2f}×, median of {len(ratios)} pairs "
                        f"({', '.join(f'{x:.2f}×' for x in ratios)})", _met(ratio >= 1.0)))
        elif peer:
            out.append((f"{bk}: first crawl of {size:,} documents at least as fast as urlwatch's first check",
                        f"{_num(r)} vs {_num(peer['pages_per_s'])} docs/s ({_x(r, peer['pages_per_s'])})",
                        _met(r >= peer["pages_per_s"])))
        else:
            out.append((f"{bk}: first crawl at least as fast as urlwatch's first check", "urlwatch not run", "not measured"))
        out.append((f"{bk}: first crawl of {size:,} documents at least half the parse floor",
                    f"{_num(r)} vs {_num(parse / 2)} docs/s ({_x(r, parse)} of the floor; the bound below: "
                    f"{_x(bound, parse)})", _met(r >= parse / 2)))
        for run, label in (("unchanged_incremental", "incremental walk"), ("unchanged_full", "full sweep")):
            t = b[run]["seconds"]
            if uwr:
                out.append((f"{bk}: unchanged recrawl ({label}) ≤ half urlwatch's recheck",
                            f"{t:.1f} s vs {uwr['seconds']:.1f} s ({_x(t, uwr['seconds'])})",
                            _met(t <= uwr["seconds"] / 2)))
            else:
                out.append((f"{bk}: unchanged recrawl ({label}) ≤ half urlwatch's recheck", "urlwatch not run",
                            "not measured"))
        s = b["storage"]["ratio_to_compressed"]
        out.append((f"{bk}: storage ≤ 1.2× compressed distinct texts", f"{s:.2f}× "
                    f"({b['storage']['ratio_to_compressed_all']:.2f}× every version's text compressed alone)",
                    _met(s <= 1.2)))
        ev, exp = b["changed"]["events"], sum(info["expected_changes"].values())
        out.append((f"{bk}: changed recrawl finds every revision (events = changes made)", f"{ev} / {exp}",
                    _met(ev == exp and b["changed"]["versions_new"] == info["revised"])))
    if "rss.ratio" in f:
        out.append((f"peak RSS at {info['options'].docs:,} documents ≤ 1.5× that at {int(f['rss.small.docs']):,}",
                    f"{f['rss.ratio']:.2f}×", _met(f["rss.ratio"] <= 1.5)))
    both = {"sqlite", "postgresql"} <= set(info["backends"])
    out.append(("SQLite and PostgreSQL side by side", ", ".join(info["backends"]) or "none", _met(both)))
    return out


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"
