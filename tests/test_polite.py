"""Politeness: robots.txt, allowed domains only, a browser-like User-Agent, per-source settings."""

from __future__ import annotations

from scrapy.settings import Settings
from sqlalchemy import select

from crawler.extract.keys import canonical_key
from crawler.runner import CrawlJob, base_settings, spider_class
from crawler.sources import DEFAULT_USER_AGENT, source_from_dict
from replica.catalog import LIST_PATHS
from replica.server import BROWSER_MARKERS
from storage.db import session_scope
from storage.models import Document, FetchError
from tests.test_crawl_support import (  # noqa: F401 - fixtures
    crawl,
    first_listed,
    path_of,
    sqlite_sessions_fixture,
    sqlite_url_fixture,
    write_config,
)


def test_robots_txt_and_allowed_domains_are_obeyed(replica, tmp_path, sqlite_url, sqlite_sessions) -> None:
    doc = first_listed(replica, "gdii")
    banned = path_of(doc["urls"][0])
    replica.set_robots("gdii", [banned])
    list_path = LIST_PATHS["gdii"] + "index.html"
    listing = replica.handle("gdii", list_path)[2].decode("utf-8")
    offsite = replica.base_url("gdii").replace("127.0.0.1", "localhost") + LIST_PATHS["gdii"] + "content/post_999.html"
    listing = listing.replace("</ul>", f'<li><a href="{offsite}">外站转载的通知</a></li></ul>', 1)
    replica.set_response("gdii", list_path, body=listing.encode())
    config = write_config(tmp_path, replica, sqlite_url, sources=["gdii-notices"])  # robots on by default
    reports = crawl(config)
    assert reports[0]["documents_seen"] >= 10
    paths = [p for _s, p, _st in replica.request_log]
    assert "/robots.txt" in paths
    assert banned not in paths
    assert not any(p.endswith("post_999.html") for p in paths)
    with session_scope(sqlite_sessions) as s:
        errors = {canonical_key(e.url): e.reason for e in s.scalars(select(FetchError))}
        assert "robots.txt" in errors[canonical_key(doc["urls"][0])]
        keys = {d.canonical_key for d in s.scalars(select(Document))}
        assert canonical_key(doc["urls"][0]) not in keys


def test_a_site_that_resets_bots_is_crawled_with_the_browser_like_default(replica, tmp_path, sqlite_url) -> None:
    replica.reset_non_browser.add("gz")
    bot = (f'\n[[sources]]\nname = "gz-as-a-bot"\nkind = "html_pages"\n'
           f'start_urls = ["{replica.base_url("gz")}/zwgk/zcjd/index.html"]\n'
           'allowed_domains = ["127.0.0.1"]\nuser_agent = "python-requests/2.31"\n')
    config = write_config(tmp_path, replica, sqlite_url, sources=["gz-zcjd"], extra_sources=bot,
                          crawl={"retry_times": 0})
    reports = {r["source"]: r for r in crawl(config)}
    assert reports["gz-zcjd"]["status"] == "ok" and reports["gz-zcjd"]["documents_seen"] >= 10
    assert reports["gz-as-a-bot"]["status"] == "failed"
    assert DEFAULT_USER_AGENT.startswith(BROWSER_MARKERS)
    assert "python-requests/2.31" in replica.user_agents


def test_each_source_crawls_with_its_own_politeness_settings() -> None:
    slow = source_from_dict({"name": "slow", "kind": "html_pages", "start_urls": ["https://www.gd.gov.cn/a/"],
                             "download_delay": 3.0, "concurrency_per_domain": 1, "user_agent": "UA-1"})
    quick = source_from_dict({"name": "quick", "kind": "html_pages", "start_urls": ["https://gz.gov.cn/a/"],
                              "obey_robots": False})
    effective = {}
    for run_id, source in enumerate((slow, quick), start=1):
        settings = Settings(base_settings("sqlite://", None))
        spider_class(CrawlJob(source=source, source_id=run_id, run_id=run_id)).update_settings(settings)
        effective[source.name] = settings
    assert effective["slow"].getfloat("DOWNLOAD_DELAY") == 3.0
    assert effective["slow"].getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 1
    assert effective["slow"]["USER_AGENT"] == "UA-1"
    assert effective["slow"].getbool("ROBOTSTXT_OBEY") and effective["slow"].getbool("AUTOTHROTTLE_ENABLED")
    assert effective["quick"].getfloat("DOWNLOAD_DELAY") == 0.5
    assert effective["quick"].getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 2
    assert not effective["quick"].getbool("ROBOTSTXT_OBEY")
    assert effective["quick"]["USER_AGENT"] == DEFAULT_USER_AGENT
    # the retry middleware with backoff replaces Scrapy's
    middlewares = effective["quick"].getdict("DOWNLOADER_MIDDLEWARES")
    assert middlewares["crawler.middlewares.BackoffRetryMiddleware"] == 550
