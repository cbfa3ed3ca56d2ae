"""Run one command as a child and report its wall time, CPU time and exact peak RSS.

    python -m bench.measure RESULT.json STDOUT_FILE STDERR_FILE -- CMD ...

Run in a fresh process per measurement, so that ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` is the
peak resident set of that one child (Linux reports KiB; the largest of the waited-for
descendants, not a sum — the crawl child does not fork).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    if "--" not in argv or argv.index("--") != 3:
        raise SystemExit(__doc__)
    result_path, out_path, err_path = argv[:3]
    cmd = argv[4:]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        code = subprocess.call(cmd, stdout=out, stderr=err)
        seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    scale = 1 if sys.platform == "darwin" else 1024  # macOS reports bytes, Linux KiB
    with open(result_path, "w", encoding="utf-8") as fh:
        json.dump({"seconds": seconds, "returncode": code, "peak_rss_bytes": usage.ru_maxrss * scale,
                   "cpu_user": usage.ru_utime, "cpu_system": usage.ru_stime}, fh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
