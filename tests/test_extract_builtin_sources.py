"""Every built-in source's list page and detail page shape, read with that source's own settings
(selectors, domains) from saved pages built to its template. Cases: fixtures/pages/builtin_sources.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.extract import extract_listing, extract_page, parse_gkmlpt_api, parse_gkmlpt_index
from crawler.sources import source_from_dict
from monitor.config import builtin_source_entries

PAGES = Path(__file__).parent / "fixtures" / "pages"
CASES = json.loads((PAGES / "builtin_sources.json").read_text(encoding="utf-8"))
SOURCES = {entry["name"]: source_from_dict(entry) for entry in builtin_source_entries()}


def _in_domains(url: str, domains: list[str]) -> bool:
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    return any(host == d or host.endswith("." + d) for d in domains)


def test_every_builtin_source_has_a_case() -> None:
    assert set(SOURCES) == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_builtin_source_list_page(name: str) -> None:
    source, case = SOURCES[name], CASES[name]
    if source.kind == "html_pages":
        start = source.start_urls[0]
        listing = extract_listing(start, (PAGES / case["list"]).read_bytes(), None,
                                  item_selector=source.item_selector, next_selector=source.next_selector)
        assert len(listing.items) == case["items"]
        assert all(_in_domains(item.url, source.domains()) for item in listing.items)
        assert all(item.title for item in listing.items)
        assert [u.rsplit("/", 1)[-1] for u in listing.next_urls] == [case["next"]]
    else:
        site = parse_gkmlpt_index((PAGES / case["index"]).read_bytes())
        assert site.sid == case["sid"] and site.tree
        page = parse_gkmlpt_api((PAGES / case["api"]).read_bytes())
        assert len(page.articles) == case["articles"]
        for article in page.articles:
            assert _in_domains(article.url, source.domains()) and article.title


@pytest.mark.parametrize("name", sorted(CASES))
def test_builtin_source_detail_pages(name: str) -> None:
    source, case = SOURCES[name], CASES[name]
    for detail in case["details"]:
        expected = json.loads((PAGES / detail.replace(".html", ".expected.json")).read_text("utf-8"))
        assert _in_domains(expected["url"], source.domains()), detail
        page = extract_page(expected["url"], (PAGES / detail).read_bytes(), expected.get("content_type"))
        assert page.title == expected["title"] and page.text
        assert page.canonical_key == expected.get("canonical_key", page.canonical_key)
        assert page.canonical_key.startswith(tuple(source.domains())), page.canonical_key
