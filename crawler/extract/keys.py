"""Canonical document keys: one gkmlpt post id under several URLs is one document."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_POST_RES = (
    re.compile(r"/content/(?:[^?#]*/)?post_(\d+)\.s?html?$", re.I),
    re.compile(r"/mpost_(\d+)\.s?html?$", re.I),
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Detail-page URL shapes of the content systems other provinces' and ministries' sites run, for
# list pages read without an item_selector: TRS WCM (…/202401/t20240105_4567890.html, most
# provinces and ministries), Hanweb (…/art/2024/1/5/art_1229019_4567890.html: Zhejiang,
# Jiangsu, Shandong…), gov.cn's content_N.htm, and dated hash pages (…/20240105/<32 hex>.html).
_CMS_DETAIL_RES = (
    re.compile(r"/t(?:19|20)\d{6}_\d+\.s?html?$", re.I),
    re.compile(r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.s?html?$", re.I),
    re.compile(r"/content_\d+\.s?html?$", re.I),
    re.compile(r"/(?:19|20)\d{6}/[0-9a-f]{32}\.s?html?$", re.I),
)


def post_id(url: str) -> int | None:
    """Return the gkmlpt post id of a URL shaped like .../content/.../post_N.html or .../mpost_N.html."""
    path = urlsplit(url.strip()).path
    for pattern in _POST_RES:
        match = pattern.search(path)
        if match:
            return int(match.group(1))
    return None


def is_cms_detail(url: str) -> bool:
    """Whether a URL has the shape of a detail page of a common government content system."""
    path = urlsplit(url.strip()).path
    return any(pattern.search(path) for pattern in _CMS_DETAIL_RES)


def _host(scheme: str, netloc: str) -> str:
    hostport = netloc.rsplit("@", 1)[-1].lower()
    host, sep, port = hostport.rpartition(":") if not hostport.endswith("]") else (hostport, "", "")
    if not sep:
        return hostport
    if port.isdigit() and _DEFAULT_PORTS.get(scheme) == int(port):
        return host
    if port == "":
        return host
    return hostport


def normalize_url(url: str) -> str:
    """Lowercase scheme and host, drop the fragment and a default port, sort the query."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    query = "&".join(sorted(piece for piece in parts.query.split("&") if piece))
    return urlunsplit((scheme, _host(scheme, parts.netloc), parts.path or "/", query, ""))


def canonical_key(url: str) -> str:
    """Return "{host}/post_{id}" for gkmlpt-shaped URLs, else the normalized URL."""
    pid = post_id(url)
    if pid is None:
        return normalize_url(url)
    parts = urlsplit(url.strip())
    host = _host(parts.scheme.lower(), parts.netloc)
    if host.startswith("www."):
        host = host[4:]
    return f"{host}/post_{pid}"
