"""The real web's faults through the replica: slow, flaky, looping, huge, bombs, dead servers,
garbage indexes, and a crawl killed half-way."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from sqlalchemy import func, select

from crawler.document import normalize_for_compare
from crawler.extract.keys import canonical_key
from crawler.snapshot import content_hash
from storage.db import session_scope
from storage.models import CrawlRun, Document, FetchError, SourceRow, Version
from tests.conftest import ROOT
from tests.test_crawl_support import (  # noqa: F401 - fixtures
    crawl,
    path_of,
    sqlite_sessions_fixture,
    sqlite_url_fixture,
    write_config,
)

DEAD_SOURCE = """
[[sources]]
name = "dead-server"
kind = "html_pages"
start_urls = ["http://127.0.0.1:9/zwgk/index.html"]
allowed_domains = ["127.0.0.1"]
"""


def test_faults_are_recorded_and_the_rest_is_stored(replica, tmp_path, sqlite_url, sqlite_sessions) -> None:
    docs = [d for d in replica.documents() if d["site"] == "gdii"]
    faults = {"slow": docs[0], "flaky": docs[1], "loop": docs[2], "huge": docs[3], "bomb": docs[4]}
    replica.set_fault("gdii", path_of(faults["slow"]["urls"][0]), "slow", delay=3)
    replica.set_fault("gdii", path_of(faults["flaky"]["urls"][0]), "flaky", failures=2, status=503)
    replica.set_fault("gdii", path_of(faults["loop"]["urls"][0]), "redirect_loop")
    replica.set_fault("gdii", path_of(faults["huge"]["urls"][0]), "huge", size=50 * 1024 * 1024)
    replica.set_fault("gdii", path_of(faults["bomb"]["urls"][0]), "gzip_bomb", size=40 * 1024 * 1024)
    replica.set_response("gd", "/gkmlpt/index", body=b"\x00garbage{{{ not an index")
    config = write_config(tmp_path, replica, sqlite_url,
                          sources=["gdii-notices", "gd-gkmlpt", "gz-zcjd"], extra_sources=DEAD_SOURCE,
                          crawl={"timeout": 1, "retry_times": 2, "max_download_bytes": 10 * 1024 * 1024})
    started = time.monotonic()
    reports = {r["source"]: r for r in crawl(config, timeout=120)}
    assert time.monotonic() - started < 60
    assert reports["gz-zcjd"]["status"] == "ok" and reports["gz-zcjd"]["documents_new"] >= 10
    assert reports["gdii-notices"]["status"] == "partial"
    assert reports["dead-server"]["status"] == "failed"
    assert reports["gd-gkmlpt"]["status"] == "failed"
    with session_scope(sqlite_sessions) as s:
        errors = {canonical_key(e.url): e for e in s.scalars(select(FetchError))}
        stored = {d.canonical_key for d in s.scalars(select(Document))}
        runs = {r.source_id: r for r in s.scalars(select(CrawlRun))}
        names = {row.id: row.name for row in s.scalars(select(SourceRow))}
        complete = {names[k]: r.listing_complete for k, r in runs.items()}

        def error(name: str) -> FetchError:
            return errors[canonical_key(faults[name]["urls"][0])]

        assert "Timeout" in error("slow").reason and error("slow").attempts == 3
        flaky_key = canonical_key(faults["flaky"]["urls"][0])
        assert flaky_key in stored, (errors[flaky_key].attempts, [x for x in replica.request_log if x[1] == path_of(faults["flaky"]["urls"][0])])
        assert "redirect" in error("loop").reason
        assert error("huge").reason.startswith("too large")
        assert error("bomb").reason.startswith("too large") and "decompress" in error("bomb").reason
        dead = [e for e in errors.values() if ":9/" in e.url]
        assert dead and dead[0].attempts == 3
        assert not complete["dead-server"] and not complete["gd-gkmlpt"]
    flaky_hits = [st for _s, p, st in replica.request_log if p == path_of(faults["flaky"]["urls"][0])]
    assert flaky_hits == [503, 503, 200]


def _versions_are_whole(sessions) -> int:
    """Every stored version is complete: its hash matches its stored content, and each document's
    version_count matches its versions."""
    with session_scope(sessions) as s:
        for version in s.scalars(select(Version)):
            assert version.normalized_text == normalize_for_compare(version.text)
            assert version.content_hash == content_hash(version.title, version.normalized_text,
                                                        version.structure, version.attachments)
        for doc in s.scalars(select(Document)):
            count = s.scalar(select(func.count(Version.id)).where(Version.document_id == doc.id))
            top = s.scalar(select(func.max(Version.seq)).where(Version.document_id == doc.id))
            assert doc.version_count == count == top, doc.canonical_key
        return s.scalar(select(func.count(Version.id)))


def test_a_crawl_killed_half_way_leaves_a_consistent_database(replica, tmp_path, sqlite_url,
                                                              sqlite_sessions) -> None:
    for doc in replica.documents():
        for url in doc["urls"]:
            replica.set_fault(doc["site"], path_of(url), "slow", delay=0.4)
    config = write_config(tmp_path, replica, sqlite_url,
                          sources=["gdii-notices", "gz-zcjd", "gxj-replies"],
                          crawl={"concurrency_per_domain": 1})
    child = subprocess.Popen([sys.executable, "-m", "monitor", "crawl", "--config", str(config), "-q"],
                             cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        stored = 0
        while time.monotonic() < deadline and stored < 6:
            time.sleep(0.2)
            with session_scope(sqlite_sessions) as s:
                stored = s.scalar(select(func.count(Version.id))) or 0
        assert stored >= 6, "the crawl stored nothing in time"
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=10)  # reaped: a zombie would still look alive
    assert _versions_are_whole(sqlite_sessions) >= 6
    with session_scope(sqlite_sessions) as s:
        assert {r.status for r in s.scalars(select(CrawlRun))} == {"running"}
        assert s.scalar(select(func.count(Document.id))) < 40

    replica.clear_overrides()
    reports = crawl(config)
    assert {r["status"] for r in reports} == {"ok"}, reports
    _versions_are_whole(sqlite_sessions)
    with session_scope(sqlite_sessions) as s:
        runs = list(s.scalars(select(CrawlRun).order_by(CrawlRun.id)))
        assert [r.status for r in runs[:3]] == ["interrupted"] * 3
        assert all(r.full_sweep and r.listing_complete for r in runs[3:])
        stored_keys = {d.canonical_key for d in s.scalars(select(Document))}
    expected = {canonical_key(d["urls"][0]) for d in replica.documents() if d["site"] in ("gdii", "gz", "gxj")}
    assert expected <= stored_keys
