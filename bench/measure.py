"""Run one command as a child and report its wall time, CPU time and exact peak RSS.

    python -m bench.measure RESULT.json STDOUT_FILE STDERR_FILE -- CMD ...

Run in a fresh process per measurement, so that ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` is the
peak resident set of the largest process of that one child's tree (Linux reports KiB). A crawl
also runs page-analysis worker processes, so the tree's total is sampled too (psutil, every
0.1 s): ``peak_tree_rss_bytes``, the figure the report uses. CPU time counts the whole tree.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def _watch_tree(child: subprocess.Popen[bytes]) -> int:
    """The largest sum of resident sets of the child and its descendants, sampled until it ends."""
    try:
        import psutil
    except ImportError:  # the bench extra brings psutil; without it only ru_maxrss is known
        child.wait()
        return 0
    peak = 0
    try:
        root = psutil.Process(child.pid)
    except psutil.Error:
        return 0
    while child.poll() is None:
        total = 0
        try:
            for proc in [root, *root.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    continue
        except psutil.Error:
            break
        peak = max(peak, total)
        time.sleep(0.1)
    return peak


def main(argv: list[str]) -> int:
    if "--" not in argv or argv.index("--") != 3:
        raise SystemExit(__doc__)
    result_path, out_path, err_path = argv[:3]
    cmd = argv[4:]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        child = subprocess.Popen(cmd, stdout=out, stderr=err)
        peak_tree = _watch_tree(child)
        code = child.wait()
        seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    scale = 1 if sys.platform == "darwin" else 1024  # macOS reports bytes, Linux KiB
    with open(result_path, "w", encoding="utf-8") as fh:
        json.dump({"seconds": seconds, "returncode": code, "peak_rss_bytes": usage.ru_maxrss * scale,
                   "peak_tree_rss_bytes": max(peak_tree, usage.ru_maxrss * scale),
                   "cpu_user": usage.ru_utime, "cpu_system": usage.ru_stime}, fh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
