"""A page-analysis worker process: reads pages from its stdin, writes analyses to its stdout.

    python -m crawler.analysis_worker      (started by crawler.analysis_channel, never by hand)

Each message, both ways, is a frame: its length (4 bytes, big-endian), then a pickle. A request
is ``(seq, url, body, content_type)``; the answer ``(seq, Analysis)``. The worker ends when its
stdin ends (the crawl closed it) or its stdout is gone (the crawl process died).

The frames have the two pipes to themselves: the worker moves them off descriptors 0 and 1
before reading anything, so a library that prints while reading a page prints to stderr, not
into the stream of answers.
"""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO

HEADER = struct.Struct(">I")
COMMAND = (sys.executable, "-m", "crawler.analysis_worker")
# the directory that holds the crawler package, for a worker started from an uninstalled checkout
_IMPORT_ROOT = str(Path(__file__).resolve().parent.parent)


def spawn() -> subprocess.Popen[bytes]:
    """Start a worker, deaf to Ctrl-C (crawler.children), its stdin and stdout piped to us.
    Raises OSError when it cannot start at all."""
    from crawler.children import sigint_ignored

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_IMPORT_ROOT, env.get("PYTHONPATH")) if p)
    with sigint_ignored():
        return subprocess.Popen(list(COMMAND), stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)


def frame(payload: bytes) -> bytes:
    return HEADER.pack(len(payload)) + payload


def serve(requests: BinaryIO, answers: BinaryIO) -> None:
    """Answer every request until ``requests`` ends."""
    from crawler.analysis import analyse

    while True:
        head = requests.read(HEADER.size)
        if len(head) < HEADER.size:
            return
        (size,) = HEADER.unpack(head)
        payload = requests.read(size)
        if len(payload) < size:
            return
        seq, url, body, content_type = pickle.loads(payload)
        answer = pickle.dumps((seq, analyse(url, body, content_type)), protocol=pickle.HIGHEST_PROTOCOL)
        answers.write(frame(answer))
        answers.flush()


def main() -> int:
    from crawler.children import ignore_sigint

    ignore_sigint()  # the crawl process stops its workers itself (crawler.children)
    requests = os.fdopen(os.dup(0), "rb")
    answers = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)  # print() in a page reader goes to stderr
    sys.stdout = sys.stderr
    from crawler.analysis import warm_up

    warm_up()
    try:
        serve(requests, answers)
    except BrokenPipeError:  # the crawl process is gone or stopped listening: nobody to answer
        os._exit(0)  # at once: a flush at exit would only fail again
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
