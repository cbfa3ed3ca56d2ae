"""Version contents stored once per distinct content and delta-compressed (the ``blobs`` table).

Why: a version used to hold its text four times over (as published, normalized, twice more in
the structure JSON) plus the page, each zlib-compressed on its own: about 30 KB a version, 16×
the compressed size of the distinct texts. Sites republish one text under several URLs and
columns, revise a document a few words at a time, and wrap every page in the same template; a
text is stored once (found by ``digest``), and every blob is compressed with zstd against the
contents it most likely repeats:

* a text against the previous version's text, or against a stored text it nearly repeats (found
  by ``sketch``: min-hashes of its lines), else alone;
* a normalized text against its own text and the similar version's normalized text (it is the
  text less spaces, chrome and spam: a few bytes of edits);
* a page (the structure JSON and the response body, one blob) against its own text (the outline
  and the tasks quote it, the body wraps it; as UTF-8 whatever the page's encoding: a dictionary
  made with a codec would depend on that codec's tables, and a codec that changed would leave
  the page unreadable) and the similar version's page, else a recent page of the source (the
  same template and the same JSON shape): the one this process stored last, checked by digest,
  else the newest the database has.

Chains of bases are at most MAX_DEPTH long (a template page, a document's first page, its
revisions and near-duplicates), so that reading a blob decompresses a short, fixed chain; bases,
shared by many blobs, stay in a small in-process cache keyed by digest (a content address never
goes stale, even after a rollback reuses an id). A delta that saves too little is replaced by the
blob compressed alone (a new root): a document revised beyond recognition does not keep paying
for its first text.

Storing a version asks the database once before it writes (``_select_lookup``): whether its text is
stored, the version it is compared with (given, or the near-duplicate found by sketch) and the
chains of bases above that version's blobs and above the remembered template page. Those were
three round trips; on PostgreSQL, most of a stored page's cost besides its write.
"""

from __future__ import annotations

import hashlib
import json
import struct
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import zstandard
from sqlalchemy import Connection, bindparam, cast, func, insert, null, select, true, union_all
from sqlalchemy.orm import Session

from storage.models import Blob, Document, TextSketch, Version
from storage.prepared import Prepared, PreparedIn, number
from storage.writes import PreparedInsert, Writes

Executor = Session | Connection

# First byte of every blob: how the rest reads. 1: a zstd frame (content size and checksum
# written) whose raw-content dictionary is the aux blob's content followed by the base blob's.
FORMAT_ZSTD = 1
# zstd level (any level reads back the same): 3 against 6 stores a version in 1.32 ms of CPU
# instead of 1.5-1.8, for 1 % more bytes (python bench/store_bench.py --docs 1000, session 5).
LEVEL = 3
# Longest chain of bases: a template page ← a document's first page ← its near-duplicates' and
# its revisions'. Reading a blob decompresses at most this many bases (cached by digest).
MAX_DEPTH = 2
DIGEST_BYTES = 16  # of SHA-256: 128 bits, no collision in any number of pages a crawl will see
# Keep a delta only when it is under this share of the content: above it the base was not
# similar enough, and compressing alone (a new root) usually does as well.
DELTA_WORTH = 0.25
SKETCH_KEYS = 4  # min-hashes kept per text
# The texts a sketch key points at, at most: past them a key is not registered again, and a
# lookup reads only the newest this many (see _select_similar).
KEY_WINDOW = 64
SKETCH_MIN_LINE = 12  # shorter lines ("特此通知。", "附件:") are common to unrelated documents
# Decoded contents kept by digest: the bases, read again for every blob stored against them.
# Small: in a real crawl most new texts are roots that nothing will be compared with, and the
# crawl's peak memory should not grow with the number of documents.
CACHE_BYTES = 8 * 2**20
IN_BATCH = 500  # ids per IN (…) query


def digest(content: bytes) -> bytes:
    """The content address of a blob."""
    return hashlib.sha256(content).digest()[:DIGEST_BYTES]


# What json.dumps(…, ensure_ascii=False, separators=(",", ":")) builds on every call, built once;
# no check for circular references (a parsed page is a tree). Only for what orjson refuses.
_STRUCTURE_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


def structure_json(structure: Any) -> bytes:
    """The stored form of a structure: UTF-8 JSON, no escapes, no spaces (as migration 0003 wrote
    it, so that converted and new structures read back the same way).

    orjson writes the same bytes as the json module for a structure (strings, integers, lists,
    maps) in a seventh of the time (19 against 131 µs for a seed page); what it refuses (an
    integer past 64 bits, a key that is not a string) goes to the json module. The crawler's
    ``Snapshot.structure_json`` makes the same bytes where the page was read."""
    try:
        return orjson.dumps(structure)
    except orjson.JSONEncodeError:
        return _STRUCTURE_ENCODER.encode(structure).encode("utf-8")


def join_page(structure: bytes, raw: bytes) -> bytes:
    """One blob for what a fetch gave and what was parsed from it: the structure JSON and the
    response body, behind the structure's length (4 bytes, big-endian). One row, not two, for
    contents always stored together: at a hundred bytes a delta, a row's own bytes counted."""
    return struct.pack(">I", len(structure)) + structure + raw


def split_page(page: bytes) -> tuple[bytes, bytes]:
    """(structure JSON, response body) of a page blob."""
    (size,) = struct.unpack_from(">I", page)
    return page[4:4 + size], page[4 + size:]


# -- compression -----------------------------------------------------------------------------
def _dictionary(data: bytes) -> zstandard.ZstdCompressionDict | None:
    # zstd needs a few bytes of dictionary to use one at all; both sides decide the same way.
    if len(data) < 8:
        return None
    return zstandard.ZstdCompressionDict(data, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def _compressor(zdict: zstandard.ZstdCompressionDict | None) -> zstandard.ZstdCompressor:
    return zstandard.ZstdCompressor(level=LEVEL, dict_data=zdict, write_checksum=True,
                                    write_content_size=True, write_dict_id=False)


# A compressor without dictionary (every new text) is reused: one per thread, as a compressor
# is not safe for concurrent use; a one-shot compress() starts afresh each time, same bytes out.
_plain = threading.local()


def compress(content: bytes, dictionary: bytes = b"") -> bytes:
    """``content`` as a blob's data, compressed against ``dictionary``."""
    zdict = _dictionary(dictionary)
    if zdict is not None:  # a dictionary is seldom used twice: the content it is made of differs
        compressor = _compressor(zdict)
    elif (compressor := getattr(_plain, "compressor", None)) is None:
        compressor = _plain.compressor = _compressor(None)
    return bytes([FORMAT_ZSTD]) + compressor.compress(content)


def decompress(data: bytes, dictionary: bytes = b"") -> bytes:
    """The content of a blob's data, given the dictionary it was compressed against."""
    data = bytes(data)
    if not data or data[0] != FORMAT_ZSTD:
        raise ValueError(f"unknown blob format {data[:1]!r}")
    zdict = _dictionary(dictionary)
    return zstandard.ZstdDecompressor(dict_data=zdict).decompress(data[1:])


# -- the cache of decoded contents -----------------------------------------------------------
class _Cache:
    """Decoded contents by digest, least recently used first out, bounded in bytes."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._items: OrderedDict[bytes, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: bytes) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: bytes, value: bytes) -> None:
        if len(value) > self.budget // 8:
            return
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return
            self._items[key] = value
            self._bytes += len(value)
            while self._bytes > self.budget:
                _, old = self._items.popitem(last=False)
                self._bytes -= len(old)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


_cache = _Cache(CACHE_BYTES)


class _RecentPages:
    """The page this process stored last for each source (and database), with its digest: the
    template of the source's next new document, without a query. Bounded: the sources a crawl
    stores at once."""

    def __init__(self, most: int = 4096) -> None:
        self.most = most
        self._items: OrderedDict[tuple[Any, int], tuple[int, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, conn: Connection, source_id: int) -> tuple[int, bytes] | None:
        with self._lock:
            return self._items.get((conn.engine.url, source_id))

    def put(self, conn: Connection, source_id: int, page_id: int, page_digest: bytes) -> None:
        key = (conn.engine.url, source_id)
        with self._lock:
            self._items[key] = (page_id, page_digest)
            self._items.move_to_end(key)
            while len(self._items) > self.most:
                self._items.popitem(last=False)


_recent_pages = _RecentPages()


# -- reading ---------------------------------------------------------------------------------
def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    items = sorted(ids)
    for start in range(0, len(items), IN_BATCH):
        yield items[start:start + IN_BATCH]


def _core(conn: Executor) -> Connection:
    """The session's connection: blobs are read and written with Core statements, and the ORM's
    result machinery would cost more than the small queries themselves."""
    return conn.connection() if isinstance(conn, Session) else conn


# Built once: statement construction and its cache key cost more than a small query itself.
_SELECT_ROWS = (select(Blob.id, Blob.digest, Blob.base_id, Blob.aux_id, Blob.data)
                .where(Blob.id.in_(bindparam("ids", expanding=True))))


def read_blobs(conn: Executor, ids: Iterable[int | None]) -> dict[int, bytes]:
    """The contents of some blobs by id, in a few queries whatever their number: one per level
    of reference (a blob, its dictionaries, theirs: three levels at most)."""
    conn = _core(conn)
    wanted = {i for i in ids if i is not None}
    rows: dict[int, Any] = {}
    out: dict[int, bytes] = {}
    pending = set(wanted)
    while pending:
        found = set()
        needed: set[int] = set()
        for chunk in _chunks(pending):
            for row in conn.execute(_SELECT_ROWS, {"ids": chunk}):
                found.add(row.id)
                rows[row.id] = row
                cached = _cache.get(bytes(row.digest))
                if cached is not None:
                    out[row.id] = cached
                    continue
                needed.update(i for i in (row.aux_id, row.base_id) if i is not None and i not in rows)
        if pending - found:
            raise LookupError(f"blobs {sorted(pending - found)[:5]} are missing")
        pending = needed

    def decode(blob_id: int, dependency: bool) -> bytes:
        content = out.get(blob_id)
        if content is None:
            row = rows[blob_id]
            dictionary = b"".join(decode(i, True) for i in (row.aux_id, row.base_id) if i is not None)
            content = decompress(row.data, dictionary)
            # kept: what other blobs are compressed against (roots, dictionaries), not the
            # contents asked for, which the caller keeps as long as it needs them
            if dependency or row.base_id is None:
                _cache.put(bytes(row.digest), content)
            out[blob_id] = content
        return content

    return {i: decode(i, False) for i in wanted}


def read_blob(conn: Executor, blob_id: int) -> bytes:
    return read_blobs(conn, [blob_id])[blob_id]


# What each content attribute of a Version is: its blob column and how its bytes read.
FIELDS: dict[str, tuple[str, Any]] = {
    "text": ("text_id", lambda b: b.decode("utf-8")),
    "normalized_text": ("normalized_id", lambda b: b.decode("utf-8")),
    "structure": ("page_id", lambda b: json.loads(split_page(b)[0])),
    "raw": ("page_id", lambda b: split_page(b)[1]),
}


def load_contents(session: Session, versions: Sequence[Version],
                  names: Iterable[str] = tuple(FIELDS)) -> None:
    """Read the contents ``names`` of many versions at once (a few queries in all, instead of a
    few per version) and keep them on the instances, where the Version properties find them."""
    names = tuple(names)
    todo = [(v, n) for v in versions for n in names if n not in (v.__dict__.get("_decoded") or {})]
    if not todo:
        return
    contents = read_blobs(session, {getattr(v, FIELDS[n][0]) for v, n in todo})
    for version, name in todo:
        column, convert = FIELDS[name]
        version.__dict__.setdefault("_decoded", {})[name] = convert(contents[getattr(version, column)])


def structures_by_version(session: Session, version_ids: Iterable[int]) -> dict[int, Any]:
    """The structure of some versions, by version id, in a few queries."""
    out: dict[int, Any] = {}
    # a chunk at a time: the pages come with the structures, and only the structures are kept
    for chunk in _chunks({i for i in version_ids if i is not None}):
        pairs = session.execute(select(Version.id, Version.page_id).where(Version.id.in_(chunk))).all()
        contents = read_blobs(session, {blob for _, blob in pairs})
        out.update((vid, json.loads(split_page(contents[blob])[0])) for vid, blob in pairs)
    return out


# -- writing ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ContentIds:
    """The blobs of one version."""

    text_id: int
    normalized_id: int
    page_id: int

    @classmethod
    def of(cls, version: Any) -> ContentIds | None:
        ids = (version.text_id, version.normalized_id, version.page_id)
        return None if None in ids else cls(*ids)


@dataclass(frozen=True)
class StoredContents:
    ids: ContentIds
    # the min-hashes to register for the version (its text is a new root), else empty
    sketch: list[int]


def sketch(text: str) -> list[int]:
    """Min-hashes of a text's distinct lines: two texts that share most lines share most keys."""
    lines = {line.strip() for line in text.split("\n")}
    keys = sorted(int.from_bytes(hashlib.blake2b(line.encode("utf-8"), digest_size=8).digest(), "big") >> 1
                  for line in lines if len(line) >= SKETCH_MIN_LINE)
    return keys[:SKETCH_KEYS]


_CONTENT_IDS = (Version.text_id, Version.normalized_id, Version.page_id)


def _select_similar(keys: Any) -> Any:
    """The best match of some sketch keys and its blobs, in one query (``keys``: what the IN
    compares with, storage.prepared.PreparedIn).

    A line that thousands of documents share (a salutation, an issuing office) can be one of
    their min-hashes, and counting every text that has it would cost each new document a scan
    that grows with the store: a key points at KEY_WINDOW texts at most (``_INSERT_SKETCH``),
    and is looked up among its KEY_WINDOW newest only (stores written before that limit). A
    near-duplicate shares most of its keys, the rarer ones too, and is still found."""
    if isinstance(keys, list):  # the parameters, one per key: a bounded walk of the key's index
        newest = [select(TextSketch.version_id).where(TextSketch.key == key)
                  .order_by(TextSketch.version_id.desc()).limit(number(KEY_WINDOW)).subquery()
                  for key in keys]
        each = [select(window.c.version_id) for window in newest]
        matches = (each[0] if len(each) == 1 else union_all(*each)).subquery()
    else:  # the expanding form, for lists longer than a sketch (never made by ``sketch``)
        matches = select(TextSketch.version_id).where(TextSketch.key.in_(keys)).subquery()
    shared = func.count().label("shared")
    best = (
        select(matches.c.version_id, shared)
        .group_by(matches.c.version_id).order_by(shared.desc(), matches.c.version_id.desc())
        .limit(number(1))
    ).subquery()
    return select(best.c.shared, *_CONTENT_IDS).join_from(best, Version, Version.id == best.c.version_id)


# The newest version of the source among the last TEMPLATE_WINDOW stored: a bounded walk back
# from the newest version (a crawl stores a source's pages one after another). The versions are
# walked by id from the newest, each one's source read by primary key (a join let the planner
# start from every document of the source, then sort their versions), and the walk stops at the
# first match. Two spellings of the same query, one per planner:
TEMPLATE_WINDOW = 1000
_RECENT = select(Version.id, Version.document_id, *_CONTENT_IDS).order_by(Version.id.desc()) \
    .limit(number(TEMPLATE_WINDOW)).subquery()
_SOURCE_OF_RECENT = (select(Document.source_id).where(Document.id == _RECENT.c.document_id)
                     .correlate(_RECENT).scalar_subquery())
# PostgreSQL reads the window lazily, a row at a time, and stops at the first match. Planned at
# every run: a plan kept from early in a first crawl sorted the whole (then small) table.
_SELECT_TEMPLATE = Prepared(
    select(_RECENT.c.text_id, _RECENT.c.normalized_id, _RECENT.c.page_id)
    .where(_SOURCE_OF_RECENT == bindparam("source_id"), _RECENT.c.document_id != bindparam("document_id"),
           _RECENT.c.page_id.is_not(None))
    .order_by(_RECENT.c.id.desc()).limit(number(1)),
    plan_each_time=True,
)
# SQLite would materialize and sort the window: it gets the window's first id instead (a walk of
# its primary key index, microseconds), then a range scan from the newest.
_WINDOW_START = func.coalesce(
    select(Version.id).order_by(Version.id.desc()).offset(number(TEMPLATE_WINDOW - 1)).limit(number(1))
    .scalar_subquery(), 0)
_SOURCE_OF_VERSION = (select(Document.source_id).where(Document.id == Version.document_id)
                      .correlate(Version).scalar_subquery())
_SELECT_TEMPLATE_SQLITE = Prepared(
    select(*_CONTENT_IDS)
    .where(Version.id >= _WINDOW_START, _SOURCE_OF_VERSION == bindparam("source_id"),
           Version.document_id != bindparam("document_id"), Version.page_id.is_not(None))
    .order_by(Version.id.desc()).limit(number(1))
)


def _levels(name: str) -> list[Any]:
    return [Blob.__table__.alias(f"{name}{i}") for i in range(MAX_DEPTH + 1)]


def _up(joined: Any, levels: list[Any]) -> tuple[Any, list[Any]]:
    """``joined`` (which holds ``levels[0]``) outer-joined with the bases above it, MAX_DEPTH
    levels up, and the chain's columns: (id, base_id, digest) per level, NULLs past a root."""
    for lower, upper in zip(levels, levels[1:], strict=False):
        joined = joined.outerjoin(upper, upper.c.id == lower.c.base_id)
    return joined, [c for level in levels for c in (level.c.id, level.c.base_id, level.c.digest)]


def _select_chains(ids: Any) -> Any:
    """Some blobs and their chains, in one query: a row per blob, the chain's columns (``_up``).
    ``ids``: what the IN compares with (storage.prepared.PreparedIn)."""
    levels = _levels("level")
    joined, columns = _up(levels[0], levels)
    return select(*columns).select_from(joined).where(levels[0].c.id.in_(ids))


# a version has three blobs: storing one looks up the chains of at most three
_SELECT_CHAINS = PreparedIn(_select_chains, "ids", most=3)
_BLOB_ID = Blob.__table__.c.id.type
# the text's blob when stored: an aggregate, one row whether or not it is
_KNOWN_TEXT = (select(func.min(Blob.id).label("known_text"))
               .where(Blob.digest == bindparam("digest"), Blob.aux_id.is_(None)).subquery("known"))
_REFS = ("text", "normalized", "page", "template")


def _select_lookup(refs: Any) -> Any:
    """What storing a new version asks first, in one row (one round trip instead of three):
    whether its text is stored; ``refs`` (a one-row subquery: shared, text_id, normalized_id,
    page_id, the version it is compared with) and the chains of bases above its three blobs and
    above the ``template`` page."""
    joined = _KNOWN_TEXT.outerjoin(refs, true())
    columns: list[Any] = [_KNOWN_TEXT.c.known_text, refs.c.shared, refs.c.text_id,
                          refs.c.normalized_id, refs.c.page_id]
    blobs = [refs.c.text_id, refs.c.normalized_id, refs.c.page_id,
             cast(bindparam("template"), _BLOB_ID)]
    for name, ref in zip(_REFS, blobs, strict=True):
        levels = _levels(name)
        joined, chain = _up(joined.outerjoin(levels[0], levels[0].c.id == ref), levels)
        columns += chain
    return select(*columns).select_from(joined)


# a revision, or a text without sketch keys: the blobs given (``text_ref`` …, maybe NULL)
_LOOKUP_GIVEN = Prepared(_select_lookup(select(
    null().label("shared"), *(cast(bindparam(f"{name}_ref"), _BLOB_ID).label(f"{name}_id")
                              for name in _REFS[:3])).subquery("given")))
# a new document: its near-duplicate's, found by the sketch keys (``_select_similar``)
_LOOKUP_SIMILAR = PreparedIn(lambda keys: _select_lookup(_select_similar(keys).subquery("similar")),
                             "keys", most=SKETCH_KEYS)
_CHAIN_WIDTH = 3 * (MAX_DEPTH + 1)


@dataclass
class _Found:
    """A ``_select_lookup`` row: the stored text's blob, the compared version's (with the sketch keys
    it shares, for a near-duplicate) and the chains, by name (``_REFS``)."""

    text_id: int | None
    shared: int | None
    ids: ContentIds | None
    chains: dict[str, tuple[Any, ...]]

    @classmethod
    def of(cls, row: Any) -> _Found:
        chains = {name: tuple(row[5 + _CHAIN_WIDTH * i:5 + _CHAIN_WIDTH * (i + 1)])
                  for i, name in enumerate(_REFS)}
        return cls(row[0], row[1], _content_ids(row[2:5]), chains)


def _look_up(conn: Connection, text_digest: bytes, *, previous: ContentIds | None = None,
             keys: Sequence[int] = (), template: int | None = None) -> _Found:
    """The ``_select_lookup`` of a revision of ``previous``, or of a new document's near-duplicate by
    its sketch ``keys``; either way with the chain of the ``template`` page."""
    params: dict[str, Any] = {"digest": text_digest, "template": template}
    if previous is None and keys:
        return _Found.of(_LOOKUP_SIMILAR.first(conn, {**params, "keys": list(keys)}))
    given = previous or ContentIds(None, None, None)  # type: ignore[arg-type]
    return _Found.of(_LOOKUP_GIVEN.first(conn, {**params, "text_ref": given.text_id,
                                                "normalized_ref": given.normalized_id,
                                                "page_ref": given.page_id}))


# A key registered only while fewer than KEY_WINDOW texts have it: however a plan reads a key
# (PostgreSQL's generic plan for the lookup reads all of its rows, then sorts them), it reads
# a bounded number of rows. The count stops being exact only under concurrent writers.
_KEY = bindparam("key", type_=TextSketch.key.type)
_INSERT_SKETCH = Prepared(
    insert(TextSketch.__table__).from_select(
        ["key", "version_id"],
        select(_KEY, bindparam("version_id", type_=TextSketch.version_id.type)).where(
            select(func.count()).select_from(TextSketch).where(TextSketch.key == _KEY)
            .scalar_subquery() < number(KEY_WINDOW)))
)
_INSERT_BLOB = PreparedInsert(Blob.__table__)


def register_sketch(writes: Writes, version_id: int, keys: Sequence[int]) -> None:
    """Make a version's text findable by the near-duplicates to come, with the page's writes."""
    writes.run_many(_INSERT_SKETCH, [{"key": k, "version_id": version_id} for k in keys])


def _content_ids(row: Any) -> ContentIds | None:
    return None if row is None or None in tuple(row) else ContentIds(*row)


def _chain_digest(chain: Sequence[Any]) -> bytes | None:
    """The digest of the blob a chain starts with (None: no such blob)."""
    return None if chain[0] is None else bytes(chain[2])


def _template_version(conn: Connection, source_id: int, document_id: int) -> ContentIds | None:
    """A recent version of another document of the source: a page of the same template."""
    query = _SELECT_TEMPLATE_SQLITE if conn.dialect.name == "sqlite" else _SELECT_TEMPLATE
    return _content_ids(query.first(conn, {"source_id": source_id, "document_id": document_id}))


def _template_page(conn: Connection, source_id: int, document_id: int) -> int | None:
    found = _template_version(conn, source_id, document_id)
    return found.page_id if found is not None else None


def _blob_row(key: bytes, base_id: int | None, aux_id: int | None, data: bytes) -> dict[str, Any]:
    return {"digest": key, "base_id": base_id, "aux_id": aux_id, "data": data}


def _insert_blob(conn: Connection, key: bytes, base_id: int | None, aux_id: int | None, data: bytes) -> int:
    """Insert a blob now; its id."""
    return int(_INSERT_BLOB.returning.scalar(conn, _blob_row(key, base_id, aux_id, data)))


class _Chains:
    """The chains of bases above some blobs, with their digests: what a new blob may be
    compressed against, and contents that may already be stored."""

    def __init__(self, rows: Iterable[Sequence[Any]]) -> None:
        """``rows``: chains as ``_up`` reads them."""
        self.parent: dict[int, int | None] = {}
        self.digests: dict[bytes, int] = {}
        self.digest_of: dict[int, bytes] = {}
        rows = list(rows)
        # level by level, by id: the first blob of a digest found is the one reused, nearest first
        for level in range(MAX_DEPTH + 1):
            found = {row[3 * level]: row[3 * level:3 * level + 3] for row in rows
                     if row[3 * level] is not None}
            for blob_id in sorted(found.keys() - self.parent.keys()):
                _, base_id, key = found[blob_id]
                self.parent[blob_id] = base_id
                self.digest_of[blob_id] = bytes(key)
                self.digests.setdefault(bytes(key), blob_id)

    @classmethod
    def of(cls, conn: Connection, ids: Iterable[int]) -> _Chains:
        """The chains above some blobs, from the database."""
        return cls(row for chunk in _chunks(set(ids)) for row in _SELECT_CHAINS.all(conn, {"ids": chunk}))

    def base(self, blob_id: int, *, root: bool) -> tuple[int, int]:
        """(the blob to compress against, its depth) for a reference blob: itself, unless that
        would make a chain of bases longer than MAX_DEPTH, then its ancestor one level up; with
        ``root``, the first of its chain."""
        chain = [blob_id]
        while (up := self.parent.get(chain[-1])) is not None:
            chain.append(up)
        at = len(chain) - 1 if root else max(0, len(chain) - MAX_DEPTH)
        return chain[at], len(chain) - 1 - at

    def read(self, conn: Connection, ids: Iterable[int]) -> dict[int, bytes]:
        """The contents of some blobs of the chains: from the cache by digest when there (the
        template page, read for every new document of a source), else from the database."""
        out: dict[int, bytes] = {}
        missing = []
        for blob_id in ids:
            cached = _cache.get(self.digest_of[blob_id])
            if cached is None:
                missing.append(blob_id)
            else:
                out[blob_id] = cached
        if missing:
            # kept: a base read once is read again for the next near-duplicates and revisions
            # (a base another process wrote, such as the crawl process's first pages, was read
            # from the database for every document compressed against it)
            for blob_id, content in read_blobs(conn, missing).items():
                _cache.put(self.digest_of[blob_id], content)
                out[blob_id] = content
        return out


class _Writer:
    """Stores the blobs of one version: what exists is reused, what is new compressed."""

    def __init__(self, writes: Writes, digests: dict[str, bytes], existing: dict[bytes, int]) -> None:
        self.writes = writes
        self.digests = digests
        self.existing = existing

    def known(self, name: str) -> int | None:
        return self.existing.get(self.digests[name])

    def put(self, name: str, content: bytes, *, aux: tuple[int, bytes] | None = None,
            base: tuple[int, bytes, int] | None = None) -> tuple[int, bool]:
        """(blob id, whether it is a new root) of ``content``, stored when new. ``aux``: (blob id,
        content); ``base``: (blob id, content, depth)."""
        key = self.digests[name]
        found = self.existing.get(key)
        if found is not None:
            return found, False
        aux_id, aux_bytes = aux if aux is not None else (None, b"")
        base_id = None
        data = None
        if base is not None:
            base_id = base[0]
            data = compress(content, aux_bytes + base[1])
            if len(data) > DELTA_WORTH * len(content):
                alone = compress(content, aux_bytes)
                if len(alone) <= len(data):
                    data, base_id = alone, None
        if data is None:
            data = compress(content, aux_bytes)
        blob_id = self.writes.insert(_INSERT_BLOB, _blob_row(key, base_id, aux_id, data))
        self.existing[key] = blob_id
        if base_id is None or base is not None and base[2] + 1 < MAX_DEPTH:
            _cache.put(key, content)  # a future base: the next near-duplicates will read it
        return blob_id, base_id is None


def store_contents(conn: Executor, *, text: str, normalized_text: str, structure: bytes, raw: bytes,
                   encoding: str | None, previous: ContentIds | None, source_id: int,
                   document_id: int, writes: Writes) -> StoredContents:
    """Store the contents of a new version (each blob only if new) and return their ids.

    ``previous``: the blobs of the document's previous version, when it has one. ``structure``:
    the JSON bytes (``structure_json``). Register ``sketch`` keys once the version has an id.
    ``writes``: where the new blobs are written (storage.writes; the caller sends them).

    A text is looked up by digest among all texts (a text is stored once whatever documents and
    sources share it); the other contents only among those of the version they are compared
    with (the previous version, or the near-duplicate document's) and their bases: that finds
    the same page stored again when only an attachment changed, and spares an index of every
    page and structure (a stored page missed is stored again as a delta of a few bytes).
    """
    conn = _core(conn)
    t = text.encode("utf-8")
    n = normalized_text.encode("utf-8")
    page = join_page(structure, raw)
    digests = {"text": digest(t)}
    digests["normalized"] = digests["text"] if n == t else digest(n)
    digests["page"] = digest(page)
    keys: list[int] | None = None
    remembered = None
    if previous is None:
        # a new document: one that stored this text or a near-duplicate of it; else the
        # source's latest page, for the template around the text: the one this process stored
        # last (its chain asked with the rest), else one found in the database
        keys = sketch(text)
        remembered = _recent_pages.get(conn, source_id)
    found = _look_up(conn, digests["text"], previous=previous, keys=keys or (),
                     template=remembered[0] if remembered is not None else None)
    existing: dict[bytes, int] = {}
    if found.text_id is not None:
        existing[digests["text"]] = found.text_id
    similar = previous
    if previous is None and keys and found.shared is not None and found.shared >= min(2, len(keys)):
        similar = found.ids  # shares the most sketch keys (two at least), the latest of equals

    # the bases: the similar version's blobs, or the template's page and structure, whose root
    # is taken: a document's first page, a delta against the template, is the base its
    # revisions and near-duplicates will use (a chain of two)
    refs: dict[str, int] = {}
    if similar is not None:
        refs = {"text": similar.text_id, "normalized": similar.normalized_id, "page": similar.page_id}
        chains = _Chains([found.chains[name] for name in refs])
    elif remembered is not None and _chain_digest(found.chains["template"]) == remembered[1]:
        refs = {"page": remembered[0]}
        chains = _Chains([found.chains["template"]])
    else:
        # none remembered, or not that page any more: its batch was rolled back (and SQLite
        # may have given its id to another row since); the database's latest page of the source
        template = _template_page(conn, source_id, document_id)
        refs = {"page": template} if template is not None else {}
        chains = _Chains.of(conn, refs.values())
    for key, blob_id in chains.digests.items():
        existing.setdefault(key, blob_id)
    writer = _Writer(writes, digests, existing)
    bases = {name: chains.base(ref, root=similar is None) for name, ref in refs.items()
             if writer.known(name) is None}
    base_content = chains.read(conn, [blob_id for blob_id, _ in bases.values()])

    def base(name: str) -> tuple[int, bytes, int] | None:
        if name not in bases:
            return None
        blob_id, depth = bases[name]
        return blob_id, base_content[blob_id], depth

    # A text stands alone (no aux): that is what the digest index covers (models.Blob).
    text_id, text_root = writer.put("text", t, base=base("text"))
    if n == t:
        normalized_id = text_id  # same digest: the same blob
    else:
        normalized_id, _ = writer.put("normalized", n, aux=(text_id, t), base=base("normalized"))
    # The page against its text even when the page is not UTF-8 (then little of it matches):
    # every blob but a text has an aux, which keeps the texts alone in the digest index.
    page_id, _ = writer.put("page", page, aux=(text_id, t), base=base("page"))
    if text_root and keys is None:
        keys = sketch(text)
    _recent_pages.put(conn, source_id, page_id, digests["page"])
    return StoredContents(ContentIds(text_id, normalized_id, page_id),
                          keys if text_root and keys else [])
