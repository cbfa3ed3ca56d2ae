"""Turn one fetched detail page into a Snapshot: extracted page, cleaned text, structure, hash.

Pure: bytes in, data out. The spider hands responses here through the pipeline; tests call it
directly on saved pages.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import orjson

from crawler.extract.attachment_text import attachment_content_hash, extract_attachment_text
from crawler.extract.page import Page, extract_page
from crawler.items import FetchedAttachment


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
        """The structure's metadata (to read: a copy when the structure has not been decoded)."""
        if _PACKED in self.__dict__:  # what storage reads of a structure it stores as it came
            return dict(self.__dict__.get(_METADATA) or {})
        return self.structure.get("metadata") or {}

    # Pickled (from an analysis worker to the storage process), the structure travels as its
    # JSON: orjson writes and reads it in 64 µs where pickle took 120, and the storage stores
    # those very bytes instead of encoding the structure again (131 µs with the json module).
    # The bytes are kept only while nobody holds the structure: reading ``structure`` decodes
    # them and drops them, so a structure changed after that cannot be stored stale.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        structure = state.get("structure")
        if structure is not None:
            try:
                state[_PACKED] = orjson.dumps(structure)
                state[_METADATA] = structure.get("metadata")
                del state["structure"]
            except orjson.JSONEncodeError:  # what only the json module writes travels pickled
                pass
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __getattr__(self, name: str) -> Any:
        # only called for an attribute not set: the structure of an unpickled snapshot
        if name == "structure" and _PACKED in self.__dict__:
            self.__dict__.pop(_METADATA, None)
            structure = self.__dict__["structure"] = orjson.loads(self.__dict__.pop(_PACKED))
            return structure
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def structure_json(self) -> bytes | None:
        """The structure as stored (``storage.content.structure_json``) when it travelled as
        such and nobody has read it since; else None."""
        return self.__dict__.get(_PACKED)


_PACKED = "_structure_json"
_METADATA = "_metadata"  # the structure's metadata, beside its JSON: all storage reads of it


# Only these metadata fields make a new version; the rest is derived from the text anyway.
_HASHED_METADATA = ("title", "doc_number", "signed_on", "published", "validity", "issuer")
# What json.dumps(payload, ensure_ascii=False, sort_keys=True) builds on every call, built once.
_HASH_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


def content_hash(
    title: str, normalized_text: str, structure: dict[str, Any], attachments: list[dict[str, Any]]
) -> str:
    """Hash what a reader would call the document's content, never the page around it."""
    # the document parsers are imported where they are used: a crawl process unpickles the
    # workers' snapshots (this module) but never parses a page itself unless a worker fails
    from crawler.document import normalize_for_compare

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
    blob = _HASH_ENCODER.encode(payload).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def build_snapshot(
    url: str,
    body: bytes,
    content_type: str | None = None,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    status: int = 200,
    page: Page | None = None,
    attachments: list[dict[str, Any]] | None = None,
) -> Snapshot:
    """Extract, clean and parse one detail page. Raises ExtractionError for a page with no body.

    ``page``: the page already extracted from these bytes (the spider reads its attachment
    links); ``attachments``: the resolved attachment entries (with content hashes), else the
    page's links with unknown hashes.
    """
    from crawler.document import normalize_for_compare, understand

    if page is None:
        page = extract_page(url, body, content_type)
    structure = understand(page.text, title=page.title, page_metadata=page.metadata, tables=page.tables)
    normalized = normalize_for_compare(page.text)
    meta = structure.get("metadata") or {}
    title = page.title or meta.get("title") or ""
    if attachments is None:
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


@dataclass
class AttachmentFile:
    """An attachment's file and text, to be stored once per content hash."""

    content_hash: str
    url: str
    raw: bytes = field(repr=False)
    mime: str | None
    text: str | None
    text_status: str
    text_error: str | None = None


_KEPT_FROM_PREVIOUS = ("mime", "size", "content_hash", "text_status", "etag", "last_modified")


def resolve_attachments(
    fetched: list[FetchedAttachment], previous: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[AttachmentFile]]:
    """Turn attachment fetch outcomes into the entries stored on a Version, and the files to
    store. A 304 or a failed fetch keeps the previous content hash of that URL, so that a
    transient failure never looks like a changed attachment."""
    by_url = {entry.get("url"): entry for entry in previous if entry.get("url")}
    entries: list[dict[str, Any]] = []
    files: list[AttachmentFile] = []
    for att in fetched:
        before = by_url.get(att.url) or {}
        entry: dict[str, Any] = {"url": att.url, "name": att.name, "mime": att.mime, "size": att.size,
                                 "content_hash": None}
        if att.status == "fetched" and att.body is not None:
            text = extract_attachment_text(att.body, att.mime, att.url)
            digest = attachment_content_hash(text, att.body)
            entry.update(size=len(att.body), content_hash=digest, status="ok",
                         text_status=text.status, etag=att.etag, last_modified=att.last_modified)
            files.append(AttachmentFile(digest, att.url, att.body, att.mime, text.text, text.status,
                                        text.reason))
        else:
            for key in _KEPT_FROM_PREVIOUS:
                if before.get(key) is not None:
                    entry[key] = before[key]
            entry["mime"] = entry.get("mime") or att.mime
            if att.status == "not_modified":
                entry["status"] = "ok" if before else "unknown"
            else:
                entry["status"] = att.status
                if att.reason:
                    entry["reason"] = att.reason
        entries.append(entry)
    return entries, files


def attachments_changed(entries: list[dict[str, Any]], previous: list[dict[str, Any]]) -> bool:
    """Whether the attachments differ in content (URL set, names or hashes) from before."""
    def key(items: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
        return sorted((str(e.get("url") or ""), str(e.get("name") or ""),
                       str(e.get("content_hash") or "")) for e in items)

    return key(entries) != key(previous)
