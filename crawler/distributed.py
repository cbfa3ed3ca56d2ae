"""Share one crawl of a source among several worker processes through Redis (scrapy-redis).

The queue and the dupefilter are scrapy-redis's. What this module adds is what a crawl of
government sites needs on top of them:

- a *job*: all workers that start while a crawl of the source is under way join it (same queue,
  same dupefilter); the next crawl, after it finished, starts afresh instead of finding every
  URL "already seen";
- a dupefilter keyed by the document's canonical key, so one post under two URLs is fetched by
  one worker only;
- claims and heartbeats: a worker records each request it pops and clears it once the page's
  item went through the pipeline; when a worker stops sending heartbeats (killed), the others
  push its unfinished requests back into the queue, so nothing is lost;
- a worker closes only when the queue is empty and no other live worker is busy.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
import warnings
from typing import Any

from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler

from crawler.extract.keys import canonical_key

logger = logging.getLogger(__name__)

# scrapy-redis 0.9 still passes `spider` to the stats collector; the warning says nothing useful
# to a user of policywatch.
warnings.filterwarnings("ignore", message="Passing a 'spider' argument", category=Warning)

HEARTBEAT_SECONDS = 2.0
HEARTBEAT_TTL = 10  # a worker silent this long is dead
JOB_TTL = 60  # a job nobody refreshes is over
KEYS_TTL = 24 * 3600  # leftovers of a finished job expire
MAX_WAIT_SECONDS = 6 * 3600


def job_key(source: str) -> str:
    return f"policywatch:{source}:job"


def keys(source: str, job: str) -> dict[str, str]:
    base = f"policywatch:{source}:{job}"
    return {
        "queue": f"{base}:requests",
        "dupefilter": f"{base}:dupefilter",
        "workers": f"{base}:workers",
        "done": f"{base}:done",
        "claims": f"{base}:claims:%(worker)s",
        "heartbeat": f"{base}:heartbeat:%(worker)s",
    }


def join_job(server: Any, source: str) -> str:
    """The running job of this source, or a new one: every worker started meanwhile joins it."""
    for _ in range(5):
        current = server.get(job_key(source))
        if current:
            server.expire(job_key(source), JOB_TTL)
            return current.decode() if isinstance(current, bytes) else str(current)
        job = uuid.uuid4().hex[:12]
        if server.set(job_key(source), job, nx=True, ex=JOB_TTL):
            return job
    raise RuntimeError("could not join or create a distributed crawl job")


def distributed_settings(redis_url: str, source: str, job: str, worker: str) -> dict[str, Any]:
    names = keys(source, job)
    return {
        "SCHEDULER": "crawler.distributed.ClaimingScheduler",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        # A worker that finishes first must not wipe the queue the others still work on.
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_QUEUE_KEY": names["queue"],
        "SCHEDULER_DUPEFILTER_KEY": names["dupefilter"],
        "SCHEDULER_DUPEFILTER_CLASS": "crawler.distributed.CanonicalDupeFilter",
        "DUPEFILTER_CLASS": "crawler.distributed.CanonicalDupeFilter",
        "SCHEDULER_IDLE_BEFORE_CLOSE": 1,
        "REDIS_URL": redis_url,
        "EXTENSIONS": {"crawler.distributed.WorkerCoordinator": 500},
        "POLICYWATCH_JOB": job,
        "POLICYWATCH_WORKER": worker,
        "POLICYWATCH_JOB_SOURCE": source,
    }


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def claim_key(url: str) -> str:
    """What a request and the item it produces have in common (survives http→https, aliases)."""
    return canonical_key(url)


class CanonicalDupeFilter(RFPDupeFilter):
    """Detail pages are seen once per canonical key, whatever URL lists them."""

    def request_fingerprint(self, request: Any) -> str:
        if request.method == "GET" and not request.body:
            return "k:" + canonical_key(request.url)
        return super().request_fingerprint(request)


class ClaimingScheduler(Scheduler):
    """scrapy-redis's scheduler, recording which worker popped which request."""

    def open(self, spider: Any) -> Any:
        result = super().open(spider)
        settings = spider.crawler.settings
        names = keys(settings.get("POLICYWATCH_JOB_SOURCE"), settings.get("POLICYWATCH_JOB"))
        self.claims_key = names["claims"] % {"worker": settings.get("POLICYWATCH_WORKER")}
        return result

    def enqueue_request(self, request: Any) -> bool:
        # Detail requests skip Scrapy's URL filter (a redirect back to a seen URL must be
        # reported, not dropped); across workers they are still fetched once per document.
        key = request.meta.get("policywatch_key")
        first_try = "redirect_times" not in request.meta and "retry_times" not in request.meta
        if key and request.dont_filter and first_try and not self.server.sadd(self.df.key, "k:" + key):
            return False
        return super().enqueue_request(request)

    def next_request(self) -> Any:
        request = super().next_request()
        if request is not None:
            self.server.hset(self.claims_key, claim_key(request.url),
                             self.queue._encode_request(request))
        return request


class WorkerCoordinator:
    """Heartbeats, completion marks, recovery of dead workers' claims, and when to stop."""

    def __init__(self, crawler: Any) -> None:
        from scrapy_redis.connection import get_redis_from_settings

        settings = crawler.settings
        self.crawler = crawler
        self.server = get_redis_from_settings(settings)
        self.source = settings.get("POLICYWATCH_JOB_SOURCE")
        self.job = settings.get("POLICYWATCH_JOB")
        self.worker = settings.get("POLICYWATCH_WORKER")
        self.names = keys(self.source, self.job)
        self.claims = self.names["claims"] % {"worker": self.worker}
        self.heartbeat_key = self.names["heartbeat"] % {"worker": self.worker}
        self.started = time.monotonic()
        self.recovered = 0
        self._task: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> WorkerCoordinator:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.item_done, signal=signals.item_scraped)
        crawler.signals.connect(ext.item_done, signal=signals.item_dropped)
        crawler.signals.connect(ext.item_done, signal=signals.item_error)
        return ext

    # -- lifecycle -------------------------------------------------------------------------------
    def spider_opened(self, spider: Any) -> None:
        from twisted.internet import task

        self.server.sadd(self.names["workers"], self.worker)
        self.beat()
        self._task = task.LoopingCall(self.beat)
        self._task.start(HEARTBEAT_SECONDS, now=False)
        logger.info("worker %s joined job %s of %s", self.worker, self.job, self.source)

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self._task is not None and self._task.running:
            self._task.stop()
        self.server.delete(self.heartbeat_key)
        self.server.srem(self.names["workers"], self.worker)
        if not self.server.scard(self.names["workers"]):
            # The last worker out ends the job: the next crawl starts with a fresh dupefilter.
            self.server.delete(job_key(self.source))
            for name in ("queue", "dupefilter", "workers", "done"):
                self.server.expire(self.names[name], KEYS_TTL)
        self.server.delete(self.claims)
        spider.crawler.stats.set_value("policywatch/recovered_requests", self.recovered)

    def beat(self) -> None:
        busy = 1 if self._busy() else 0
        self.server.set(self.heartbeat_key, busy, ex=HEARTBEAT_TTL)
        self.server.expire(job_key(self.source), JOB_TTL)

    def _busy(self) -> bool:
        engine = self.crawler.engine
        try:
            if engine.downloader.active or (engine._slot is not None and engine._slot.inprogress):
                return True
            return engine.scraper.slot is not None and not engine.scraper.slot.is_idle()
        except AttributeError:  # another Scrapy's internals: assume busy rather than quit early
            return True

    # -- completion ------------------------------------------------------------------------------
    def item_done(self, item: Any, *args: Any, **kwargs: Any) -> None:
        url = getattr(item, "url", None)
        if not url:
            return
        key = claim_key(url)
        self.server.sadd(self.names["done"], key)
        self.server.hdel(self.claims, key)

    # -- idle: recover, wait, or stop ----------------------------------------------------------
    def spider_idle(self, spider: Any) -> None:
        # Idle means nothing of ours is in flight: claims left now are stale (e.g. a redirect
        # whose item came back under another URL), and must not hold the others back.
        self.server.delete(self.claims)
        self.beat()
        self.recover_dead(spider)
        scheduler = self.crawler.engine._slot.scheduler if self.crawler.engine._slot else None
        if scheduler is not None and len(scheduler.queue):
            raise DontCloseSpider
        if time.monotonic() - self.started > MAX_WAIT_SECONDS:
            return
        if self.others_busy():
            raise DontCloseSpider  # the engine asks again on its next idle tick

    def others_busy(self) -> bool:
        """Another live worker is fetching, or holds claims (it may yet die with them)."""
        for member in self.server.smembers(self.names["workers"]):
            worker = member.decode() if isinstance(member, bytes) else member
            if worker == self.worker:
                continue
            beat = self.server.get(self.names["heartbeat"] % {"worker": worker})
            if beat is None:
                # dead: recover_dead takes its claims on the next idle tick
                if self.server.hlen(self.names["claims"] % {"worker": worker}):
                    return True
                continue
            if beat in (b"1", "1") or self.server.hlen(self.names["claims"] % {"worker": worker}):
                return True
        return False

    def recover_dead(self, spider: Any) -> int:
        """Push the unfinished requests of workers whose heartbeat stopped back into the queue."""
        scheduler = self.crawler.engine._slot.scheduler if self.crawler.engine._slot else None
        if scheduler is None:
            return 0
        count = 0
        for member in self.server.smembers(self.names["workers"]):
            worker = member.decode() if isinstance(member, bytes) else member
            if worker == self.worker:
                continue
            if self.server.exists(self.names["heartbeat"] % {"worker": worker}):
                continue
            claims_key = self.names["claims"] % {"worker": worker}
            for key, encoded in self.server.hgetall(claims_key).items():
                key_text = key.decode() if isinstance(key, bytes) else key
                if self.server.sismember(self.names["done"], key_text):
                    continue
                request = scheduler.queue._decode_request(encoded)
                scheduler.queue.push(request)
                count += 1
            self.server.delete(claims_key)
            self.server.srem(self.names["workers"], worker)
            logger.warning("worker %s is gone: %d unfinished requests put back", worker, count)
        self.recovered += count
        return count
