"""storage.writes: a page's writes are sent to PostgreSQL together, with ids taken from the
sequences beforehand; on SQLite they run at once. Either way the rows and errors are those of
running each statement alone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from storage import writes as W
from storage.db import make_engine, session_scope
from storage.documents import _INSERT_DOCUMENT, _INSERT_URL, ensure_source
from storage.models import Document, DocumentUrl

NOW = datetime(2024, 3, 1, 8, 30, tzinfo=UTC)


def _document(source_id: int, key: str) -> dict[str, Any]:
    return {"source_id": source_id, "canonical_key": key, "url": f"http://h/{key}", "first_seen_at": NOW}


def _count(conn: Any, model: Any) -> int:
    return conn.execute(select(func.count()).select_from(model)).scalar_one()


def test_rows_are_written_by_send_on_postgresql_and_at_once_elsewhere(sessions: Any) -> None:
    with session_scope(sessions) as s:
        source = ensure_source(s, "gdii", "html_pages", {}).id
        conn = s.connection()
        page = W.Writes(conn)
        document = page.insert(_INSERT_DOCUMENT, _document(source, "a"))
        page.run(_INSERT_URL, {"document_id": document, "url": "http://h/a", "first_seen_at": NOW})
        kept = conn.dialect.name == "postgresql"
        assert _count(conn, Document) == (0 if kept else 1)
        page.send()
        assert _count(conn, Document) == 1 and _count(conn, DocumentUrl) == 1
        row = conn.execute(select(Document.id, Document.status, Document.version_count)).one()
        assert tuple(row) == (document, "active", 0)  # the id given back is the row's; defaults set


def test_the_first_error_of_a_page_is_sqlalchemys_and_nothing_of_it_stays(sessions: Any) -> None:
    with pytest.raises(IntegrityError):
        with session_scope(sessions) as s:
            source = ensure_source(s, "gdii", "html_pages", {}).id
            page = W.Writes(s.connection())
            page.insert(_INSERT_DOCUMENT, _document(source, "a"))
            page.insert(_INSERT_DOCUMENT, _document(source, "a"))  # the same key: unique
            page.send()
    with session_scope(sessions) as s:
        assert _count(s.connection(), Document) == 0


def test_ids_taken_by_two_processes_never_meet(sessions: Any, db_url: str) -> None:
    """Two crawl workers on one PostgreSQL take ids from the same sequence, a block at a time,
    and a row inserted the usual way gets none of them."""
    if not db_url.startswith("postgresql"):
        pytest.skip("ids are taken ahead only from PostgreSQL's sequences")
    other = make_engine(db_url)
    try:
        table = Document.__table__
        pools = [W.IdPool(), W.IdPool()]
        taken: list[list[int]] = [[], []]
        with sessions.kw["bind"].connect() as a, other.connect() as b:
            for _ in range(W.ID_BLOCK + 20):  # past a block, alternating
                taken[0].append(pools[0].take(a, table))
                taken[1].append(pools[1].take(b, table))
            a.commit()
            b.commit()
        assert len(set(taken[0]) | set(taken[1])) == 2 * (W.ID_BLOCK + 20)
        with session_scope(sessions) as s:
            source = ensure_source(s, "gdii", "html_pages", {}).id
            usual = _INSERT_DOCUMENT.returning.scalar(s.connection(), _document(source, "a"))
        assert usual not in set(taken[0]) | set(taken[1])
    finally:
        other.dispose()
