"""Serve CivicGrid for `make demo` / `make serve`: gunicorn for the web, and the Huey consumer for
periodic work (SLA warnings, overdue notices). Ctrl-C stops both; if either dies, so does the other.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8000")
    parser.add_argument("--workers", default="2")
    args = parser.parse_args()
    web = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "civicgrid.wsgi",
            "-b",
            f"{args.host}:{args.port}",
            "-w",
            args.workers,
            "--access-logfile",
            "-",
            "--log-level",
            "warning",
        ]
    )
    worker = subprocess.Popen([str(BIN / "civicgrid"), "run_huey", "--workers", "1"])
    children = [web, worker]

    def stop(*_):
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    finally:
        stop()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
    return max(child.returncode or 0 for child in children)


if __name__ == "__main__":
    sys.exit(main())
