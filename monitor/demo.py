"""`policywatch demo`: crawl the bundled replica twice, with a site release in between, offline."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from monitor.crawl import crawl_in_child
from monitor.output import single_line, table

DEMO_CRAWL_SETTINGS = """
[crawl]
# The replica runs on this machine: no need to be polite to it.
download_delay = 0
autothrottle = false
obey_robots = false
"""


def run_demo(workdir: str, *, echo: Callable[..., None],
             keep_serving: bool = False) -> int:
    """Run the demo end to end; returns the exit code."""
    from replica.server import ReplicaServer
    from storage.db import make_engine, session_factory, session_scope, upgrade
    from storage.events import query_events

    root = Path(workdir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    db_path = root / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    database_url = f"sqlite:///{db_path}"
    config_path = root / "policywatch.toml"

    with ReplicaServer(release=0) as server:
        config_path.write_text(server.config_toml(database_url) + DEMO_CRAWL_SETTINGS,
                               encoding="utf-8")
        echo("policywatch demo: a local replica of the Guangdong government sites")
        for site in ("gd", "gdii", "gz", "gxj"):
            echo(f"  {site:5} {server.base_url(site)}")
        echo(f"  config   {config_path}\n  database {db_path}\n")
        upgrade(database_url)

        steps = (
            (0, "1. first crawl (release 0): the baseline, nothing is flagged yet"),
            (1, "2. the site publishes release 1: one new document, one revised document\n"
                "   second crawl:"),
        )
        for release, heading in steps:
            server.set_release(release)
            echo(heading)
            started = time.monotonic()
            result = crawl_in_child(config_path, [], trigger="demo")
            if result.returncode != 0:
                echo(f"crawl of release {release} failed (exit {result.returncode})", err=True)
                return 1
            echo(f"   took {time.monotonic() - started:.1f}s\n")

        engine = make_engine(database_url)
        with session_scope(session_factory(engine)) as session:
            events = query_events(session)
        engine.dispose()
        echo(f"3. what policywatch found: {len(events)} change events\n")
        if events:
            echo(table(["id", "type", "source", "doc", "task", "summary"],
                       [[e["id"], e["type"], e["source"] or "", (e["document"] or {}).get("id", ""),
                         (e["task"] or {}).get("label") or "", e["summary"]] for e in events],
                       max_width=72))
            for event in events:
                if event["before"] or event["after"]:
                    echo(f"\n  [{event['id']}] {event['type']}: {single_line(event['summary'])}")
                    if event["before"]:
                        echo(f"     - {single_line(event['before'])[:160]}")
                    if event["after"]:
                        echo(f"     + {single_line(event['after'])[:160]}")
        echo("\nNext: policywatch changes --config " + str(config_path) + " --format json")
        echo("      policywatch documents list --config " + str(config_path))
        if keep_serving:
            echo("\nreplica still serving; Ctrl-C to stop")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    return 0
