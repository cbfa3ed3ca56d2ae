"""urlwatch as the peer: one job per detail URL, a css filter on the body and html2text.

Everything lives in one temporary directory (urls, config, hooks, cache, HOME), so the user's own
urlwatch setup is never read or written:

    urlwatch --urls urls.yaml --config urlwatch.yaml --hooks hooks.py --cache cache.db

- reporters: all off (stdout included; the others are off by default) — nothing is sent, nothing
  printed, like a policywatch crawl that renders no digest;
- concurrency: urlwatch 2.x has no setting for it (``urlwatch.worker.MAX_WORKERS = 10``, a module
  constant); the hooks file, imported before the jobs run, sets it to the crawl's 16;
- network: the jobs only name 127.0.0.1 and the child runs with the proxy variables removed and
  ``NO_PROXY=127.0.0.1,localhost``;
- its conditional requests: urlwatch sends the stored ETag (If-None-Match) and the time of its
  last check (If-Modified-Since), so an unchanged recheck is answered with 304s.

urlwatch does no discovery (it is given every URL), no structure parsing and no SQL.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


def available() -> bool:
    return importlib.util.find_spec("urlwatch") is not None


def version() -> str | None:
    try:
        from importlib.metadata import version as dist_version

        return dist_version("urlwatch")
    except Exception:
        return None


def prepare(directory: Path, urls: list[str], workers: int = 16) -> dict[str, Path]:
    """Write urls.yaml, urlwatch.yaml and hooks.py for these URLs; return the paths."""
    for url in urls:
        if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
            raise ValueError(f"urlwatch peer only watches 127.0.0.1, not {url!r}")
    directory.mkdir(parents=True, exist_ok=True)
    home = directory / "home"
    home.mkdir(exist_ok=True)
    jobs = "".join(
        f"---\nname: doc {i}\nurl: {url}\nfilter:\n  - css: .article-content\n  - html2text\n"
        for i, url in enumerate(urls))
    paths = {"urls": directory / "urls.yaml", "config": directory / "urlwatch.yaml",
             "hooks": directory / "hooks.py", "cache": directory / "cache.db", "home": home}
    paths["urls"].write_text(jobs, encoding="utf-8")
    paths["config"].write_text(
        "display:\n  new: true\n  error: true\n  unchanged: false\n  empty-diff: false\n"
        "report:\n"
        "  stdout:\n    enabled: false\n    color: false\n"
        "  email:\n    enabled: false\n"
        "  shell:\n    enabled: false\n"
        "job_defaults:\n  all: {}\n  url: {}\n  shell: {}\n  browser: {}\n", encoding="utf-8")
    paths["hooks"].write_text(
        "# bench: the same concurrency as the policywatch crawl (urlwatch has no setting for it)\n"
        f"import urlwatch.worker\nurlwatch.worker.MAX_WORKERS = {int(workers)}\n", encoding="utf-8")
    for key in ("urls", "config", "hooks"):  # urlwatch refuses group/world-writable job files
        os.chmod(paths[key], 0o600)
    return paths


def command(paths: dict[str, Path]) -> list[str]:
    exe = shutil.which("urlwatch")
    base = [exe] if exe else [sys.executable, "-m", "urlwatch.cli"]
    return [*base, "--urls", str(paths["urls"]), "--config", str(paths["config"]),
            "--hooks", str(paths["hooks"]), "--cache", str(paths["cache"])]


def environment(paths: dict[str, Path]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["HOME"] = str(paths["home"])
    env["XDG_CONFIG_HOME"] = str(paths["home"] / ".config")
    env["XDG_CACHE_HOME"] = str(paths["home"] / ".cache")
    return env
