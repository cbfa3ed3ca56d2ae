"""A page-analysis worker process, driven from the event loop: pages go out on its stdin and
analyses come back on its stdout (crawler.analysis_worker), read and written by the loop itself.

Why not a ProcessPoolExecutor: each page it takes costs the crawl process two threads' turns
(the queue feeder pickles, the manager unpickles), locks and a cross-thread wake-up of the loop,
all under the interpreter lock the reactor needs. Here a page is one pickle and one write; an
answer, one read and one unpickle, on the loop's thread, with no other thread involved. Measured
on a first crawl of 2,000 pages (the crawl process's CPU with analysis, less without it): 0.64 ms
a page through the executor, 0.48 ms through these pipes, most of the rest being Scrapy's own
cost of a callback that waits.

A worker that dies (killed, out of memory, a crash in a C parser) fails only the pages it held:
each comes back as an Analysis with an error, and the next page starts a new worker.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import subprocess

from crawler import analysis_worker, prestart
from crawler.analysis import Analysis
from crawler.analysis_worker import HEADER, frame

logger = logging.getLogger(__name__)

WORKER_DIED = "extraction error: the page analysis worker died"
READ_SIZE = 1 << 20


# An answer (the texts and the structure's JSON) is some 70 KB: through a pipe of the default
# 64 KiB, writing one blocked the worker until the crawl process's loop came round to read it,
# and the worker, the stage the others wait for, sat idle meanwhile. A pipe of 1 MiB (Linux's
# limit for a user, /proc/sys/fs/pipe-max-size) holds a dozen.
PIPE_SIZE = 1 << 20


def _widen(fd: int) -> None:
    """Make a pipe hold PIPE_SIZE bytes, where the system allows it (else keep its size)."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    except (ImportError, AttributeError, OSError):  # not Linux, or over the user's limit
        pass


class WorkerChannel:
    """One worker process and the pages it holds, on one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Takes the worker started with the crawl (crawler.prestart), else starts one; raises
        OSError when the worker cannot be started at all."""
        self.process = prestart.take_worker() or analysis_worker.spawn()
        logger.info("page analysis: a worker process (pid %d)", self.process.pid)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.loop = loop
        self._out = self.process.stdin.fileno()
        self._in = self.process.stdout.fileno()
        for fd in (self._out, self._in):
            _widen(fd)
        os.set_blocking(self._out, False)
        os.set_blocking(self._in, False)
        self.pending: dict[int, asyncio.Future[Analysis]] = {}
        self.answered = 0  # pages it answered: a worker that died before any never started
        self._outgoing = bytearray()
        self._incoming = bytearray()
        self.alive = True
        loop.add_reader(self._in, self._readable)

    @property
    def pid(self) -> int:
        return self.process.pid

    def submit(self, seq: int, url: str, body: bytes, content_type: str | None) -> asyncio.Future[Analysis]:
        future: asyncio.Future[Analysis] = self.loop.create_future()
        if not self.alive:
            future.set_result(Analysis(error=WORKER_DIED))
            return future
        self.pending[seq] = future
        self._send(frame(pickle.dumps((seq, url, body, content_type), protocol=pickle.HIGHEST_PROTOCOL)))
        return future

    # -- the loop's side ---------------------------------------------------------------------
    def _send(self, data: bytes) -> None:
        if self._outgoing:  # earlier frames wait: keep the order
            self._outgoing += data
            return
        try:
            written = os.write(self._out, data)
        except BlockingIOError:
            written = 0
        except OSError:
            self._died()
            return
        if written < len(data):
            self._outgoing += data[written:]
            self.loop.add_writer(self._out, self._writable)

    def _writable(self) -> None:
        try:
            written = os.write(self._out, self._outgoing)
        except BlockingIOError:
            return
        except OSError:
            self._died()
            return
        del self._outgoing[:written]
        if not self._outgoing:
            self.loop.remove_writer(self._out)

    def _readable(self) -> None:
        try:
            data = os.read(self._in, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._died()
            return
        incoming = self._incoming
        incoming += data
        start = 0
        while len(incoming) - start >= HEADER.size:
            (size,) = HEADER.unpack_from(incoming, start)
            end = start + HEADER.size + size
            if len(incoming) < end:
                break
            seq, analysis = pickle.loads(memoryview(incoming)[start + HEADER.size:end])
            start = end
            self.answered += 1
            future = self.pending.pop(seq, None)
            if future is not None and not future.done():
                future.set_result(analysis)
        del incoming[:start]

    def _died(self) -> None:
        """The worker is gone: its pages are answered with the reason, and it takes no more."""
        if not self.alive:
            return
        self.alive = False
        self._detach()
        if self.pending:
            logger.error("the page analysis worker (pid %d) died holding %d page(s)", self.pid,
                         len(self.pending))
        for future in self.pending.values():
            if not future.done():
                future.set_result(Analysis(error=WORKER_DIED))
        self.pending.clear()

    def _detach(self) -> None:
        for remove, fd in ((self.loop.remove_reader, self._in), (self.loop.remove_writer, self._out)):
            try:
                remove(fd)
            except (RuntimeError, ValueError, OSError):  # the loop is closed already
                pass

    # -- the end -----------------------------------------------------------------------------
    def close(self, timeout: float = 10.0) -> None:
        """Stop the worker: its answers are no longer read, then its input ends; a worker that
        does not end within ``timeout`` seconds is killed."""
        self.alive = False
        self._detach()
        for future in self.pending.values():
            if not future.done():
                future.cancel()
        self.pending.clear()
        for pipe in (self.process.stdout, self.process.stdin):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
