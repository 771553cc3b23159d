"""The Docker HEALTHCHECK of the wiredesk image (standard library only: it runs every 30 s).

`wiredesk serve` runs a Prefect runner with its webserver on (PREFECT_RUNNER_SERVER_ENABLE in the
image): healthy while that answers /health, i.e. while the runner keeps polling its API for runs.
`prefect worker start --with-healthcheck` answers /health on its own webserver port. A container
running neither (the demo, `wiredesk run`, `wiredesk export`) is healthy while it runs: there is no
service to check, and a long run must not be reported unhealthy.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

PROC = Path("/proc")


def service(procfs: Path = PROC) -> str | None:
    """'serve' or 'worker' when a process in this container is one, else None."""
    for proc in procfs.iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:  # the process ended meanwhile
            continue
        words = [os.path.basename(a.decode(errors="replace")) for a in argv if a]
        if "wiredesk" in words and "serve" in words:
            return "serve"
        if "prefect" in words and "worker" in words and "--with-healthcheck" in words:
            return "worker"
    return None


def health_url(kind: str) -> str:
    if kind == "serve":
        host = os.environ.get("PREFECT_RUNNER_SERVER_HOST", "localhost")
        port = os.environ.get("PREFECT_RUNNER_SERVER_PORT", "8080")
    else:
        host = os.environ.get("PREFECT_WORKER_WEBSERVER_HOST", "0.0.0.0")
        port = os.environ.get("PREFECT_WORKER_WEBSERVER_PORT", "8080")
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"http://{host}:{port}/health"


def main(procfs: Path = PROC) -> int:
    kind = service(procfs)
    if kind is None:
        print("healthy: no serve or worker process to check")
        return 0
    url = health_url(kind)
    try:
        with urllib.request.urlopen(url, timeout=8) as response:
            print(f"{kind}: {url} answered {response.status}")
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"{kind}: {url} failed: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
