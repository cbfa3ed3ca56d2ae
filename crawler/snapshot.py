"""Turn one fetched detail page into a Snapshot: extracted page, cleaned text, structure, hash.

Pure: bytes in, data out. The spider hands responses here through the pipeline; tests call it
directly on saved pages.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from crawler.document import normalize_for_compare, understand
from crawler.extract.page import extract_page


@dataclass
class Snapshot:
    url: str
    canonical_key: str
    title: str
    text: str
    normalized_text: str
    structure: dict[str, Any]
    attachments: list[dict[str, Any]]
    page_metadata: dict[str, str]
    content_hash: str
    raw: bytes
    content_type: str | None = None
    encoding: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    status: int = 200
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def metadata(self) -> dict[str, Any]:
        return self.structure.get("metadata") or {}


# Only these metadata fields make a new version; the rest is derived from the text anyway.
_HASHED_METADATA = ("title", "doc_number", "signed_on", "published", "validity", "issuer")


def content_hash(
    title: str, normalized_text: str, structure: dict[str, Any], attachments: list[dict[str, Any]]
) -> str:
    """Hash what a reader would call the document's content, never the page around it."""
    meta = structure.get("metadata") or {}
    payload = {
        "title": normalize_for_compare(title or ""),
        "text": normalized_text,
        "meta": {k: meta.get(k) for k in _HASHED_METADATA if k != "title"},
        "attachments": sorted(
            (a.get("name") or "", a.get("content_hash") or "") for a in attachments
        ),
        "injected": sorted(i.get("text", "") for i in structure.get("injected") or []),
    }
    blob = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def build_snapshot(
    url: str,
    body: bytes,
    content_type: str | None = None,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    status: int = 200,
) -> Snapshot:
    """Extract, clean and parse one detail page. Raises ExtractionError for a page with no body."""
    page = extract_page(url, body, content_type)
    structure = understand(page.text, title=page.title, page_metadata=page.metadata)
    normalized = normalize_for_compare(page.text)
    meta = structure.get("metadata") or {}
    title = page.title or meta.get("title") or ""
    attachments = [
        {"url": a.url, "name": a.name, "mime": a.mime, "size": a.size, "content_hash": None}
        for a in page.attachments
    ]
    return Snapshot(
        url=url,
        canonical_key=page.canonical_key,
        title=title,
        text=page.text,
        normalized_text=normalized,
        structure=structure,
        attachments=attachments,
        page_metadata=dict(page.metadata),
        content_hash=content_hash(title, normalized, structure, attachments),
        raw=body,
        content_type=content_type,
        encoding=page.encoding,
        etag=etag,
        last_modified=last_modified,
        status=status,
    )
