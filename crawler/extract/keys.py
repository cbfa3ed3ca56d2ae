"""Canonical document keys: one gkmlpt post id under several URLs is one document."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_POST_RES = (
    re.compile(r"/content/(?:[^?#]*/)?post_(\d+)\.s?html?$", re.I),
    re.compile(r"/mpost_(\d+)\.s?html?$", re.I),
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def post_id(url: str) -> int | None:
    """Return the gkmlpt post id of a URL shaped like .../content/.../post_N.html or .../mpost_N.html."""
    path = urlsplit(url.strip()).path
    for pattern in _POST_RES:
        match = pattern.search(path)
        if match:
            return int(match.group(1))
    return None


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
