"""End to end: crawl the replica through its real HTTP server into a real SQLite database."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from crawler.extract.keys import canonical_key
from storage.db import session_scope
from storage.models import ChangeEvent, CrawlRun, Document, FetchError, SourceRow, Version
from tests.conftest import run_policywatch


def crawl(config: Path, *args: str):
    result = run_policywatch("crawl", "--config", str(config), "--format", "json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def keys_by_source(sessions) -> dict[str, set[str]]:
    with session_scope(sessions) as s:
        rows = s.execute(select(SourceRow.name, Document.canonical_key).join(Document))
        out: dict[str, set[str]] = {}
        for name, key in rows:
            out.setdefault(name, set()).add(key)
        return out


def test_first_crawl_reaches_every_listed_document(replica, replica_config, sessions) -> None:
    reports = crawl(replica_config)
    assert {r["status"] for r in reports} == {"ok"}, reports
    stored = set().union(*keys_by_source(sessions).values())
    expected = {canonical_key(u) for d in replica.documents() for u in d["urls"]}
    assert expected <= stored, sorted(expected - stored)
    # every list page was requested, including the paginated ones (index_2.html …)
    paths = {path for _site, path, status in replica.request_log if status == 200}
    assert any(p.endswith("index_2.html") for p in paths)
    assert any("/gkmlpt/api/all/" in p and "page=2" in p for p in paths)
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count(ChangeEvent.id))) == 0  # the first crawl is a baseline
        assert all(r.listing_complete for r in s.scalars(select(CrawlRun)))


def test_recrawl_unchanged_then_revised(replica, replica_config, sessions) -> None:
    crawl(replica_config)
    with session_scope(sessions) as s:
        versions_before = s.scalar(select(func.count(Version.id)))
    reports = crawl(replica_config)
    with session_scope(sessions) as s:
        second = {r["run_id"] for r in reports}
        changed = [(v.url, v.seq, v.document_id, v.attachments, v.content_hash[:8])
                   for v in s.scalars(select(Version).where(Version.crawl_run_id.in_(second)))]
        errors = [(e.url, e.reason) for e in s.scalars(select(FetchError))]
    assert sum(r["versions_new"] for r in reports) == 0, (reports, changed, errors)
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count(Version.id))) == versions_before

    replica.set_release(1)
    reports = crawl(replica_config)
    new_docs = sum(r["documents_new"] for r in reports)
    changed = sum(r["versions_new"] - r["documents_new"] for r in reports)
    assert new_docs >= 1 and changed >= 1
    with session_scope(sessions) as s:
        revised = s.scalars(select(Document).where(Document.version_count == 2)).all()
        # one page was revised; it may be listed by two sources of the same site
        assert len({d.canonical_key for d in revised}) == 1
        types = {e.type for e in s.scalars(select(ChangeEvent))}
        assert "new_document" in types or "new_edition" in types


def test_one_post_under_two_urls_is_one_document(replica, replica_config, sessions) -> None:
    crawl(replica_config)
    multi = [d for d in replica.documents() if len({*d["urls"]}) > 1]
    assert multi, "the replica must list some post under two URLs"
    with session_scope(sessions) as s:
        for doc in multi:
            keys = {canonical_key(u) for u in doc["urls"]}
            assert len(keys) == 1
            rows = s.scalars(select(Document).where(Document.canonical_key == keys.pop())).all()
            # at most one document per source, never two for one post in the same source
            assert len(rows) == len({r.source_id for r in rows})


def test_broken_detail_pages_are_recorded_and_do_not_stop_the_crawl(replica, replica_config,
                                                                     sessions) -> None:
    docs = [d for d in replica.documents() if d["site"] == "gdii"]
    broken = {}
    for doc, fault in zip(docs[:4], ("404", "500", "empty", "malformed"), strict=True):
        url = doc["urls"][0]
        path = url.split("/", 3)[3]
        path = "/" + path
        broken[fault] = url
        if fault == "404":
            replica.set_response("gdii", path, status=404, body=b"not found")
        elif fault == "500":
            replica.set_response("gdii", path, status=500, body=b"oops")
        elif fault == "empty":
            replica.set_response("gdii", path, status=200, body=b"")
        else:
            replica.set_response("gdii", path, status=200,
                                 body="<html><body><div class='article-content'><p>残缺的".encode())
    reports = crawl(replica_config)
    assert all(r["status"] in ("ok", "partial") for r in reports)
    assert sum(r["documents_seen"] for r in reports) > 10
    with session_scope(sessions) as s:
        errors = {e.url: e for e in s.scalars(select(FetchError))}
    by_key = {canonical_key(u): e for u, e in errors.items()}
    assert by_key[canonical_key(broken["404"])].status == 404
    assert by_key[canonical_key(broken["500"])].status == 500
    assert "unreadable" in by_key[canonical_key(broken["empty"])].reason
    # a truncated page still has text: it is stored, not an error
    assert canonical_key(broken["malformed"]) not in by_key or \
        "unreadable" in by_key[canonical_key(broken["malformed"])].reason


def test_crawl_one_url_by_hand(replica, replica_config, sessions) -> None:
    url = replica.documents()[0]["urls"][0]
    reports = crawl(replica_config, "--url", url)
    assert len(reports) == 1 and reports[0]["documents_seen"] == 1
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count(Document.id))) == 1
