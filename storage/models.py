"""The database schema: SQLAlchemy 2 typed models for sources, documents, versions, runs and events."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, object_session, relationship
from sqlalchemy.orm.exc import DetachedInstanceError
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware timestamps on every backend (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class ZText(TypeDecorator[str]):
    """Text kept zlib-compressed (attachment texts: SQLite compresses nothing by itself)."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> bytes | None:
        return None if value is None else zlib.compress(value.encode("utf-8"), 6)

    def process_result_value(self, value: bytes | None, dialect: Any) -> str | None:
        return None if value is None else zlib.decompress(value).decode("utf-8")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class SourceRow(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    baseline_at: Mapped[datetime | None] = mapped_column(default=None)


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("source_id", "canonical_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # no index of its own: the unique (source_id, canonical_key) serves lookups by source
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    canonical_key: Mapped[str] = mapped_column(String(512))
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")
    doc_number: Mapped[str | None] = mapped_column(String(128), default=None)
    kind: Mapped[str | None] = mapped_column(String(32), default=None)
    series_key: Mapped[str | None] = mapped_column(String(256), default=None, index=True)
    year: Mapped[int | None] = mapped_column(default=None)
    published_on: Mapped[str | None] = mapped_column(String(32), default=None)
    status: Mapped[str] = mapped_column(String(16), default="active")
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    missing_count: Mapped[int] = mapped_column(default=0)
    etag: Mapped[str | None] = mapped_column(String(256), default=None)
    last_modified: Mapped[str | None] = mapped_column(String(64), default=None)
    version_count: Mapped[int] = mapped_column(default=0)
    # sha256 of the last raw body fetched (a 200 with the same bytes is not parsed again) and
    # when it was fetched (a Last-Modified within that second cannot be trusted for a 304)
    raw_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    last_fetched_at: Mapped[datetime | None] = mapped_column(default=None)

    source: Mapped[SourceRow] = relationship()
    urls: Mapped[list[DocumentUrl]] = relationship(
        back_populates="document", cascade="all, delete-orphan"
    )


class DocumentUrl(Base):
    """Every URL a document was seen under (one post id, several channel paths)."""

    __tablename__ = "document_urls"
    __table_args__ = (UniqueConstraint("document_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # no index of its own: the unique (document_id, url) serves lookups by document
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    document: Mapped[Document] = relationship(back_populates="urls")


class Version(Base):
    """One stored state of a document.

    Its contents (the text as published, the normalized text, the parsed structure and the raw
    response body) are not columns of this table: they are blobs in ``blobs``, stored once per
    distinct content and delta-compressed against similar contents (see ``storage.content``).
    ``text``, ``normalized_text``, ``structure`` and ``raw`` read them back, exactly as stored,
    on first access (and keep them on the instance); ``storage.content.load_contents`` reads them
    for many versions in a few queries.
    """

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("document_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # no index of its own: the unique (document_id, seq) serves lookups by document
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    crawl_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("crawl_runs.id", ondelete="SET NULL"), default=None, index=True
    )
    url: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str | None] = mapped_column(String(128), default=None)
    encoding: Mapped[str | None] = mapped_column(String(32), default=None)
    title: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    etag: Mapped[str | None] = mapped_column(String(256), default=None)
    last_modified: Mapped[str | None] = mapped_column(String(64), default=None)
    # The contents, by blob: the extracted text as published (UTF-8), the normalized text (the
    # same blob as the text when they are equal), the page: the structure (JSON, UTF-8) and the
    # response body byte for byte (storage.content.join_page). No ON DELETE: a blob may be
    # shared by versions of many documents.
    text_id: Mapped[int] = mapped_column(ForeignKey("blobs.id"))
    normalized_id: Mapped[int] = mapped_column(ForeignKey("blobs.id"))
    page_id: Mapped[int] = mapped_column(ForeignKey("blobs.id"))

    document: Mapped[Document] = relationship()

    @property
    def text(self) -> str:
        """The extracted text, as published."""
        return self._content("text")

    @property
    def normalized_text(self) -> str:
        """The text as compared (``crawler.document.normalize_for_compare`` of ``text``)."""
        return self._content("normalized_text")

    @property
    def structure(self) -> dict[str, Any]:
        """The parsed structure (``crawler.document.understand``)."""
        return self._content("structure")

    @property
    def raw(self) -> bytes:
        """The response body exactly as fetched (the audit record; re-parsed when needed)."""
        return self._content("raw")

    def _content(self, name: str) -> Any:
        decoded = self.__dict__.get("_decoded")
        if decoded is None or name not in decoded:
            from storage.content import load_contents

            session = object_session(self)
            if session is None:
                raise DetachedInstanceError(
                    f"version {self.id}: its {name} is read from the database on first access, "
                    "and this instance has no session (read it inside the session)")
            load_contents(session, [self], (name,))
            decoded = self.__dict__["_decoded"]
        return decoded[name]


class Blob(Base):
    """One distinct content (a text, a normalized text, a page: structure JSON and response body).

    ``digest`` (the first 16 bytes of its SHA-256) makes it content-addressed: stored once
    whatever number of versions, documents or sources share it. ``data`` is one format byte and a
    zstd frame whose dictionary is the content of ``aux_id`` followed by the content of
    ``base_id`` (either may be absent): ``base_id`` is a similar content of the same kind (the
    previous version's, a near-duplicate document's, the source's page template), with chains
    of bases at most two long, so that reading any blob decompresses a short fixed chain;
    ``aux_id`` is related content of another kind (the version's own text, inside which its
    normalized text, structure and page repeat). Both always point at older blobs. Blobs are
    never updated, and never deleted while anything refers to them.
    """

    __tablename__ = "blobs"
    # Texts are found by digest (stored once whatever documents share them): they are the blobs
    # without an aux. The other blobs are found among those of the version they are compared
    # with (storage.content.store_contents): an index of every page's and structure's digest
    # was the largest index of the database, for the rare page stored twice. Not unique: two
    # workers that store one new text at the same moment keep it twice, harmless; readers
    # take the first.
    __table_args__ = (
        Index("ix_blobs_text_digest", "digest", sqlite_where=text("aux_id IS NULL"),
              postgresql_where=text("aux_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(16))
    base_id: Mapped[int | None] = mapped_column(ForeignKey("blobs.id"), default=None)
    aux_id: Mapped[int | None] = mapped_column(ForeignKey("blobs.id"), default=None)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class TextSketch(Base):
    """Similarity keys of stored texts: a few min-hashes of a text's lines, pointing at the
    version that first stored it, so that a new document whose text nearly repeats a stored
    one (a republished notice, a new year's edition) is compressed against it."""

    __tablename__ = "text_sketches"
    # SQLite: the primary key is the table (no rowid b-tree beside it): half the bytes.
    __table_args__ = {"sqlite_with_rowid": False}

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)


class AttachmentBlob(Base):
    """One attachment file's content, stored once per content hash whatever page links it.

    ``content_hash`` is the hash of the normalized extracted text when text could be extracted
    (a re-exported PDF with the same words is the same attachment), else of the raw bytes.
    """

    __tablename__ = "attachment_blobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    raw_hash: Mapped[str] = mapped_column(String(64))
    mime: Mapped[str | None] = mapped_column(String(128), default=None)
    size: Mapped[int] = mapped_column(default=0)
    raw: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed file
    text: Mapped[str | None] = mapped_column(ZText, default=None)
    text_status: Mapped[str] = mapped_column(String(16), default="ok")  # ok|unsupported|error
    text_error: Mapped[str | None] = mapped_column(Text, default=None)
    first_url: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), default=None, index=True
    )
    trigger: Mapped[str] = mapped_column(String(16), default="manual")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16), default="running")
    pages_fetched: Mapped[int] = mapped_column(default=0)
    documents_seen: Mapped[int] = mapped_column(default=0)
    documents_new: Mapped[int] = mapped_column(default=0)
    versions_new: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    listing_complete: Mapped[bool] = mapped_column(default=False)
    message: Mapped[str | None] = mapped_column(Text, default=None)
    # a full sweep walks every list page; an incremental run stops at the first known page
    full_sweep: Mapped[bool] = mapped_column(default=False)
    # the crawling process, so that the next run can tell a dead run from a live one
    pid: Mapped[int | None] = mapped_column(default=None)
    host: Mapped[str | None] = mapped_column(String(255), default=None)


class FetchError(Base):
    __tablename__ = "fetch_errors"

    id: Mapped[int] = mapped_column(primary_key=True)
    crawl_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("crawl_runs.id", ondelete="CASCADE"), default=None, index=True
    )
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), default=None, index=True
    )
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[int | None] = mapped_column(default=None)
    reason: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=1)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChangeEvent(Base):
    __tablename__ = "change_events"
    __table_args__ = (Index("ix_change_events_detected", "detected_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(32), index=True)
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), default=None, index=True
    )
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), default=None, index=True
    )
    related_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), default=None
    )
    version_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("versions.id", ondelete="SET NULL"), default=None
    )
    version_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("versions.id", ondelete="SET NULL"), default=None
    )
    task_label: Mapped[str | None] = mapped_column(String(64), default=None)
    task_title: Mapped[str | None] = mapped_column(Text, default=None)
    before: Mapped[str | None] = mapped_column(Text, default=None)
    after: Mapped[str | None] = mapped_column(Text, default=None)
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)

    source: Mapped[SourceRow | None] = relationship()
    document: Mapped[Document | None] = relationship(foreign_keys=[document_id])
    version_from: Mapped[Version | None] = relationship(foreign_keys=[version_from_id])
    version_to: Mapped[Version | None] = relationship(foreign_keys=[version_to_id])


class Subscriber(Base):
    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    cadence: Mapped[str] = mapped_column(String(16), default="daily")
    filters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    origin: Mapped[str] = mapped_column(String(16), default="cli")  # "config" or "cli"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_digest_at: Mapped[datetime | None] = mapped_column(default=None)


class Delivery(Base):
    """One event delivered to one subscriber: written only after the SMTP server accepted it."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("subscriber_id", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("change_events.id", ondelete="CASCADE"), index=True)
    delivered_at: Mapped[datetime] = mapped_column(default=utcnow)
    message_id: Mapped[str | None] = mapped_column(String(256), default=None)


class Lease(Base):
    """A named lock across processes that expires if its holder dies."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
