"""Change detection over stored versions: baseline, new documents and editions, revisions, removal."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from crawler.document import normalize_for_compare, understand
from monitor.config import DetectionSettings
from monitor.detect import detect_run
from storage.db import session_scope
from storage.documents import ensure_source, mark_missing, store_snapshot
from storage.events import query_events
from storage.models import Document
from storage.runs import finish_run, start_run
from tests.conftest import SEEDS


def seed(n: int) -> str:
    return next(SEEDS.glob(f"{n:03d}_*.txt")).read_text(encoding="utf-8")


@dataclass
class Snap:
    url: str
    canonical_key: str
    title: str
    text: str
    normalized_text: str = ""
    structure: dict[str, Any] = field(default_factory=dict)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    content_hash: str = ""
    raw: bytes = b""
    content_type: str | None = "text/html"
    encoding: str | None = "utf-8"
    etag: str | None = None
    last_modified: str | None = None


def snap(key: str, text: str, title: str | None = None) -> Snap:
    structure = understand(text, title=title)
    title = title or (structure.get("metadata") or {}).get("title") or key
    normalized = normalize_for_compare(text)
    digest = hashlib.sha256((title + normalized).encode()).hexdigest()
    return Snap(url=f"http://h/content/{key}.html", canonical_key=f"h/{key}", title=title, text=text,
                normalized_text=normalized, structure=structure, content_hash=digest,
                raw=text.encode())


def crawl_run(sessions, snaps: list[Snap], *, listing_complete: bool = True,
              missing: list[str] = (), settings: DetectionSettings | None = None) -> list[dict]:
    """Store snapshots as one finished run, detect, and return that run's events."""
    with session_scope(sessions) as s:
        source = ensure_source(s, "src", "html_pages", {})
        run = start_run(s, source.id, "schedule")
        seen = 0
        for item in snaps:
            store_snapshot(s, source.id, item, run_id=run.id)
            seen += 1
        for key in missing:
            mark_missing(s, source.id, f"h/{key}")
        finish_run(s, run.id, status="ok",
                   counts={"documents_seen": seen, "listing_complete": listing_complete})
        before = {e["id"] for e in query_events(s)}
        detect_run(s, run.id, settings or DetectionSettings())
        return [e for e in query_events(s) if e["id"] not in before]


def test_first_crawl_is_a_silent_baseline_then_new_documents_are_flagged(sessions) -> None:
    assert crawl_run(sessions, [snap("post_1", seed(0)), snap("post_3", seed(3))]) == []
    events = crawl_run(sessions, [snap("post_1", seed(0)), snap("post_3", seed(3)),
                                  snap("post_4", seed(4))])
    assert [e["type"] for e in events] == ["new_document"]
    assert events[0]["document"]["url"].endswith("post_4.html")


def test_baseline_can_be_switched_off(sessions) -> None:
    events = crawl_run(sessions, [snap("post_1", seed(0))],
                       settings=DetectionSettings(baseline=False))
    assert [e["type"] for e in events] == ["new_document"]


def test_unchanged_recrawl_writes_no_event(sessions) -> None:
    crawl_run(sessions, [snap("post_1", seed(1))])
    assert crawl_run(sessions, [snap("post_1", seed(1))]) == []


def test_revised_target_gives_target_changed_with_versions(sessions) -> None:
    text = seed(1)
    assert "5000" in text
    crawl_run(sessions, [snap("post_1", text)])
    events = crawl_run(sessions, [snap("post_1", text.replace("5000", "6000", 1))])
    assert [e["type"] for e in events] == ["target_changed"]
    event = events[0]
    assert (event["version_from"], event["version_to"]) == (1, 2)
    assert event["task"]["label"]
    assert "5000" in event["before"] and "6000" in event["after"]


def test_next_edition_of_a_series(sessions) -> None:
    old = seed(1)
    crawl_run(sessions, [snap("post_1", old)])
    new = old.replace("2023", "2024").replace("5000", "6000", 1)
    events = crawl_run(sessions, [snap("post_1", old), snap("post_2", new)])
    types = [e["type"] for e in events]
    assert types[0] == "new_edition"
    assert "target_changed" in types
    assert "new_document" not in types


def test_removed_after_two_consecutive_404s_not_after_one(sessions) -> None:
    crawl_run(sessions, [snap("post_1", seed(0)), snap("post_2", seed(4))])
    first = crawl_run(sessions, [snap("post_1", seed(0))], listing_complete=False,
                      missing=["post_2"])
    assert first == []
    second = crawl_run(sessions, [snap("post_1", seed(0))], listing_complete=False,
                       missing=["post_2"])
    assert [e["type"] for e in second] == ["document_removed"]
    with session_scope(sessions) as s:
        assert s.scalar(select(Document.status).where(Document.canonical_key == "h/post_2")) == "removed"


def test_a_404_then_a_good_fetch_resets_the_count(sessions) -> None:
    crawl_run(sessions, [snap("post_1", seed(0)), snap("post_2", seed(4))])
    crawl_run(sessions, [snap("post_1", seed(0))], listing_complete=False, missing=["post_2"])
    crawl_run(sessions, [snap("post_1", seed(0)), snap("post_2", seed(4))])
    assert crawl_run(sessions, [snap("post_1", seed(0))], listing_complete=False,
                     missing=["post_2"]) == []


def test_spam_on_a_new_page_is_an_alert(sessions) -> None:
    crawl_run(sessions, [snap("post_1", seed(0))])
    events = crawl_run(sessions, [snap("post_1", seed(0)), snap("post_2", seed(2))])
    assert {e["type"] for e in events} == {"new_document", "content_injected"}


def test_left_a_complete_listing_twice_means_removed(sessions) -> None:
    crawl_run(sessions, [snap("post_1", seed(0)), snap("post_2", seed(4))])
    assert crawl_run(sessions, [snap("post_1", seed(0))]) == []
    assert [e["type"] for e in crawl_run(sessions, [snap("post_1", seed(0))])] == ["document_removed"]


def test_an_incomplete_listing_never_removes(sessions) -> None:
    crawl_run(sessions, [snap("post_1", seed(0)), snap("post_2", seed(4))])
    for _ in range(3):
        assert crawl_run(sessions, [snap("post_1", seed(0))], listing_complete=False) == []
