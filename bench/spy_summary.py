"""Summarize a py-spy raw (collapsed-stack) profile: the functions with the most samples,
inclusive and own, as a share of all samples (all threads; with ``py-spy record --gil`` only the
thread holding the GIL is sampled, i.e. where the interpreter's one core actually goes).

    py-spy record --gil -r 200 --format raw -o crawl.txt -- python -m monitor crawl --config …
    python -m bench.spy_summary crawl.txt [--top 30] [--focus crawler/,storage/,monitor/]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _key(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    file = match.group("file")
    if "site-packages/" in file:
        file = file.split("site-packages/", 1)[1]
    return f"{match.group('name')} ({file})"


def summarize(path: Path) -> tuple[int, Counter[str], Counter[str]]:
    total = 0
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_key(f) for f in stack.split(";") if f]
        for key in set(frames):
            inclusive[key] += n
        if frames:
            own[frames[-1]] += n
    return total, inclusive, own


def report(path: Path, top: int = 30, focus: tuple[str, ...] = ()) -> str:
    total, inclusive, own = summarize(path)
    lines = [f"{total} samples", "", "| function (inclusive) | samples | % |", "|---|---|---|"]
    shown = 0
    for key, n in inclusive.most_common():
        if focus and not any(f in key for f in focus):
            continue
        lines.append(f"| `{key}` | {n} | {100 * n / max(total, 1):.1f} |")
        shown += 1
        if shown >= top:
            break
    lines += ["", "| function (own) | samples | % |", "|---|---|---|"]
    for key, n in own.most_common(top):
        lines.append(f"| `{key}` | {n} | {100 * n / max(total, 1):.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--focus", default="", help="comma-separated substrings of file names")
    args = parser.parse_args(argv)
    print(report(args.path, args.top, tuple(f for f in args.focus.split(",") if f)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
