"""Remember documents and their versions: a new Version only when the content hash changed."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from storage.content import ContentIds, register_sketch, store_contents, structure_json
from storage.models import AttachmentBlob, Document, DocumentUrl, SourceRow, Version, utcnow
from storage.prepared import Prepared
from storage.writes import PreparedInsert, Writes


class SnapshotLike(Protocol):
    url: str
    canonical_key: str
    title: str
    text: str
    normalized_text: str
    structure: dict[str, Any]
    attachments: list[dict[str, Any]]
    content_hash: str
    raw: bytes
    content_type: str | None
    encoding: str | None
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class StoreOutcome:
    """What storing one snapshot did: 'new' document, 'changed' (new version) or 'unchanged'."""

    status: str
    document_id: int
    version_id: int | None
    previous_version_id: int | None = None


class NotFound(LookupError):
    """No stored object matches; the message is one line for the user."""


def ensure_source(session: Session, name: str, kind: str, settings: dict[str, Any]) -> SourceRow:
    row = session.scalar(select(SourceRow).where(SourceRow.name == name))
    if row is None:
        try:
            # Two workers of a distributed crawl may create the source at the same moment.
            with session.begin_nested():
                row = SourceRow(name=name, kind=kind, settings=settings)
                session.add(row)
                session.flush()
            return row
        except IntegrityError:
            row = session.scalar(select(SourceRow).where(SourceRow.name == name))
            if row is None:
                raise
    if row.kind != kind or row.settings != settings:
        row.kind = kind
        row.settings = settings
    return row


def compress(raw: bytes) -> bytes:
    """An attachment file as stored (zlib: attachments are few, and rarely repeat a page)."""
    return zlib.compress(raw, 6)


def decompress(raw: bytes) -> bytes:
    return zlib.decompress(raw)


# Storing a page runs these for every fetched document: Core statements built once, compiled
# once per dialect and run on the DBAPI cursor of the session's connection (storage.prepared:
# building a statement, its cache key and its execution context cost more than its SQL; an ORM
# object and a flush for each row cost more still).
_documents = Document.__table__
_versions = Version.__table__
_document_urls = DocumentUrl.__table__
_LATEST_SEQ = (select(func.max(_versions.c.seq)).where(_versions.c.document_id == _documents.c.id)
               .correlate(_documents).scalar_subquery())
# the document and its latest version (as latest_version finds it), in one query
_STORED = (
    select(_documents.c.id, _documents.c.url, _versions.c.id.label("version_id"), _versions.c.seq,
           _versions.c.content_hash, _versions.c.text_id, _versions.c.normalized_id,
           _versions.c.page_id)
    .outerjoin(_versions, and_(_versions.c.document_id == _documents.c.id,
                               _versions.c.seq == _LATEST_SEQ))
    .where(_documents.c.source_id == bindparam("source_id"))
)
_SELECT_STORED = Prepared(_STORED.where(_documents.c.canonical_key == bindparam("canonical_key")))
# the same, for the pages of a batch (Lookahead)
_SELECT_STORED_MANY = (_STORED.add_columns(_documents.c.canonical_key)
                       .where(_documents.c.canonical_key.in_(bindparam("keys", expanding=True))))
_INSERT_DOCUMENT = PreparedInsert(_documents)
_UPDATE_DOCUMENT = Prepared(update(_documents).where(_documents.c.id == bindparam("document_id")))
_INSERT_VERSION = PreparedInsert(_versions)
_SELECT_URL = Prepared(select(_document_urls.c.id).where(_document_urls.c.document_id == bindparam("document_id"),
                                                         _document_urls.c.url == bindparam("url")))
_INSERT_URL = Prepared(insert(_document_urls))


@dataclass
class Lookahead:
    """What storing a batch's pages asks the database first (the stored document), asked for
    the whole batch at once: a query instead of one a page. An answer is used once; asked again
    (the same document twice in a batch), the database answers, with what the batch stored
    since. (Whether a page's text is stored is asked with its other lookups:
    storage.content.store_contents.)"""

    stored: dict[tuple[int, str], Any] = field(default_factory=dict)


def look_ahead(session: Session, pages: Sequence[tuple[int, SnapshotLike]]) -> Lookahead:
    """The Lookahead of some (source id, snapshot) pairs, to give store_snapshot."""
    session.flush()
    conn = session.connection()
    ahead = Lookahead()
    by_source: dict[int, set[str]] = {}
    for source_id, snapshot in pages:
        by_source.setdefault(source_id, set()).add(snapshot.canonical_key)
    for source_id, keys in by_source.items():
        ahead.stored.update(((source_id, key), None) for key in keys)
        for row in conn.execute(_SELECT_STORED_MANY, {"source_id": source_id, "keys": sorted(keys)}):
            ahead.stored[(source_id, row.canonical_key)] = row
    return ahead


def store_snapshot(
    session: Session, source_id: int, snapshot: SnapshotLike, *, run_id: int | None = None,
    now: datetime | None = None, lookahead: Lookahead | None = None,
) -> StoreOutcome:
    """Store a fetched page: touch when unchanged, else write the next Version. ``lookahead``:
    the batch's answers asked ahead (look_ahead)."""
    now = now or utcnow()
    # what the session holds unwritten goes first, as the ORM query this replaced autoflushed it
    session.flush()
    conn = session.connection()
    key = (source_id, snapshot.canonical_key)
    if lookahead is not None and key in lookahead.stored:
        stored = lookahead.stored.pop(key)
    else:
        stored = _SELECT_STORED.first(conn, {"source_id": source_id, "canonical_key": snapshot.canonical_key})
    seen = {"last_seen_at": now, "missing_count": 0, "status": "active", "etag": snapshot.etag,
            "last_modified": snapshot.last_modified, "raw_hash": raw_hash(snapshot.raw),
            "last_fetched_at": now}
    previous = stored if stored is not None and stored.version_id is not None else None
    if previous is not None and previous.content_hash == snapshot.content_hash:
        _UPDATE_DOCUMENT.run(conn, {"document_id": stored.id, **seen})
        _forget_document(session, stored.id)
        if snapshot.url != stored.url:  # the document's url is always recorded (below)
            _remember_url_id(conn, stored.id, snapshot.url, now)
        return StoreOutcome("unchanged", stored.id, None, previous.version_id)

    version_count = (previous.seq if previous is not None else 0) + 1
    structure = _structure_json(snapshot)  # first: reading the structure drops the bytes it came as
    described = {**seen, **_description(snapshot), "version_count": version_count}
    # the page's writes, sent together once its reads are done (storage.writes)
    writes = Writes(conn)
    if stored is None:
        # inserted once complete, not inserted then updated: one row version written
        document_id = writes.insert(_INSERT_DOCUMENT, {
            "source_id": source_id, "canonical_key": snapshot.canonical_key, "first_seen_at": now,
            **described})
        writes.run(_INSERT_URL, {"document_id": document_id, "url": snapshot.url, "first_seen_at": now})
    else:
        document_id = stored.id
        writes.run(_UPDATE_DOCUMENT, {"document_id": document_id, **described})
        _forget_document(session, document_id)
        if snapshot.url != stored.url:
            _remember_url_id(conn, document_id, snapshot.url, now)
    contents = store_contents(
        conn, text=snapshot.text, normalized_text=snapshot.normalized_text,
        structure=structure, raw=snapshot.raw, encoding=snapshot.encoding,
        previous=_content_ids(previous), source_id=source_id, document_id=document_id,
        writes=writes,
    )
    version_id = writes.insert(_INSERT_VERSION, {
        "document_id": document_id, "seq": version_count, "fetched_at": now, "crawl_run_id": run_id,
        "url": snapshot.url, "content_hash": snapshot.content_hash,
        "content_type": snapshot.content_type, "encoding": snapshot.encoding,
        "title": snapshot.title, "attachments": snapshot.attachments, "etag": snapshot.etag,
        "last_modified": snapshot.last_modified, "text_id": contents.ids.text_id,
        "normalized_id": contents.ids.normalized_id, "page_id": contents.ids.page_id,
    })
    register_sketch(writes, version_id, contents.sketch)
    writes.send()
    return StoreOutcome("new" if stored is None else "changed", document_id, version_id,
                        previous.version_id if previous is not None else None)


def _description(snapshot: SnapshotLike) -> dict[str, Any]:
    """The document's columns that follow its latest version."""
    meta = _metadata(snapshot)
    year = meta.get("year")
    return {"url": snapshot.url, "title": snapshot.title, "doc_number": meta.get("doc_number"),
            "kind": meta.get("kind"), "series_key": meta.get("series_key"),
            "year": year if isinstance(year, int) else None, "published_on": meta.get("published")}


def _structure_json(snapshot: SnapshotLike) -> bytes:
    """The structure's stored form: the bytes it came as from another process, when it did
    (the crawler's Snapshot.structure_json, the same bytes), else encoded here."""
    packed = getattr(snapshot, "structure_json", None)
    encoded = packed() if callable(packed) else None
    return encoded if encoded is not None else structure_json(snapshot.structure)


def _metadata(snapshot: SnapshotLike) -> dict[str, Any]:
    """The structure's metadata, read without decoding a structure that came as JSON (the
    crawler's Snapshot.metadata), else from the structure."""
    metadata = getattr(snapshot, "metadata", None)
    if isinstance(metadata, dict):
        return metadata
    return snapshot.structure.get("metadata") or {}


def _content_ids(previous: Any) -> ContentIds | None:
    return ContentIds.of(previous) if previous is not None else None


def _forget_document(session: Session, document_id: int) -> None:
    """The row was written with Core: a Document the session already holds (the pipeline loads
    it to compare raw hashes) reads it again on next access instead of showing stale values.
    Its unwritten changes were flushed first (store_snapshot, touch), so none is lost."""
    doc = session.identity_map.get(identity_key(Document, document_id))
    if doc is not None:
        session.expire(doc)


def _remember_url_id(conn: Connection, document_id: int, url: str, now: datetime) -> None:
    exists = _SELECT_URL.first(conn, {"document_id": document_id, "url": url})
    if exists is None:
        _INSERT_URL.run(conn, {"document_id": document_id, "url": url, "first_seen_at": now})


def raw_hash(raw: bytes) -> str:
    """The hash of a response body as fetched (before any decoding or extraction)."""
    return hashlib.sha256(raw).hexdigest()


# the columns set are the execution's parameters (other than the key's)
_TOUCH = Prepared(update(_documents)
                  .where(_documents.c.source_id == bindparam("of_source"),
                         _documents.c.canonical_key == bindparam("of_key"))
                  .returning(_documents.c.id, _documents.c.url))


def touch(session: Session, source_id: int, canonical_key: str, url: str, *,
          etag: str | None = None, last_modified: str | None = None,
          fetched_raw_hash: str | None = None) -> int | None:
    """A page answered 304, or 200 with the bytes already stored: only move last_seen_at (and
    the validators of a 200). Returns the document id, None when the document is unknown."""
    # one UPDATE … RETURNING instead of loading the row: an unchanged recrawl does this for
    # every document of the source
    now = utcnow()
    values: dict[str, Any] = {"last_seen_at": now, "missing_count": 0, "status": "active"}
    if fetched_raw_hash is not None:  # a full 200 response: its validators are the fresh ones
        values.update(raw_hash=fetched_raw_hash, etag=etag, last_modified=last_modified,
                      last_fetched_at=now)
    session.flush()  # as store_snapshot: nothing unwritten of the row is then lost by expiring it
    conn = session.connection()
    row = _TOUCH.first(conn, {"of_source": source_id, "of_key": canonical_key, **values})
    if row is None:
        return None
    _forget_document(session, row.id)
    if url != row.url:  # store_snapshot records the document's url: only another one is news
        _remember_url_id(conn, row.id, url, now)
    return int(row.id)


@dataclass(frozen=True)
class KnownDocument:
    """What a crawl needs to know of a stored document to fetch it cheaply."""

    etag: str | None
    last_modified: str | None
    last_fetched_at: datetime | None
    raw_hash: str | None
    attachments: list[dict[str, Any]] = field(default_factory=list)


# keys asked for at once: well under SQLite's limit on a statement's parameters (32,766)
KEYS_PER_QUERY = 500


def _known_rows(session: Session, source_id: int, keys: Sequence[str] | None) -> dict[str, KnownDocument]:
    query = (select(Document.canonical_key, Document.etag, Document.last_modified,
                    Document.last_fetched_at, Document.raw_hash, Version.attachments)
             .outerjoin(Version, and_(Version.document_id == Document.id,
                                      Version.seq == Document.version_count))
             .where(Document.source_id == source_id))
    if keys is not None:
        query = query.where(Document.canonical_key.in_(keys))
    return {key: KnownDocument(etag, modified, fetched, raw, list(atts or []))
            for key, etag, modified, fetched, raw, atts in session.execute(query)}


def validators_for_keys(session: Session, source_id: int, keys: Sequence[str]) -> dict[str, KnownDocument]:
    """The stored documents of a source among ``keys`` (canonical keys), with their validators
    (for conditional GETs) and their latest version's attachment entries (for conditional
    attachment GETs). Keys not stored are absent."""
    found: dict[str, KnownDocument] = {}
    wanted = sorted(set(keys))
    for start in range(0, len(wanted), KEYS_PER_QUERY):
        found.update(_known_rows(session, source_id, wanted[start:start + KEYS_PER_QUERY]))
    return found


def validators_for_source(session: Session, source_id: int) -> dict[str, KnownDocument]:
    """``validators_for_keys`` for every stored document of the source, in one query."""
    return _known_rows(session, source_id, None)


def count_documents(session: Session, source_id: int) -> int:
    """How many documents a source has stored."""
    return int(session.scalar(select(func.count(Document.id)).where(Document.source_id == source_id)) or 0)


@dataclass(frozen=True)
class StoredPage:
    """The latest stored response of a document, to rebuild a snapshot without refetching."""

    url: str
    raw: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    attachments: list[dict[str, Any]]


def latest_page(session: Session, source_id: int, canonical_key: str) -> StoredPage | None:
    doc = find_by_key(session, source_id, canonical_key)
    version = latest_version(session, doc.id) if doc is not None else None
    if doc is None or version is None:
        return None
    return StoredPage(version.url, version.raw, version.content_type, doc.etag,
                      doc.last_modified, list(version.attachments or []))


def store_attachment_blob(session: Session, *, content_hash: str, raw: bytes, mime: str | None,
                          text: str | None, text_status: str, text_error: str | None = None,
                          url: str = "") -> AttachmentBlob:
    """Store an attachment's file and text once per content hash; return the stored row."""
    blob = session.scalar(select(AttachmentBlob).where(AttachmentBlob.content_hash == content_hash))
    if blob is not None:
        return blob
    blob = AttachmentBlob(content_hash=content_hash, raw_hash=raw_hash(raw), mime=mime, size=len(raw),
                          raw=compress(raw), text=text, text_status=text_status,
                          text_error=text_error, first_url=url)
    try:
        with session.begin_nested():  # another crawl may store the same file at the same moment
            session.add(blob)
    except IntegrityError:
        existing = session.scalar(select(AttachmentBlob).where(AttachmentBlob.content_hash == content_hash))
        if existing is None:
            raise
        return existing
    return blob


def attachment_blob(session: Session, content_hash: str) -> AttachmentBlob | None:
    return session.scalar(select(AttachmentBlob).where(AttachmentBlob.content_hash == content_hash))


def mark_missing(session: Session, source_id: int, canonical_key: str) -> Document | None:
    """A page answered 404/410: count it; the monitor decides when that means removed."""
    doc = find_by_key(session, source_id, canonical_key)
    if doc is not None:
        doc.missing_count += 1
    return doc


_FIND_BY_KEY = select(Document).where(Document.source_id == bindparam("source_id"),
                                      Document.canonical_key == bindparam("canonical_key"))


def find_by_key(session: Session, source_id: int, canonical_key: str) -> Document | None:
    return session.scalar(_FIND_BY_KEY, {"source_id": source_id, "canonical_key": canonical_key})


_SELECT_RAW_HASH = select(_documents.c.raw_hash).where(
    _documents.c.source_id == bindparam("source_id"),
    _documents.c.canonical_key == bindparam("canonical_key"), _documents.c.version_count > 0)


def stored_raw_hash(session: Session, source_id: int, canonical_key: str) -> str | None:
    """The raw hash of the document's latest stored response, None when it has no version: a
    fetch with the same hash needs no parsing (``touch`` it). A Core query, no ORM object: the
    crawl asks it of every fetched page."""
    session.flush()  # as the ORM query's autoflush would
    return session.connection().execute(
        _SELECT_RAW_HASH, {"source_id": source_id, "canonical_key": canonical_key}).scalar()


def validators(session: Session, source_id: int, canonical_key: str) -> tuple[str | None, str | None]:
    """The stored ETag and Last-Modified of a document, for a conditional GET."""
    doc = find_by_key(session, source_id, canonical_key)
    if doc is None:
        return None, None
    return doc.etag, doc.last_modified


def latest_version(session: Session, document_id: int) -> Version | None:
    return session.scalar(
        select(Version).where(Version.document_id == document_id).order_by(Version.seq.desc()).limit(1)
    )


def get_version(session: Session, document_id: int, seq: int) -> Version:
    version = session.scalar(
        select(Version).where(Version.document_id == document_id, Version.seq == seq)
    )
    if version is None:
        raise NotFound(f"document {document_id} has no version {seq}")
    return version


def version_or_latest(session: Session, document_id: int, seq: int | None = None) -> Version:
    """Version `seq` of a document, or its latest; NotFound when there is none."""
    if seq:
        return get_version(session, document_id, seq)
    version = latest_version(session, document_id)
    if version is None:
        raise NotFound(f"document {document_id} has no stored version")
    return version


def versions_of(session: Session, document_id: int) -> list[Version]:
    return list(
        session.scalars(select(Version).where(Version.document_id == document_id).order_by(Version.seq))
    )


def resolve_document(session: Session, ref: str) -> Document:
    """Find a document by id, URL, canonical key or a unique part of its title."""
    ref = ref.strip()
    if ref.isdigit():
        doc = session.get(Document, int(ref))
        if doc is not None:
            return doc
    doc = session.scalar(
        select(Document).join(DocumentUrl).where(DocumentUrl.url == ref).limit(1)
    ) or session.scalar(
        select(Document).where(or_(Document.canonical_key == ref, Document.url == ref)).limit(1)
    )
    if doc is not None:
        return doc
    # taken literally: a title part with % or _ (增长5%) is no LIKE pattern
    matches = list(session.scalars(select(Document).where(Document.title.contains(ref, autoescape=True))
                                   .limit(5)))
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise NotFound(f"{ref!r} matches several documents: use an id (policywatch documents list)")
    raise NotFound(f"no stored document matches {ref!r}")


def list_documents(
    session: Session, *, source: str | None = None, limit: int = 100, status: str | None = None,
    kind: str | None = None, match: str | None = None, since: datetime | None = None,
) -> list[tuple[Document, str]]:
    """Stored documents, most recently seen first. ``match``: a piece of the title or of the
    document number, taken literally; ``since``: published on or after that day (documents
    without a publication date: first seen at or after that moment)."""
    query = select(Document, SourceRow.name).join(SourceRow)
    if source:
        query = query.where(SourceRow.name == source)
    if status:
        query = query.where(Document.status == status)
    if kind:
        query = query.where(Document.kind == kind)
    if match:
        query = query.where(or_(Document.title.contains(match, autoescape=True),
                                Document.doc_number.contains(match, autoescape=True)))
    if since is not None:
        # published_on is the page's own date as text, YYYY-MM-DD first: compared as text
        query = query.where(or_(Document.published_on >= since.date().isoformat(),
                                and_(Document.published_on.is_(None), Document.first_seen_at >= since)))
    query = query.order_by(Document.last_seen_at.desc(), Document.id.desc()).limit(limit)
    return [(doc, name) for doc, name in session.execute(query)]


def active_keys(session: Session, source_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Document.canonical_key, Document.id).where(
            Document.source_id == source_id, Document.status == "active"
        )
    )
    return {key: doc_id for key, doc_id in rows}


def count_versions(session: Session) -> int:
    return session.scalar(select(func.count(Version.id))) or 0


def list_sources(session: Session) -> list[SourceRow]:
    return list(session.scalars(select(SourceRow).order_by(SourceRow.name)))


def source_by_name(session: Session, name: str) -> SourceRow | None:
    return session.scalar(select(SourceRow).where(SourceRow.name == name))
