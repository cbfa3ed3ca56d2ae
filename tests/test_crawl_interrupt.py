"""Ctrl-C during a crawl, for real: a `policywatch crawl` child with its page-analysis and
storage processes gets SIGINT mid-crawl."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import func, select

from storage.db import session_scope
from storage.models import CrawlRun, Document, Version
from tests.conftest import ROOT, run_policywatch


def _slow(replica, seconds: float) -> None:
    for doc in replica.documents():
        for url in doc["urls"]:
            replica.set_fault(doc["site"], "/" + url.split("/", 3)[3], "slow", delay=seconds)


def test_ctrl_c_stores_what_was_fetched_and_marks_the_run_interrupted(replica, replica_config,
                                                                      sessions) -> None:
    _slow(replica, 1.0)  # the crawl lasts well past the moment it is interrupted
    crawl = subprocess.Popen(
        [sys.executable, "-m", "monitor", "crawl", "--config", str(replica_config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(ROOT),
        env={**os.environ}, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # some documents stored, the crawl not over
        with session_scope(sessions) as s:
            if (s.scalar(select(func.count(Document.id))) or 0) >= 3:
                break
        assert crawl.poll() is None, crawl.communicate()
        time.sleep(0.2)
    os.killpg(crawl.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
    out, err = crawl.communicate(timeout=120)
    assert crawl.returncode == 130, err
    assert "Traceback" not in err and "interrupted: the crawl stopped before its end" in err, err
    with session_scope(sessions) as s:
        runs = list(s.scalars(select(CrawlRun)))
        assert runs and all(r.status == "interrupted" and not r.listing_complete for r in runs), \
            [(r.status, r.listing_complete) for r in runs]
        assert all(r.message == "stopped: shutdown" for r in runs)
        first_docs = s.scalar(select(func.count(Document.id)))
        assert s.scalar(select(func.count(Version.id))) == first_docs  # none half-stored

    replica.clear_overrides()
    result = run_policywatch("crawl", "--config", str(replica_config), "--format", "json")
    assert result.returncode == 0, result.stderr
    with session_scope(sessions) as s:
        last = s.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
        assert last.status == "ok" and last.full_sweep and last.listing_complete
        assert s.scalar(select(func.count(Document.id))) > first_docs
