"""What policywatch understands of one saved file or one URL, without a crawl or a database.

For ``policywatch inspect``: a page saved from a site (to check a new source's pages before
configuring it), a document's plain text, or a PDF/DOCX/DOC attachment. The same functions the
crawl uses read it (``crawler.snapshot.build_snapshot`` for a page, ``understand`` for a text),
so what this shows is what a crawl would store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crawler.extract.attachment_text import extract_attachment_text, sniff_kind
from crawler.extract.encoding import decode_html
from crawler.extract.errors import ExtractionError


class InspectError(ValueError):
    """A file that holds no readable document: the message is one line for the user."""


def _looks_like_html(body: bytes) -> bool:
    head = body[:4096].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<?xml")) or any(
        tag in head for tag in (b"<head", b"<body", b"<meta", b"<div", b"<p>", b"<table"))


FETCH_TIMEOUT = 30  # seconds
FETCH_MAX_BYTES = 50 * 2**20  # a page or an attachment past this is no document to read here


def fetch(url: str) -> tuple[bytes, str | None, str]:
    """(body, Content-Type, final URL) of one GET, as a browser would ask (the crawl's user
    agent), for ``policywatch inspect URL``. Raises InspectError with a one-line reason."""
    import urllib.error
    import urllib.request

    from crawler.sources import DEFAULT_USER_AGENT

    if not url.startswith(("http://", "https://")):
        raise InspectError(f"not an http(s) URL: {url}")
    request = urllib.request.Request(url, headers={"User-Agent": DEFAULT_USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:  # noqa: S310 (http(s) only)
            body = response.read(FETCH_MAX_BYTES + 1)
            if len(body) > FETCH_MAX_BYTES:
                raise InspectError(f"{url}: larger than {FETCH_MAX_BYTES // 2**20} MiB")
            return body, response.headers.get("Content-Type"), response.geturl()
    except urllib.error.HTTPError as exc:
        raise InspectError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise InspectError(f"{url}: cannot fetch: {exc.reason}") from None
    except (OSError, ValueError) as exc:  # a timeout, a reset connection, a malformed URL
        raise InspectError(f"{url}: cannot fetch: {exc}") from None


def inspect_bytes(body: bytes, name: str, *, url: str | None = None,
                  as_kind: str | None = None, content_type: str | None = None) -> dict[str, Any]:
    """The payload of ``policywatch inspect``: ``name`` (the file), ``read_as`` (html, text,
    pdf, docx, doc), ``title``, ``url``, ``encoding`` and the ``structure`` JSON a crawl would
    store. ``as_kind`` forces html or text. Raises InspectError for a file with nothing to read."""
    if not body.strip():
        raise InspectError(f"{name}: the file is empty")
    kind = as_kind or sniff_kind(body, content_type, name)
    if kind is None and content_type and content_type.split(";")[0].strip().lower() == "text/plain":
        kind = "text"
    if kind is None:
        if b"\x00" in body[:4096]:  # a zip, a spreadsheet, an image: no text a crawl would read
            raise InspectError(f"{name}: not a web page, a text, a PDF or a Word file")
        kind = "html" if _looks_like_html(body) else "text"
    page_url = url or (Path(name).resolve().as_uri() if name != "-" else "stdin:")
    if kind == "html":
        from crawler.snapshot import build_snapshot

        try:
            snapshot = build_snapshot(page_url, body, content_type)
        except ExtractionError as exc:
            raise InspectError(f"{name}: {exc}") from None
        return {"name": name, "read_as": "html", "url": page_url, "title": snapshot.title or None,
                "encoding": snapshot.encoding, "structure": snapshot.structure,
                "attachments": [{"name": a.get("name"), "url": a.get("url")} for a in snapshot.attachments]}
    from crawler.document import understand

    if kind == "text":
        # the crawl's decoder: a byte order mark, the header's charset, UTF-8, then GB 18030
        text, encoding = decode_html(body, content_type)
    else:
        extracted = extract_attachment_text(body, None, name)
        if extracted.status != "ok" or not (extracted.text or "").strip():
            why = extracted.reason or f"no text could be read from this {kind} file"
            raise InspectError(f"{name}: {why}")
        text, encoding = extracted.text, None
    # no title given: a text's first line is as often a site's banner or a reposter's headline
    # as the document's title, and the metadata reader finds the title in the text itself
    structure = understand(text)
    return {"name": name, "read_as": kind, "url": url, "title": (structure.get("metadata") or {}).get("title"),
            "encoding": encoding, "structure": structure, "attachments": []}
