"""Orchestrate a crawl: open runs in storage, run the spiders, then detect changes.

Runs in the calling process (the reactor starts once); `crawl_in_child` runs the same thing as
`policywatch crawl` in a child process for the scheduler and the demo.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from crawler import prestart
from crawler.jobs import CRAWL_OPTIONS, SOURCES_AT_ONCE, CrawlJob, analysis_workers
from crawler.sources import Source
from monitor.config import Config, ConfigError

# SQLAlchemy, the storage and the detection are imported where they are used: a crawl starts its
# helper processes first (crawler.prestart), and they load on the other core meanwhile.

if TYPE_CHECKING:
    from crawler.pipelines import ProgressFn


@dataclass
class RunReport:
    source: str
    run_id: int
    status: str
    pages_fetched: int
    documents_seen: int
    documents_new: int
    versions_new: int
    unchanged: int
    errors: int
    events: int
    baseline: bool
    error_samples: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def source_for_url(config: Config, url: str, source_name: str | None = None) -> Source:
    """The configured source a hand-given URL belongs to (by allowed domain)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"not an http(s) URL: {url!r}")
    if source_name:
        source = config.source(source_name)
        return source
    host = parts.hostname.lower()
    for source in config.sources:
        if any(host == d or host.endswith("." + d) for d in source.domains()):
            return source
    raise ConfigError(f"no configured source covers host {host!r}: add one or pass --source")


def crawl(config: Config, sources: list[Source], *, urls: list[str] | None = None,
          trigger: str = "manual", progress: ProgressFn | None = None,
          redis_url: str | None = None) -> list[RunReport]:
    """Crawl the given sources (or only `urls`, all in sources[0]) and detect their changes.

    With `redis_url`, this process is one worker of a distributed crawl: it shares the request
    queue and the dupefilter of each source with every other worker on that Redis.
    """
    # the config is checked before any run is opened: a mistake leaves no run "running"
    overrides = {k: v for k, v in config.crawl.items() if k in CRAWL_OPTIONS}
    unknown = set(config.crawl) - set(CRAWL_OPTIONS)
    if unknown:
        raise ConfigError(f"[crawl] unknown key {sorted(unknown)[0]!r}")
    workers = overrides.get("workers", "auto")
    if workers != "auto" and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 0):
        raise ConfigError(f"[crawl] workers must be \"auto\" or a number ≥ 0, not {workers!r}")
    at_once = overrides.get("sources_at_once", SOURCES_AT_ONCE)
    if isinstance(at_once, bool) or not isinstance(at_once, int) or at_once < 1:
        raise ConfigError(f"[crawl] sources_at_once must be a number ≥ 1, not {at_once!r}")
    if redis_url:
        check_redis(redis_url)
    if not urls and workers != 0:
        # a --url crawl is a page or two: the crawl process stores and reads them itself
        prestart.start(config.database_url, analysis_workers(workers))
    try:
        from storage.db import check_schema, make_engine, session_factory, session_scope
        from storage.documents import ensure_source
        from storage.runs import start_run

        engine = make_engine(config.database_url)
        check_schema(engine)
        sessions = session_factory(engine)
        jobs: list[CrawlJob] = []
        with session_scope(sessions) as session:
            for index, source in enumerate(sources):
                row = ensure_source(session, source.name, source.kind, source.describe())
                # past the first sources_at_once, a source waits for its turn: its run is "queued"
                run = start_run(session, row.id, "url" if urls else trigger, queued=index >= at_once)
                jobs.append(CrawlJob(source=source, source_id=row.id, run_id=run.id,
                                     urls=list(urls or []), redis_url=redis_url))
        try:
            from crawler.runner import run_jobs  # Scrapy and Twisted: loaded while the helpers start

            unstarted = run_jobs(config.database_url, jobs, overrides=overrides, progress=progress)
        except KeyboardInterrupt:
            _mark_interrupted(sessions, [job.run_id for job in jobs])
            raise
    finally:
        prestart.discard()
    from monitor.detect import detect_run
    from storage.models import CrawlRun
    from storage.runs import OPEN, errors_of_run

    _mark_interrupted(sessions, unstarted, "stopped before this source's turn came")
    reports = []
    for job in jobs:
        with session_scope(sessions) as session:
            run = session.get(CrawlRun, job.run_id)
            if run is None:
                continue
            if run.status in OPEN:  # the spider never closed (e.g. killed reactor), or never began
                run.status = "failed"
                run.message = "crawl did not finish"
            result = detect_run(session, run.id, config.detection)
            samples = [f"{e.url}: {e.reason}" for e in errors_of_run(session, run.id)[:5]]
            reports.append(RunReport(
                source=job.source.name, run_id=run.id, status=run.status,
                pages_fetched=run.pages_fetched, documents_seen=run.documents_seen,
                documents_new=run.documents_new, versions_new=run.versions_new,
                unchanged=run.unchanged, errors=run.errors, events=result.events,
                baseline=result.baseline, error_samples=samples))
    engine.dispose()
    return reports


def _mark_interrupted(sessions: Any, run_ids: list[int],
                      message: str = "interrupted before the crawl started") -> None:
    """Runs a stopped crawl never started end as interrupted, not left running."""
    from storage.db import session_scope
    from storage.models import CrawlRun, utcnow
    from storage.runs import OPEN

    with session_scope(sessions) as session:
        for run_id in run_ids:
            run = session.get(CrawlRun, run_id)
            if run is not None and run.status in OPEN:
                run.status = "interrupted"
                run.finished_at = utcnow()
                run.listing_complete = False
                run.message = message


def check_redis(url: str) -> None:
    """A clear one-line error when the Redis frontier is unreachable, before any run is opened."""
    try:
        import redis
    except ImportError:
        raise ConfigError("distributed crawling needs the redis and scrapy-redis packages") from None
    try:
        redis.Redis.from_url(url, socket_connect_timeout=5).ping()
    except (redis.RedisError, ValueError) as exc:
        raise ConfigError(f"cannot reach Redis at {url}: {exc}") from None


def crawl_in_child(config_path: str | os.PathLike[str] | None, sources: list[str], *,
                   database_url: str | None = None, trigger: str = "manual",
                   extra_args: list[str] | None = None, timeout: float | None = None,
                   capture: bool = False) -> subprocess.CompletedProcess[str]:
    """Run `policywatch crawl` in a child process (a fresh Twisted reactor each time)."""
    cmd = [sys.executable, "-m", "monitor", "crawl", *sources, "--trigger", trigger]
    if config_path is not None:
        cmd += ["--config", str(Path(config_path))]
    cmd += list(extra_args or [])
    env = dict(os.environ)
    if database_url:
        env["POLICYWATCH_DATABASE_URL"] = database_url
    return subprocess.run(cmd, env=env, timeout=timeout, text=True,
                          capture_output=capture, check=False)
