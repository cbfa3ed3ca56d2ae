"""Run the replica in the foreground: python -m replica [--release N] [--port-base P]."""

from __future__ import annotations

import argparse
import signal
import threading

from .catalog import GKMLPT_SIDS, SITES
from .server import ReplicaServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m replica", description=__doc__)
    parser.add_argument("--release", type=int, default=0, help="release to serve (0 baseline, 1 changed)")
    parser.add_argument("--port-base", type=int, default=None,
                        help="serve gd, gdii, gz, gxj on P, P+1, P+2, P+3 (default: ephemeral ports)")
    args = parser.parse_args(argv)
    # Ctrl-C stops it even when started from a script's background job (whose shell ignores
    # SIGINT, and Python then installs no handler), as a crawl does
    signal.signal(signal.SIGINT, signal.default_int_handler)
    server = ReplicaServer(release=args.release, port_base=args.port_base)
    server.start()
    try:
        print(f"policywatch replica, release {server.release} (Ctrl-C to stop)")
        starts = server.start_urls()
        for site in SITES:
            extra = f"  gkmlpt: {server.base_url(site)}/gkmlpt/index" if site in GKMLPT_SIDS else ""
            print(f"  {site:5} {server.base_url(site)}/  list: {list(starts.values())[SITES.index(site)]}{extra}",
                  flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopping")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
