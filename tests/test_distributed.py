"""Distributed crawling: two worker processes share one Redis frontier (scrapy-redis) and one
database; every document is stored once, and a killed worker loses nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from crawler.extract.keys import canonical_key
from storage.db import session_scope
from storage.models import ChangeEvent, Document, SourceRow, Version
from tests.conftest import ROOT

SOURCE = "gdii-notices"


@pytest.fixture
def redis_url():
    from tests.servers import RedisServer

    try:
        server = RedisServer()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    with server:
        yield server.url


def start_worker(config, redis_url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "crawl", SOURCE, "--distributed", "--redis-url", redis_url,
         "--config", str(config), "--format", "json", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(ROOT),
        env={**os.environ}, start_new_session=True)


def finish(worker: subprocess.Popen[str], timeout: float = 180) -> list[dict]:
    out, err = worker.communicate(timeout=timeout)
    assert worker.returncode == 0, err
    return json.loads(out)


def listed_keys(replica) -> set[str]:
    return {canonical_key(u) for d in replica.documents() for u in d["urls"]
            if d["site"] == "gdii" and "/zwgk/tzgg1011/" in u}


def stored(sessions) -> Counter[str]:
    with session_scope(sessions) as s:
        rows = s.scalars(select(Document.canonical_key).join(SourceRow)
                         .where(SourceRow.name == SOURCE))
        return Counter(rows)


def slow_details(replica, seconds: float) -> None:
    for doc in replica.documents():
        for url in doc["urls"]:
            if doc["site"] == "gdii" and "/zwgk/tzgg1011/content/" in url:
                replica.set_fault("gdii", "/" + url.split("/", 3)[3], "slow", delay=seconds)


def test_two_workers_share_one_crawl_and_store_each_document_once(replica, replica_config,
                                                                   redis_url, sessions) -> None:
    slow_details(replica, 1.0)  # long enough for both workers to take part
    workers = [start_worker(replica_config, redis_url) for _ in range(2)]
    reports = [finish(w)[0] for w in workers]
    counts = stored(sessions)
    assert set(counts) == listed_keys(replica)
    assert max(counts.values()) == 1
    assert all(r["documents_seen"] > 0 for r in reports), reports
    assert sum(r["documents_seen"] for r in reports) == len(counts)
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count(Version.id))) == len(counts)

    replica.set_release(1)
    workers = [start_worker(replica_config, redis_url) for _ in range(2)]
    for worker in workers:
        finish(worker)
    with session_scope(sessions) as s:
        types = Counter(s.scalars(select(ChangeEvent.type)))
        versions = s.scalar(select(func.count(Version.id)))
    assert types["new_edition"] == 1 and types["wording_changed"] == 1, types
    assert versions == len(counts) + 2  # the new document and the revised one, once each


def test_a_killed_worker_loses_nothing(replica, replica_config, redis_url, sessions) -> None:
    slow_details(replica, 0.6)
    victim = start_worker(replica_config, redis_url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(stored(sessions).values()) < 2:
        time.sleep(0.2)
    survivor = start_worker(replica_config, redis_url)
    time.sleep(1.0)  # the victim has pages in flight (claimed, not stored) when it dies
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=10)
    out, err = survivor.communicate(timeout=240)
    assert survivor.returncode == 0, err
    counts = stored(sessions)
    assert set(counts) == listed_keys(replica), err[-3000:]
    assert "unfinished requests put back" in err
    assert max(counts.values()) == 1
