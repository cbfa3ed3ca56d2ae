"""What storage knows of a source's documents, asked for as the crawl meets them.

A crawl needs, for each document it lists, whether it is stored and with which validators (a
conditional GET), raw hash (the same bytes are not read again) and attachments. A spider used to
load that for every document of its source at start: 600 bytes and 12 µs a document, so 61 MB
and 1.2 s for a source of 100,000 documents (bench/known_bench.py), on every crawl, even an
incremental one that walks three list pages. Now an incremental walk asks for a list page's
documents at once when it reads the page (one query per page, on the crawl's thread: 1-2 ms),
and memory follows the walk, not the store. A full sweep, which meets every document, loads them
all at once, as before: one query for all costs less than one a page (measured on a sweep of
10,000: 0.1-0.25 s against 1.0 s of the crawl's thread), unless the source is too large to hold
at once (more than LOAD_ALL_MOST documents, some 30 MB): it is then asked list page by list page,
as an incremental walk is. Either way a document's entry is dropped once its page is answered.

A detail page whose list page another process read (a distributed crawl) is asked for alone.
A source with nothing stored (a first crawl) is never asked.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.documents import KnownDocument

logger = logging.getLogger(__name__)

RETRY_AFTER = 30.0  # seconds without asking after a failed lookup (a database that is down)
LOAD_ALL_MOST = 50_000  # documents a full sweep loads at once (~600 bytes each held)

# One engine per database for every spider of the process, holding one connection: the lookups
# run on the crawl's one thread, and 32 sources crawling at once must not hold 32 more
# connections to a PostgreSQL that several workers share (its default limit is 100).
class _Shared:
    def __init__(self, database_url: str) -> None:
        from storage.db import make_engine, session_factory

        self.engine = make_engine(database_url, pool_size=1, max_overflow=0)
        self.sessions = session_factory(self.engine)
        self.users = 0


_shared: dict[str, _Shared] = {}
_shared_lock = threading.Lock()


def _acquire(database_url: str) -> Any:
    """The process's session factory for ``database_url``; ``_release`` once per call."""
    with _shared_lock:
        shared = _shared.get(database_url)
        if shared is None:
            shared = _shared[database_url] = _Shared(database_url)
        shared.users += 1
        return shared.sessions


def _release(database_url: str) -> None:
    with _shared_lock:
        shared = _shared.get(database_url)
        if shared is None:
            return
        shared.users -= 1
        if shared.users <= 0:
            del _shared[database_url]
            shared.engine.dispose()


class KnownDocuments:
    """A source's stored documents, by canonical key, looked up on demand."""

    def __init__(self, database_url: str | None = None, source_id: int | None = None, *,
                 stored: int = 0, load_all_most: int = LOAD_ALL_MOST) -> None:
        self.source_id = source_id or 0
        self.stored = stored  # documents of the source stored when the crawl began
        self.load_all_most = load_all_most
        self._url: str | None = None
        self._sessions: Any = None
        if database_url is not None and source_id is not None and stored > 0:
            self._url = database_url
            self._sessions = _acquire(database_url)
        self._entries: dict[str, KnownDocument | None] = {}  # None: asked, not stored
        self._complete = False  # every stored document was loaded: a key not held is not stored
        self._quiet_until = 0.0  # monotonic time before which no lookup is tried (after a failure)
        self.queries = 0

    def load_all(self) -> None:
        """Load every stored document of the source at once (a full sweep meets them all),
        unless there are more than ``load_all_most``: then list page by list page."""
        if self._sessions is None:
            return
        if self.stored > self.load_all_most:
            logger.info("%d stored documents: asked for list page by list page, not all at once",
                        self.stored)
            return
        from storage.db import session_scope
        from storage.documents import validators_for_source

        with session_scope(self._sessions) as session:
            self._entries.update(validators_for_source(session, self.source_id))
        self.queries += 1
        self._complete = True

    def prefetch(self, keys: Iterable[str]) -> None:
        """Ask for every key not asked for yet, at once."""
        if self._sessions is None or self._complete:
            return
        wanted = [key for key in dict.fromkeys(keys) if key not in self._entries]
        if not wanted:
            return
        if time.monotonic() < self._quiet_until:
            return
        from sqlalchemy.exc import SQLAlchemyError

        from storage.db import session_scope
        from storage.documents import validators_for_keys

        try:
            with session_scope(self._sessions) as session:
                found = validators_for_keys(session, self.source_id, wanted)
        except (SQLAlchemyError, OSError) as exc:
            # the pages are then fetched as if new (in full): more work, no page lost; storage,
            # which needs the same database, records its own failures
            logger.warning("could not ask storage what it knows of %d document(s): %s", len(wanted),
                           str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)
            self._quiet_until = time.monotonic() + RETRY_AFTER
            return
        self.queries += 1
        for key in wanted:
            self._entries[key] = found.get(key)

    def get(self, key: str) -> KnownDocument | None:
        """The stored document's entry, asked for now if its list page did not."""
        if key not in self._entries:
            self.prefetch([key])
        return self._entries.get(key)

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def forget(self, key: str) -> None:
        """The document's page is answered: its entry is not needed again."""
        self._entries.pop(key, None)

    def __len__(self) -> int:  # entries held now
        return len(self._entries)

    def close(self) -> None:
        if self._url is not None:
            _release(self._url)
            self._url = self._sessions = None
