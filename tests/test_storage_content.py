"""Version contents as blobs: stored once per content, delta-compressed, read back exactly; the
0004 migration converts a 0003 database (data included) and back, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
import uuid
import zlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm.exc import DetachedInstanceError

from storage import content
from storage.db import make_engine, session_factory, session_scope, upgrade
from storage.deliveries import version_structures
from storage.documents import ensure_source, latest_page, store_snapshot, versions_of
from storage.models import Blob, ChangeEvent, TextSketch, Version

PARAGRAPHS = [f"第{i}条 为推进数字经济高质量发展,各地区各部门要结合实际认真贯彻落实本通知第{i}项要求。"
              for i in range(1, 40)]
BODY = "\n".join(PARAGRAPHS)


@dataclass
class Snap:
    url: str
    canonical_key: str
    content_hash: str
    title: str = "关于印发数字经济工作要点的通知"
    text: str = BODY
    normalized_text: str = BODY.replace("。", ".")
    structure: dict[str, Any] = field(default_factory=lambda: {
        "schema": 1, "metadata": {"doc_number": "粤工信〔2023〕1号", "year": 2023, "ratio": 0.5, "x": None},
        "outline": [{"label": "一", "text": p, "path": ["一"]} for p in PARAGRAPHS[:10]],
        "tasks": [{"ordinal": i, "text": p, "departments": ["市发展改革委"]} for i, p in enumerate(PARAGRAPHS)],
    })
    attachments: list[dict[str, Any]] = field(default_factory=list)
    raw: bytes = None  # type: ignore[assignment]  # None: a page built around the text
    content_type: str | None = "text/html; charset=utf-8"
    encoding: str | None = "utf-8"
    etag: str | None = None
    last_modified: str | None = None

    def __post_init__(self) -> None:
        if self.raw is None:
            page = "".join(f"<p>{p}</p>" for p in self.text.split("\n"))
            self.raw = (f"<html><head><title>{self.title}</title></head><body><div class='nav'>首页 &gt; 通知公告"
                        f"</div><div class='content'>{page}</div><div class='foot'>版权所有</div></body></html>"
                        ).encode(self.encoding or "utf-8")


def snap(n: int, **changes: Any) -> Snap:
    changes.setdefault("content_hash", f"hash-{n}-{changes.get('text', '')[:8]}")
    return Snap(f"http://h/content/post_{n}.html", f"h/post_{n}", **changes)


def read_back(sessions: Any, version_ids: list[int]) -> dict[int, tuple[str, str, Any, bytes]]:
    """Every content of these versions, read in a fresh session with a cold cache."""
    content._cache.clear()
    with session_scope(sessions) as s:
        out = {}
        for vid in version_ids:
            v = s.get(Version, vid)
            out[vid] = (v.text, v.normalized_text, v.structure, v.raw)
        return out


def test_contents_read_back_exactly_and_are_stored_once(sessions) -> None:
    near = BODY.replace("第7条", "第七条")  # a near-duplicate: one line differs
    snaps = [
        snap(1),
        snap(2),  # the same body under another URL
        snap(3, text=near, normalized_text=near),  # normalized == text: one blob
        snap(4, text="", normalized_text="", structure={}, raw=b""),  # empty page
        snap(5, text="带\x00空字符的正文", normalized_text="带空字符的正文", raw=b"\x00\xff binary \x00"),
        snap(6, encoding="gbk", content_type="text/html; charset=gbk"),  # a GBK page
        snap(7, raw=b"<html>" + bytes(range(256)) * 4000 + b"</html>"),  # ~1 MB, incompressible part
    ]
    ids = []
    with session_scope(sessions) as s:
        src = ensure_source(s, "gdii", "html_pages", {}).id
        other = ensure_source(s, "gdstc", "html_pages", {}).id
        for item in snaps:
            ids.append(store_snapshot(s, src, item).version_id)
        ids.append(store_snapshot(s, other, snap(1)).version_id)  # another source, same page
        # a revision, then a version whose only change is an attachment (the same page)
        revised = snap(1, text=BODY.replace("认真", "切实"), normalized_text=BODY, content_hash="r1")
        ids.append(store_snapshot(s, src, revised).version_id)
        attached = replace(revised, content_hash="r2", attachments=[{"name": "附件1", "content_hash": "a"}])
        assert attached.raw == revised.raw
        ids.append(store_snapshot(s, src, attached).version_id)
    expected = [*snaps, snap(1), revised, attached]
    got = read_back(sessions, ids)
    for vid, item in zip(ids, expected, strict=True):
        assert got[vid] == (item.text, item.normalized_text, item.structure, item.raw), vid

    with session_scope(sessions) as s:
        rows = {v.id: v for v in s.scalars(select(Version).where(Version.id.in_(ids)))}
        v1, v2, v3, _, _, _, _, v1b, rev, att = (rows[i] for i in ids)
        # one blob per content, whatever the document or source
        assert v1.text_id == v2.text_id == v1b.text_id and v1.page_id == v2.page_id == v1b.page_id
        assert v3.normalized_id == v3.text_id
        assert att.page_id == rev.page_id and att.text_id == rev.text_id
        # near-duplicates and revisions are deltas against what they repeat
        blobs = {b.id: b for b in s.scalars(select(Blob))}
        assert blobs[v3.text_id].base_id == v1.text_id
        assert blobs[rev.text_id].base_id == v1.text_id
        # one line changed: a delta of about a hundred bytes (117 at zstd level 3), well under
        # the text compressed alone (~300: BODY repeats itself)
        assert len(blobs[v3.text_id].data) < min(150, len(content.compress(near.encode())) / 2)
        assert len(blobs[rev.page_id].data) < len(content.compress(revised.raw))
        # a blob's references are older blobs (no cycles), chains of bases stay short
        for b in blobs.values():
            assert all(ref is None or ref < b.id for ref in (b.base_id, b.aux_id))
            depth, at = 0, b
            while at.base_id is not None:
                depth, at = depth + 1, blobs[at.base_id]
            assert depth <= content.MAX_DEPTH


def test_near_duplicates_of_a_new_document_are_found_by_sketch(sessions) -> None:
    with session_scope(sessions) as s:
        src = ensure_source(s, "s", "html_pages", {}).id
        first = store_snapshot(s, src, snap(1)).version_id
        # no previous version: found through the text's min-hashes, not the document
        texts = [BODY.replace(f"第{i}项", f"第{i}项(修订)") for i in (3, 9, 20)]
        later = [store_snapshot(s, src, snap(10 + i, text=t, normalized_text=t)).version_id
                 for i, t in enumerate(texts)]
        assert s.scalar(select(func.count()).select_from(TextSketch).where(TextSketch.version_id == first))
        root = s.get(Version, first)
        for vid in later:
            v = s.get(Version, vid)
            assert s.get(Blob, v.text_id).base_id == root.text_id
            assert s.get(Blob, v.page_id).base_id == root.page_id
    got = read_back(sessions, later)
    assert [got[v][0] for v in later] == texts


def test_storing_a_version_asks_the_database_once_before_its_writes(sessions) -> None:
    """Whether the text is stored, the version compared with (the previous one, else a
    near-duplicate found by sketch) and the chains of bases above its blobs and above the
    source's template page: one query, for a revision, a near-duplicate and a distinct new
    text alike (three before: a round trip each, on PostgreSQL most of a page's cost)."""
    if sessions.kw["bind"].dialect.name != "sqlite":
        pytest.skip("counted with SQLite's trace of the statements it runs")
    distinct = "".join(chr(0x4E00 + random.Random(8).randrange(2500)) for _ in range(1500))
    near = BODY.replace("第3项", "第3项(修订)")
    revised = BODY.replace("第9项", "第九项")
    with session_scope(sessions) as s:
        src = ensure_source(s, "s", "html_pages", {}).id
        store_snapshot(s, src, snap(1))  # the source's first page: its template from the database
        ran: list[str] = []
        s.connection().connection.dbapi_connection.set_trace_callback(ran.append)
        try:
            counted = {}
            for name, page in (("near-duplicate", snap(2, text=near, normalized_text=near)),
                               ("revision", snap(1, text=revised, normalized_text=revised)),
                               ("distinct", snap(3, text=distinct, normalized_text=distinct))):
                ran.clear()
                assert store_snapshot(s, src, page).status in ("new", "changed")
                # the document's row is read first (storage.documents), then the contents'
                counted[name] = [q for q in ran if q.lstrip().upper().startswith("SELECT")]
        finally:
            s.connection().connection.dbapi_connection.set_trace_callback(None)
        assert {name: len(queries) for name, queries in counted.items()} == {
            "near-duplicate": 2, "revision": 2, "distinct": 2}, counted
        assert all("text_sketches" in queries[1] for queries in [counted["near-duplicate"],
                                                                 counted["distinct"]])


def _a_line_in_every_sketch(lines: list[str]) -> str:
    """A line of SKETCH_MIN_LINE or more whose min-hash is below those of ``lines``: every text
    that has it keeps it among its keys, as a salutation common to a site's notices may be."""
    lowest = min(content.sketch(line)[0] for line in lines)
    for i in range(100_000):
        line = f"各地级以上市人民政府,省政府各部门、各直属机构{i}:"
        if content.sketch(line)[0] < lowest:
            return line
    raise AssertionError("no such line")


def test_a_line_many_texts_share_does_not_hide_a_near_duplicate(sessions) -> None:
    """A sketch key points at KEY_WINDOW texts at most; a near-duplicate is still found by the
    keys it does not share with every other text."""
    others = [[f"第{j}号文件 关于第{j}批第{k}项专项资金的安排意见如下所述" for k in range(8)]
              for j in range(content.KEY_WINDOW + 6)]
    common = _a_line_in_every_sketch(PARAGRAPHS + [line for text in others for line in text])
    original = "\n".join([common, *PARAGRAPHS])
    with session_scope(sessions) as s:
        src = ensure_source(s, "s", "html_pages", {}).id
        first = store_snapshot(s, src, snap(1, text=original, normalized_text=original)).version_id
        for j, lines in enumerate(others):  # later texts that have the common line, nothing else
            body = "\n".join([common, *lines])
            store_snapshot(s, src, snap(100 + j, text=body, normalized_text=body))
        key = content.sketch(common)[0]
        # registered for the first KEY_WINDOW texts only: a lookup reads that many rows at most
        assert s.scalar(select(func.count()).select_from(TextSketch).where(TextSketch.key == key)) \
            == content.KEY_WINDOW
        revised = original.replace("第5项", "第5项(修订)")
        later = store_snapshot(s, src, snap(2, text=revised, normalized_text=revised)).version_id
        assert s.get(Blob, s.get(Version, later).text_id).base_id == s.get(Version, first).text_id
    assert read_back(sessions, [later])[later][0] == revised


def test_a_base_another_process_wrote_is_read_from_the_database_once(sessions, monkeypatch) -> None:
    """Near-duplicates stored against a delta that this process did not write (the crawl
    process stores a crawl's first pages, the storage process the rest) read it once."""
    reads: list[list[int]] = []
    real = content.read_blobs

    def counted(conn, ids):  # the real read, counted
        ids = list(ids)
        reads.append(ids)
        return real(conn, ids)

    rng = random.Random(3)
    other = "\n".join("".join(chr(0x4E00 + rng.randrange(2500)) for _ in range(40)) for _ in range(30))
    texts = [BODY.replace(f"第{i}项", f"第{i}项(修订)") for i in (3, 9, 20)]
    with session_scope(sessions) as s:
        src = ensure_source(s, "s", "html_pages", {}).id
        store_snapshot(s, src, snap(1, text=other, normalized_text=other))  # the template's page
        first = store_snapshot(s, src, snap(2)).version_id  # a new text; its page a delta
        assert s.get(Blob, s.get(Version, first).page_id).base_id is not None
    content._cache.clear()  # as in another process
    monkeypatch.setattr(content, "read_blobs", counted)
    with session_scope(sessions) as s:
        ids = [store_snapshot(s, src, snap(3 + i, text=t, normalized_text=t)).version_id for i, t in enumerate(texts)]
    assert len(reads) == 1, reads  # the first near-duplicate's bases; the next ones found them cached
    assert [got[0] for got in read_back(sessions, ids).values()] == texts


def test_a_text_revised_beyond_recognition_is_a_new_root(sessions) -> None:
    # as little in common with BODY as two notices have, as compressible as Chinese prose
    rng = random.Random(7)
    other = "".join(chr(0x4E00 + rng.randrange(2500)) for _ in range(3000))
    with session_scope(sessions) as s:
        src = ensure_source(s, "s", "html_pages", {}).id
        store_snapshot(s, src, snap(1))
        vid = store_snapshot(s, src, snap(1, text=other, normalized_text=other, content_hash="x")).version_id
        assert s.get(Blob, s.get(Version, vid).text_id).base_id is None
    assert read_back(sessions, [vid])[vid][0] == other


def test_page_structures_and_detached_versions(sessions) -> None:
    with session_scope(sessions) as s:
        src = ensure_source(s, "s", "html_pages", {}).id
        ids = [store_snapshot(s, src, snap(n)).version_id for n in (1, 2, 3)]
        page = latest_page(s, src, "h/post_2")
        assert page is not None and page.raw == snap(2).raw
        assert version_structures(s, [*ids, None]) == {i: snap(1).structure for i in ids}
        versions = versions_of(s, s.get(Version, ids[0]).document_id)
        content.load_contents(s, versions, ("normalized_text",))
    # read inside the session: kept on the instance; never read: a clear error, not a wrong value
    assert versions[0].normalized_text == snap(1).normalized_text
    with pytest.raises(DetachedInstanceError, match="read it inside the session"):
        _ = versions[0].raw


def test_a_text_stored_twice_by_racing_workers_is_harmless(sessions) -> None:
    with session_scope(sessions) as s:
        src = ensure_source(s, "s", "html_pages", {}).id
        conn = s.connection()
        key, data = content.digest(BODY.encode()), content.compress(BODY.encode())
        # two workers, each unaware of the other's uncommitted row: the digest is not unique
        first = content._insert_blob(conn, key, None, None, data)
        second = content._insert_blob(conn, key, None, None, data)
        assert first != second
        assert content.read_blobs(s, [first, second]) == {first: BODY.encode(), second: BODY.encode()}
        version = s.get(Version, store_snapshot(s, src, snap(1)).version_id)
        assert version.text_id == first  # the first, from then on
        assert version.text == BODY


def test_a_new_document_is_compressed_against_its_own_source_latest_page(sessions) -> None:
    """The template base: the newest page of another document of the same source, never a page
    of another source's (however recent) nor the document's own."""
    unrelated = "".join(chr(0x4E00 + random.Random(3).randrange(2500)) for _ in range(2000))
    with session_scope(sessions) as s:
        src = ensure_source(s, "s", "html_pages", {}).id
        other = ensure_source(s, "o", "html_pages", {}).id
        first = s.get(Version, store_snapshot(s, src, snap(1)).version_id)
        store_snapshot(s, other, snap(7, text="另一个来源", normalized_text="另一个来源"))
        new = s.get(Version, store_snapshot(s, src, snap(2, text=unrelated, normalized_text=unrelated))
                    .version_id)
        assert s.get(Blob, new.page_id).base_id == first.page_id
        alone = s.get(Version, store_snapshot(s, ensure_source(s, "n", "html_pages", {}).id, snap(3))
                      .version_id)
        assert s.get(Blob, alone.page_id).base_id is None  # a source's first page: no template
    assert read_back(sessions, [new.id])[new.id][0] == unrelated


def test_a_template_page_rolled_back_is_not_used(sessions) -> None:
    """The template is the page this process stored last for the source, without a query; when
    that page's transaction was rolled back (SQLite may then give its id to another row), the
    database's latest page of the source is used instead."""
    rng = random.Random(5)
    texts = ["".join(chr(0x4E00 + rng.randrange(2500)) for _ in range(1500)) for _ in range(3)]
    with session_scope(sessions) as s:
        src = ensure_source(s, "s", "html_pages", {}).id
        kept = s.get(Version, store_snapshot(s, src, snap(1, text=texts[0], normalized_text=texts[0]))
                     .version_id).page_id
    with pytest.raises(RuntimeError), session_scope(sessions) as s:
        store_snapshot(s, src, snap(2, text=texts[1], normalized_text=texts[1]))  # remembered …
        raise RuntimeError("… and rolled back")
    with session_scope(sessions) as s:
        new = s.get(Version, store_snapshot(s, src, snap(3, text=texts[2], normalized_text=texts[2]))
                    .version_id)
        assert s.get(Blob, new.page_id).base_id == kept
        vid = new.id
    assert read_back(sessions, [vid])[vid][0] == texts[2]


def test_the_template_window_is_the_last_versions_stored_on_either_spelling(sessions) -> None:
    """Both spellings of the template query (one per planner) find the newest version of
    another document of the source among the last TEMPLATE_WINDOW versions, and nothing older."""
    from storage.models import Document

    now = datetime(2024, 1, 1, tzinfo=UTC)
    with session_scope(sessions) as s:
        a = ensure_source(s, "a", "html_pages", {}).id
        b = ensure_source(s, "b", "html_pages", {}).id
        conn = s.connection()
        blob = content._insert_blob(conn, b"k" * 16, None, None, content.compress(b"x"))
        docs = {}
        for key, src in (("a1", a), ("b1", b)):
            docs[key] = conn.execute(Document.__table__.insert().returning(Document.id), {
                "source_id": src, "canonical_key": key, "url": key, "first_seen_at": now,
                "last_seen_at": now}).scalar_one()
        version = {"fetched_at": now, "url": "u", "content_hash": "h", "attachments": [],
                   "text_id": blob, "normalized_id": blob, "page_id": blob}

        def add(doc: str, seqs: range) -> None:
            conn.execute(Version.__table__.insert(),
                         [{**version, "document_id": docs[doc], "seq": n} for n in seqs])

        def found(source: int, document: int) -> list[Any]:
            return [conn.execute(q.statement, {"source_id": source, "document_id": document}).all()
                    for q in (content._SELECT_TEMPLATE, content._SELECT_TEMPLATE_SQLITE)]

        add("a1", range(1, 2))
        add("b1", range(1, content.TEMPLATE_WINDOW))  # a1's version: the window's last
        assert found(a, 0) == [[(blob, blob, blob)]] * 2
        assert found(a, docs["a1"]) == [[], []]
        add("b1", range(content.TEMPLATE_WINDOW, content.TEMPLATE_WINDOW + 1))  # now outside
        assert found(a, 0) == [[], []]
        assert found(b, 0) == [[(blob, blob, blob)]] * 2


def test_revision_chains_stay_short(sessions) -> None:
    """Every revision is compressed against a base at most MAX_DEPTH deep (the chains of bases
    read in one query)."""
    texts = [BODY.replace(f"第{i}项", f"第{i}项(第{n}次修订)") for n, i in enumerate((2, 5, 9, 14, 22), 1)]
    with session_scope(sessions) as s:
        src = ensure_source(s, "s", "html_pages", {}).id
        ids = [store_snapshot(s, src, snap(1)).version_id]
        ids += [store_snapshot(s, src, snap(1, text=t, normalized_text=t.replace("。", "."),
                                            content_hash=f"revision {n}")).version_id
                for n, t in enumerate(texts)]
        for blob in s.scalars(select(Blob)):
            depth, up = 0, blob.base_id
            while up is not None:
                depth, up = depth + 1, s.get(Blob, up).base_id
            assert depth <= content.MAX_DEPTH
        assert s.scalar(select(func.count()).select_from(Blob).where(Blob.base_id.is_not(None))) > 0
    got = read_back(sessions, ids)
    assert [got[v][0] for v in ids[1:]] == texts


def test_a_reused_compressor_writes_what_a_fresh_one_does() -> None:
    """compress() keeps its dictionary-less compressor per thread: the bytes are those a new
    compressor writes, whatever came before and on whatever thread."""
    import threading

    import zstandard

    fresh = zstandard.ZstdCompressor(level=content.LEVEL, write_checksum=True, write_content_size=True,
                                     write_dict_id=False)
    samples = [BODY.encode(), b"", b"short", BODY.encode()[::-1], BODY.encode()]
    expected = [bytes([content.FORMAT_ZSTD]) + fresh.compress(x) for x in samples]
    results: list[list[bytes]] = []

    def run() -> None:
        results.append([content.compress(x, b"tiny") for x in samples])  # < 8 bytes: no dictionary

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run()
    assert all(r == expected for r in results) and len(results) == 4
    assert [content.decompress(x) for x in expected] == samples


def test_structure_json_is_what_the_json_module_writes_and_takes_what_orjson_refuses() -> None:
    """orjson writes a structure's stored form; the bytes are those the json module wrote before
    (ensure_ascii off, no spaces), escapes included; what orjson refuses goes to the json module."""
    structure = {"metadata": {"doc_number": "粤工信〔2023〕1号", "year": 2023, "x": None, "ok": True},
                 "tasks": [{"text": "带\x00空字符\u2028与\"引号\"\\", "n": -7, "ratio": 0.5}], "empty": []}
    legacy = json.dumps(structure, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert content.structure_json(structure) == legacy
    huge = {"metadata": {"number": 10**30}, 1: "a key that is not a string"}
    assert content.structure_json(huge) == json.dumps(huge, ensure_ascii=False, separators=(",", ":")).encode()


def test_a_snapshot_from_another_process_stores_the_json_it_came_as(sessions) -> None:
    """Pickled, a Snapshot carries its structure as JSON, which is stored as it came; read, the
    structure is decoded and the bytes dropped, so a structure changed after that is stored as
    changed; a structure orjson refuses travels pickled."""
    import pickle

    from crawler.snapshot import build_snapshot

    page = ("<html><head><title>关于做好2024年工作的通知</title></head><body><div class='article-content'>"
            "<p>一、总体要求</p><p>(一)加快建设。(省工业和信息化厅牵头)</p><p>目标达到120家。</p>"
            "</div></body></html>").encode()
    built = build_snapshot("http://h/a/post_1.html", page, "text/html; charset=utf-8")
    came = pickle.loads(pickle.dumps(built))
    assert came.metadata == built.metadata and came.metadata["year"] == 2024  # read, not decoded
    assert came.structure_json() == content.structure_json(built.structure)
    assert came == built and came.structure_json() is None  # compared: read, so dropped
    unread = pickle.loads(pickle.dumps(built))
    changed = pickle.loads(pickle.dumps(built))
    changed.structure["metadata"]["doc_number"] = "粤工信〔2024〕9号"
    changed.canonical_key, changed.url = "h/post_2", "http://h/a/post_2.html"
    odd = pickle.loads(pickle.dumps(replace(built, structure={**built.structure, "big": 10**30},
                                            canonical_key="h/post_3", url="http://h/a/post_3.html")))
    assert odd.structure_json() is None and odd.structure["big"] == 10**30
    with session_scope(sessions) as s:
        src = ensure_source(s, "gdii", "html_pages", {}).id
        ids = [store_snapshot(s, src, x).version_id for x in (unread, changed, odd)]
    assert unread.structure_json() is not None  # stored without decoding its structure
    got = read_back(sessions, ids)
    assert got[ids[0]][2] == built.structure
    assert got[ids[1]][2]["metadata"]["doc_number"] == "粤工信〔2024〕9号"
    assert got[ids[2]][2]["big"] == 10**30


# -- migration 0004 --------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (no migrations run), SQLite and then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    server = request.getfixturevalue("postgres_server")
    return server.create_database(f"pw_{uuid.uuid4().hex[:12]}")  # type: ignore[attr-defined]


def _fill_0003(url: str) -> dict[int, tuple[bytes, str, str, bytes]]:
    """Versions as 0003 stored them (zlib columns), with the change events that point at them."""
    engine = make_engine(url)
    now = datetime(2024, 1, 1, tzinfo=UTC)
    near = BODY.replace("第5条", "第五条")
    items = [  # (document, seq, text, normalized, structure, raw, encoding)
        (1, 1, BODY, BODY, snap(1).structure, snap(1).raw, "utf-8"),
        (1, 2, near, near, {"metadata": {"title": "修订"}}, snap(1, text=near).raw, "utf-8"),
        (2, 1, BODY, BODY.replace(" ", ""), snap(1).structure, snap(2).raw, "utf-8"),
        (3, 1, near, near, {}, snap(3, text=near, encoding="gbk").raw, "gbk"),
        (4, 1, "", "", {}, b"", None),
        (5, 1, "正文\x00", "正文", [1, "二", None], b"\x00\x01\x02", "utf-8"),
    ]
    originals = {}
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sources (id, name, kind, settings, created_at) "
                          "VALUES (1, 's', 'html_pages', '{}', :now)"), {"now": now})
        for doc in range(1, 6):
            conn.execute(text(
                "INSERT INTO documents (id, source_id, canonical_key, url, title, status, first_seen_at, "
                "last_seen_at, missing_count, version_count) VALUES (:id, 1, :key, :url, 't', 'active', "
                ":now, :now, 0, 1)"), {"id": doc, "key": f"h/{doc}", "url": f"http://h/{doc}", "now": now})
        for vid, (doc, seq, body, normalized, structure, raw, encoding) in enumerate(items, start=1):
            blob = json.dumps(structure, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            conn.execute(text(
                "INSERT INTO versions (id, document_id, seq, fetched_at, url, content_hash, raw, encoding, "
                "title, text, normalized_text, structure, attachments) VALUES (:id, :doc, :seq, :now, :url, "
                ":hash, :raw, :enc, 't', :text, :norm, :structure, '[]')"),
                {"id": vid, "doc": doc, "seq": seq, "now": now, "url": f"http://h/{doc}", "hash": f"h{vid}",
                 "raw": zlib.compress(raw, 6), "enc": encoding, "text": zlib.compress(body.encode(), 6),
                 "norm": zlib.compress(normalized.encode(), 6), "structure": zlib.compress(blob, 6)})
            originals[vid] = (raw, body, normalized, blob)
        conn.execute(text(
            "INSERT INTO change_events (id, type, detected_at, document_id, version_from_id, version_to_id, "
            "summary, details) VALUES (1, 'wording_changed', :now, 1, 1, 2, 's', '{}')"), {"now": now})
    engine.dispose()
    return originals


def _old_columns(url: str) -> dict[int, tuple[bytes, str, str, bytes]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, raw, text, normalized_text, structure FROM versions")).all()
    engine.dispose()
    return {r[0]: (zlib.decompress(r[1]), zlib.decompress(r[2]).decode(), zlib.decompress(r[3]).decode(),
                   zlib.decompress(r[4])) for r in rows}


def test_migration_0004_converts_every_version_and_back(blank_url: str) -> None:
    from alembic import command

    from storage.db import alembic_config

    upgrade(blank_url, "0003")
    originals = _fill_0003(blank_url)
    upgrade(blank_url)
    engine = make_engine(blank_url)
    sessions = session_factory(engine)
    content._cache.clear()
    with session_scope(sessions) as s:
        for vid, (raw, body, normalized, blob) in originals.items():
            v = s.get(Version, vid)
            assert (v.raw, v.text, v.normalized_text, v.structure) == (raw, body, normalized, json.loads(blob))
        event = s.get(ChangeEvent, 1)
        assert (event.version_from_id, event.version_to_id) == (1, 2)
        # converted as new versions are stored: the revision is a delta against its first text
        v1, v2 = s.get(Version, 1), s.get(Version, 2)
        assert s.get(Blob, v2.text_id).base_id == v1.text_id
        assert s.get(Version, 3).text_id == v1.text_id
    engine.dispose()

    command.downgrade(alembic_config(blank_url), "0003")
    assert _old_columns(blank_url) == originals
    upgrade(blank_url)  # and up again
    engine = make_engine(blank_url)
    content._cache.clear()
    with session_scope(session_factory(engine)) as s:
        assert {v.id: (v.raw, v.text, v.normalized_text, content.structure_json(v.structure))
                for v in s.scalars(select(Version))} == originals
        assert s.get(ChangeEvent, 1).version_to_id == 2
    engine.dispose()
