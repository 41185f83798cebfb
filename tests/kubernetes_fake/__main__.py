"""Run the fake API server as a process: ``python -m tests.kubernetes_fake --port N``.

Prints ``listening on <url>`` once it answers, then serves until SIGTERM or SIGINT. With
``--state FILE`` every write is journaled to FILE and a restart with the same FILE keeps
the objects and continues the resourceVersion counter; without it a restart starts empty.
The ``/_fake/…`` control endpoints (see ``control.py``) are enabled.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from .server import FakeApiServer


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, serve until told to stop, return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m tests.kubernetes_fake")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--state", type=Path, default=None, help="journal file to keep state in")
    parser.add_argument("--bookmark-interval", type=float, default=60.0)
    parser.add_argument("--watch-timeout", type=float, default=1800.0)
    parser.add_argument(
        "--expired-watch-start",
        choices=("status", "event"),
        default="status",
        help="answer a watch from a compacted version with HTTP 410 or a 410 ERROR event",
    )
    parser.add_argument("--caller-token", default=None, help="accept only this bearer token")
    arguments = parser.parse_args(argv)

    done = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with FakeApiServer(
        host=arguments.host,
        port=arguments.port,
        bookmark_interval=arguments.bookmark_interval,
        watch_timeout=arguments.watch_timeout,
        expired_watch_start=arguments.expired_watch_start,
        state_file=arguments.state,
        caller_token=arguments.caller_token,
        control_endpoints=True,
    ) as api:
        print(f"listening on {api.url}", flush=True)
        done.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
