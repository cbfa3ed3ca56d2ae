"""The gkmlpt disclosure platform: index config (SID, category tree), list API and detail URLs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from .attachments import Attachment, guess_mime
from .dates import date_from_value
from .errors import ExtractionError
from .jsobject import find_js_assignment


@dataclass
class Category:
    """A node of the platform's category tree."""

    id: int
    name: str
    post_count: int = 0
    children: list[Category] = field(default_factory=list)


@dataclass
class GkmlptSite:
    """What /gkmlpt/index tells: the site id to send as sid, and the category tree."""

    sid: str
    tree: list[Category] = field(default_factory=list)


@dataclass
class GkmlptArticle:
    """One article of the list API."""

    id: int
    url: str
    title: str
    doc_number: str | None = None
    identifier: str | None = None
    publisher: str | None = None
    date: str | None = None
    created_at: str | None = None
    abstract: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    is_expired: bool = False
    is_abolished: bool = False


@dataclass
class GkmlptPage:
    """One page of the list API: its articles and the category's total, when given."""

    articles: list[GkmlptArticle] = field(default_factory=list)
    total: int | None = None


def _text(body: bytes | str) -> str:
    return body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _category(node: dict[str, Any]) -> Category:
    children = node.get("children") or []
    return Category(id=_int(node.get("id")), name=str(node.get("name") or ""),
                    post_count=_int(node.get("post_count")),
                    children=[_category(child) for child in children if isinstance(child, dict)])


def parse_gkmlpt_index(body: bytes | str) -> GkmlptSite:
    """Read window._CONFIG = {SID: '…', TREE: [...]} from a /gkmlpt/index page."""
    config = find_js_assignment(_text(body), "window._CONFIG")
    if not isinstance(config, dict) or "SID" not in config:
        raise ExtractionError("window._CONFIG has no SID")
    tree = config.get("TREE") or []
    if not isinstance(tree, list):
        raise ExtractionError("window._CONFIG.TREE is not a list")
    return GkmlptSite(sid=str(config["SID"]), tree=[_category(node) for node in tree if isinstance(node, dict)])


def find_category(tree: list[Category], category_id: int) -> Category | None:
    """Find a category anywhere in the tree by id."""
    for category in tree:
        if category.id == category_id:
            return category
        found = find_category(category.children, category_id)
        if found is not None:
            return found
    return None


def gkmlpt_api_url(site: str, category_id: int, page: int, sid: str) -> str:
    """{site}/gkmlpt/api/all/{category}?page={n}&sid={sid}"""
    return f"{site.rstrip('/')}/gkmlpt/api/all/{category_id}?page={page}&sid={sid}"


def gkmlpt_detail_url(site: str, post_id: int) -> str:
    """{site}/gkmlpt/content/{id // 1000000}/{id // 1000}/post_{id}.html"""
    return f"{site.rstrip('/')}/gkmlpt/content/{post_id // 1000000}/{post_id // 1000}/post_{post_id}.html"


def _str(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _attachments(items: Any, base_url: str | None) -> list[Attachment]:
    result: list[Attachment] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not item.get("url"):
            continue
        url = urljoin(base_url, str(item["url"])) if base_url else str(item["url"])
        name = _str(item.get("name")) or url.rsplit("/", 1)[-1]
        size = item.get("size")
        result.append(Attachment(url=url, name=name, mime=_str(item.get("mime")) or guess_mime(url),
                                 size=_int(size, 0) if size not in (None, "") else None))
    return result


def _article(item: dict[str, Any], base_url: str | None) -> GkmlptArticle:
    url = str(item.get("url") or "")
    if base_url:
        url = urljoin(base_url, url)
    return GkmlptArticle(
        id=_int(item.get("id")), url=url, title=_str(item.get("title")) or "",
        doc_number=_str(item.get("document_number")), identifier=_str(item.get("identifier")),
        publisher=_str(item.get("publisher")), date=date_from_value(item.get("date")),
        created_at=_str(item.get("created_at")), abstract=_str(item.get("abstract")),
        attachments=_attachments(item.get("attachment") or item.get("attachments"), base_url),
        is_expired=bool(item.get("is_expired")), is_abolished=bool(item.get("is_abolished")))


def parse_gkmlpt_api(body: bytes | str, base_url: str | None = None) -> GkmlptPage:
    """Parse one JSON page of /gkmlpt/api/all/{category}; relative URLs resolve against base_url."""
    try:
        data = json.loads(_text(body))
    except ValueError as error:
        raise ExtractionError(f"gkmlpt API did not return JSON: {error}") from None
    if not isinstance(data, dict):
        raise ExtractionError("gkmlpt API returned no object")
    articles = data.get("articles")
    if articles is None and isinstance(data.get("data"), dict):
        data = data["data"]
        articles = data.get("articles")
    if not isinstance(articles, list):
        raise ExtractionError("gkmlpt API returned no articles list")
    total = data.get("total")
    return GkmlptPage(articles=[_article(item, base_url) for item in articles if isinstance(item, dict)],
                      total=_int(total) if total is not None else None)
