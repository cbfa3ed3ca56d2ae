"""Start the crawl's helper processes (page analysis, storage) deaf to Ctrl-C.

A terminal's Ctrl-C goes to the whole process group. The crawl process stops its helpers itself,
after they finish what they hold; a helper that took the SIGINT would die mid-work and print a
KeyboardInterrupt traceback, even while it is still importing (before any code of ours runs in
it). A process started while SIGINT is ignored keeps ignoring it (Python installs its own handler
only over the default one), so helpers are started with SIGINT ignored for that instant.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT while the block starts processes (from the main thread; elsewhere Python
    cannot change a handler, and the helpers' own start-up ignores it as early as it can)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)


def ignore_sigint() -> None:
    """In a helper: leave Ctrl-C to the crawl process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

