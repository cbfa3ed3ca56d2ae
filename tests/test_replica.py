"""The replica over real HTTP on 127.0.0.1: lists, details, gkmlpt, releases, overrides, and extraction."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.extract import (
    canonical_key,
    extract_listing,
    extract_page,
    find_category,
    gkmlpt_api_url,
    parse_gkmlpt_api,
    parse_gkmlpt_index,
)
from replica import ReplicaServer
from replica.catalog import (
    GKMLPT_CATEGORIES,
    LIST_PATHS,
    NEW_POST_ID,
    REVISED_NEW,
    REVISED_OLD,
    REVISED_POST_ID,
    build_catalog,
)

SEED_TITLES = {
    "000": "关于省政协十三届一次会议第20230647号提案答复的函",
    "001": "广东省数字经济发展工作领导小组办公室关于印发2023年广东省数字经济工作要点",
    "002": "关于省政协十二届四次会议第20210137号提案答复的函",
    "003": "广东省人民政府办公厅关于印发“数字湾区”建设三年行动方案的通知",
    "004": "关于市十六届人大一次会议第20222187号建议答复的函",
}


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


@pytest.fixture(scope="module")
def server() -> Iterator[ReplicaServer]:
    with ReplicaServer() as replica:
        yield replica


@pytest.fixture(autouse=True)
def _reset(server: ReplicaServer) -> Iterator[None]:
    yield
    server.set_release(0)
    server.clear_overrides()


def crawl_lists(server: ReplicaServer) -> dict[str, tuple[list[str], list]]:
    """Walk every HTML list from its start URL; return per site (list pages visited, items)."""
    result = {}
    for site in server.sites:
        todo = [f"{server.base_url(site)}{LIST_PATHS[site]}index.html"]
        seen: list[str] = []
        items = []
        while todo:
            url = todo.pop(0)
            if url in seen:
                continue
            seen.append(url)
            status, headers, body = fetch(url)
            assert status == 200, url
            listing = extract_listing(url, body, headers.get("Content-Type"))
            items.extend(listing.items)
            todo.extend(listing.next_urls)
        result[site] = (seen, items)
    return result


def crawl_gkmlpt(server: ReplicaServer, site: str, category_id: int) -> tuple[list, int]:
    base = server.base_url(site)
    status, _, body = fetch(f"{base}/gkmlpt/index")
    assert status == 200
    info = parse_gkmlpt_index(body)
    category = find_category(info.tree, category_id)
    assert category is not None
    articles: list = []
    page = 0
    while len(articles) < category.post_count:
        page += 1
        status, _, body = fetch(gkmlpt_api_url(base, category_id, page, info.sid))
        assert status == 200
        result = parse_gkmlpt_api(body)
        assert result.total == category.post_count
        articles.extend(result.articles)
    return articles, page


def test_lists_paginate_and_link_every_document(server: ReplicaServer) -> None:
    crawled = crawl_lists(server)
    catalog = build_catalog(0)
    for site, (pages, items) in crawled.items():
        assert len(pages) >= 2, site
        docs = catalog.site_documents(site)
        assert len(items) == len(docs)
        assert {canonical_key(item.url) for item in items} == \
            {canonical_key(server.base_url(site) + doc.list_path) for doc in docs}
        assert all(item.title for item in items)
    gd_items = crawled["gd"][1]
    assert any(item.doc_number == "粤办函〔2023〕297号" and item.date == "2023-11-21" for item in gd_items)
    assert all(item.date is None for item in crawled["gz"][1])
    assert all(item.date for item in crawled["gdii"][1] + crawled["gxj"][1])
    assert any("/mpost_" in item.url for item in crawled["gdii"][1])


def test_list_page_quirks(server: ReplicaServer) -> None:
    gz = server.base_url("gz") + LIST_PATHS["gz"]
    assert fetch(gz + "index_1.html")[0] == 404
    assert fetch(gz + "index_2.html")[0] == 200
    assert fetch(gz + "index_3.html")[0] == 404
    status, headers, body = fetch(server.base_url("gxj") + LIST_PATHS["gxj"] + "index.html")
    assert status == 200 and "charset" not in headers["Content-Type"]
    assert b"charset=gbk" in body and "人大代表建议".encode("gbk") in body


def test_every_detail_url_extracts(server: ReplicaServer) -> None:
    for doc in server.documents():
        for url in doc["urls"]:
            status, headers, body = fetch(url)
            assert status == 200, url
            page = extract_page(url, body, headers.get("Content-Type"))
            assert page.title == doc["title"], url
            assert page.canonical_key == canonical_key(doc["urls"][0])
            expected = build_catalog(0).find(doc["site"], doc["post_id"])
            assert page.text == expected.text, url
            assert {a.url for a in page.attachments} == set(doc["attachments"]), url


def test_seed_pages(server: ReplicaServer) -> None:
    seeds = {doc["seed"][:3]: doc for doc in server.documents() if doc["seed"]}
    assert set(seeds) == set(SEED_TITLES)
    for prefix, doc in seeds.items():
        assert doc["title"] == SEED_TITLES[prefix]
        status, headers, body = fetch(doc["urls"][0])
        page = extract_page(doc["urls"][0], body, headers.get("Content-Type"))
        assert page.title == SEED_TITLES[prefix]
        seed_text = (Path(__file__).parents[1] / "replica" / "data" / "seeds" / doc["seed"]).read_text("utf-8")
        assert page.text == "\n".join(" ".join(line.split()) for line in seed_text.split("\n") if line.strip())
    assert "买球" in extract_page(seeds["002"]["urls"][0], fetch(seeds["002"]["urls"][0])[2]).text
    gxj = fetch(seeds["004"]["urls"][0])
    page = extract_page(seeds["004"]["urls"][0], gxj[2], gxj[1].get("Content-Type"))
    assert page.encoding == "gb18030" and "不范" in page.text and "直车" in page.text
    assert page.metadata["来源"] == "广州市工业和信息化局" and page.metadata["时间"] == "2022-05-30"
    gd = fetch(seeds["003"]["urls"][1])
    meta = extract_page(seeds["003"]["urls"][1], gd[2]).metadata
    assert (meta["文号"], meta["成文日期"], meta["发布日期"]) == ("粤办函〔2023〕297号", "2023-11-07", "2023-11-21")
    meta = extract_page(seeds["002"]["urls"][0], fetch(seeds["002"]["urls"][0])[2]).metadata
    assert meta["PubDate"] == "2021-07-21 18:05:34" and meta["文号"] == "粤工信案函〔2021〕253号"


def test_gkmlpt_index_and_api(server: ReplicaServer) -> None:
    catalog = build_catalog(0)
    for site, categories in GKMLPT_CATEGORIES.items():
        for category_id in categories:
            articles, pages = crawl_gkmlpt(server, site, category_id)
            expected = catalog.category_documents(site, category_id)
            assert [a.id for a in articles] == [doc.post_id for doc in expected]
            for article in articles:
                assert article.url.startswith(server.base_url(site) + "/gkmlpt/content/")
            if len(expected) > 10:
                assert pages >= 2
    base = server.base_url("gdii")
    assert fetch(f"{base}/gkmlpt/api/all/2?page=1")[0] == 200
    assert fetch(f"{base}/gkmlpt/api/all/2?page=2")[0] == 404
    assert fetch(f"{base}/gkmlpt/api/all/2?page=2&sid=wrong")[0] == 404
    assert fetch(f"{base}/gkmlpt/api/all/99?page=1&sid=755")[0] == 404
    last = parse_gkmlpt_api(fetch(f"{base}/gkmlpt/api/all/2?page=2&sid=755")[2])
    past = parse_gkmlpt_api(fetch(f"{base}/gkmlpt/api/all/2?page=5&sid=755")[2])
    assert [a.id for a in past.articles] == [a.id for a in last.articles] and past.articles
    assert fetch(server.base_url("gz") + "/gkmlpt/index")[0] == 404


def test_every_document_reached_from_start_urls(server: ReplicaServer) -> None:
    for release in (0, 1):
        server.set_release(release)
        reached: set[str] = set()
        for _site, (_pages, items) in crawl_lists(server).items():
            reached.update(item.url for item in items)
        for site, categories in GKMLPT_CATEGORIES.items():
            for category_id in categories:
                reached.update(article.url for article in crawl_gkmlpt(server, site, category_id)[0])
        for doc in server.documents():
            assert set(doc["urls"]) <= reached, doc["title"]
        assert {canonical_key(url) for url in reached} == \
            {canonical_key(doc["urls"][0]) for doc in server.documents()}


def test_one_post_under_two_urls(server: ReplicaServer) -> None:
    gdii = [doc for doc in server.documents() if doc["site"] == "gdii"]
    assert all(len(doc["urls"]) == 2 for doc in gdii)
    mpost = [doc for doc in gdii if "/mpost_" in doc["urls"][0]]
    assert len(mpost) == 1
    keys = {canonical_key(url) for url in mpost[0]["urls"]}
    assert len(keys) == 1
    post_url = mpost[0]["urls"][0].replace("/mpost_", "/post_")
    assert fetch(post_url)[0] == 200


def _bodies(server: ReplicaServer) -> dict[str, str]:
    texts = {}
    for doc in server.documents():
        for url in doc["urls"]:
            status, headers, body = fetch(url)
            texts[url] = extract_page(url, body, headers.get("Content-Type")).text
    return texts


def test_release_1_adds_one_document_and_revises_one_page(server: ReplicaServer) -> None:
    before_docs = {(d["site"], d["post_id"]): d for d in server.documents()}
    before = _bodies(server)
    first_before = crawl_lists(server)["gdii"][1][0]
    server.set_release(1)
    assert server.release == 1
    after_docs = {(d["site"], d["post_id"]): d for d in server.documents()}
    after = _bodies(server)
    assert set(after_docs) - set(before_docs) == {("gdii", NEW_POST_ID)}
    assert set(before_docs) <= set(after_docs)
    new = after_docs[("gdii", NEW_POST_ID)]
    assert "2024年广东省数字经济工作要点" in new["title"]
    changed = {url for url in before if before[url] != after[url]}
    revised = after_docs[("gdii", REVISED_POST_ID)]
    assert changed == set(revised["urls"])
    for url in changed:
        assert REVISED_OLD in before[url] and REVISED_NEW in after[url]
        assert before[url].replace(REVISED_OLD, REVISED_NEW) == after[url]
    gdii_items = crawl_lists(server)["gdii"][1]
    assert canonical_key(gdii_items[0].url) == canonical_key(new["urls"][0])
    assert gdii_items[1].url == first_before.url
    articles, _ = crawl_gkmlpt(server, "gdii", 2)
    assert articles[0].id == NEW_POST_ID
    text = after[new["urls"][0]]
    assert "(八)发展数字物流。" in text and "发展数字住建" not in text and "新增推动 6000 家" in text
    assert "(三十四)加强交流合作" in text and "(三十五)" not in text and "2023" not in text
    assert "(十九)推动制造业协同创新" in text
    assert any(line.startswith("(十九)推动制造业协同创新") and line.endswith("(省科技厅牵头)")
               for line in text.split("\n"))
    assert "加快建设检验检查结果互认共享平台" in text


def test_release_validation(server: ReplicaServer) -> None:
    with pytest.raises(ValueError):
        server.set_release(7)


def test_overrides_and_request_log(server: ReplicaServer) -> None:
    doc = next(d for d in server.documents() if d["site"] == "gdii")
    url = doc["urls"][0]
    path = url[len(server.base_url("gdii")):]
    server.set_response("gdii", path, status=404)
    assert fetch(url)[0] == 404
    server.set_response("gdii", path, status=500)
    assert fetch(url)[0] == 500
    server.set_response("gdii", path, body=b"")
    status, _, body = fetch(url)
    assert status == 200 and body == b""
    server.set_response("gdii", path, body="<html><body><p>改过的正文。".encode(), headers={"X-Test": "1"})
    status, headers, body = fetch(url)
    assert status == 200 and headers["X-Test"] == "1"
    assert extract_page(url, body).text == "改过的正文。"
    api = "/gkmlpt/api/all/2?page=1&sid=755"
    server.set_response("gdii", api, status=503)
    assert fetch(server.base_url("gdii") + api)[0] == 503
    assert fetch(server.base_url("gdii") + "/gkmlpt/api/all/2?page=2&sid=755")[0] == 200
    assert ("gdii", path, 500) in server.request_log
    assert ("gdii", api, 503) in server.request_log
    server.clear_overrides()
    assert fetch(url)[0] == 200
    assert server.request_log[-1] == ("gdii", path, 200)


def test_attachments_and_conditional_get(server: ReplicaServer) -> None:
    docs = [d for d in server.documents() if d["attachments"]]
    assert {d["site"] for d in docs} == {"gd", "gdii", "gz", "gxj"}
    for doc in docs:
        for url in doc["attachments"]:
            status, headers, body = fetch(url)
            assert status == 200 and body
            if url.endswith(".pdf"):
                assert headers["Content-Type"] == "application/pdf" and body.startswith(b"%PDF-")
    url = server.documents()[0]["urls"][0]
    status, headers, _ = fetch(url)
    assert "ETag" in headers and "Last-Modified" in headers
    assert fetch(url, {"If-None-Match": headers["ETag"]})[0] == 304


def test_config_toml(server: ReplicaServer) -> None:
    config = tomllib.loads(server.config_toml("sqlite:////tmp/pw.db"))
    assert config["database"]["url"] == "sqlite:////tmp/pw.db"
    sources = {source["name"]: source for source in config["sources"]}
    assert set(sources) == {"gd-wjk", "gd-gkmlpt", "gdii-notices", "gdii-gkmlpt", "gz-zcjd", "gxj-replies"}
    assert sources["gd-gkmlpt"] == {"name": "gd-gkmlpt", "kind": "gkmlpt_api", "site": server.base_url("gd"),
                                    "categories": [5], "schedule": "0 7 * * *"}
    notices = sources["gdii-notices"]
    assert notices["kind"] == "html_pages" and notices["allowed_domains"] == ["127.0.0.1"]
    assert notices["start_urls"] == [server.base_url("gdii") + "/zwgk/tzgg1011/index.html"]


def test_python_m_replica_serves_until_interrupted() -> None:
    root = Path(__file__).parents[1]
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    process = subprocess.Popen([sys.executable, "-m", "replica", "--release", "1"], cwd=root, env=env,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(5)]
        assert "release 1" in lines[0]
        gdii = next(line for line in lines if line.strip().startswith("gdii"))
        list_url = gdii.split("list: ")[1].split()[0]
        assert fetch(list_url)[0] == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    assert process.returncode == 0
