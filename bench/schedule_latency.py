"""Seconds from `wiredesk serve` to the first scheduler-created run that completed.

    python bench/schedule_latency.py --port 27100                 # embedded server
    python bench/schedule_latency.py --api http://127.0.0.1:27200/api   # a running prefect server

One source on a `* * * * *` schedule reading one sample page, in a temporary directory. The
figure includes the server start (embedded mode) and the wait for the next minute (0-60 s).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=27100, help="embedded server port")
    parser.add_argument("--api", help="serve against this Prefect API instead")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="wiredesk-latency-"))
    pages = tmp / "pages"
    pages.mkdir()
    seed = sorted((REPO / "samples" / "seeds").glob("*.txt"))[0]
    (pages / seed.name).write_bytes(seed.read_bytes())
    name = "lat" + uuid.uuid4().hex[:6]
    config = tmp / "wiredesk.yaml"
    config.write_text(
        f"store: {{url: {tmp / 'store.db'}}}\nrun: {{workers: 1}}\nsources:\n  - name: {name}\n"
        f'    paths: ["{pages}"]\n    schedule: {{cron: "* * * * *"}}\n',
        encoding="utf-8",
    )
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"}
    env.pop("PREFECT_API_URL", None)
    argv = [sys.executable, "-m", "wiredesk.cli", "serve", "--config", str(config), "--no-manual"]
    if args.api:
        env["PREFECT_API_URL"] = api = args.api
    else:
        argv += ["--port", str(args.port)]
        api = f"http://127.0.0.1:{args.port}/api"
    started = time.monotonic()
    with (tmp / "serve.log").open("wb") as log:
        serve = subprocess.Popen(argv, env=env, cwd=tmp, stdout=log, stderr=log)
    try:
        while time.monotonic() - started < args.timeout:
            if serve.poll() is not None:
                sys.exit(f"serve exited ({serve.returncode}); see {tmp / 'serve.log'}")
            try:
                dep = httpx.get(f"{api}/deployments/name/ingest/{name}", timeout=5)
                if dep.status_code == 200:
                    body = {"deployments": {"id": {"any_": [dep.json()["id"]]}}}
                    runs = httpx.post(f"{api}/flow_runs/filter", json=body, timeout=5).json()
                    if any(r["auto_scheduled"] and r["state_type"] == "COMPLETED" for r in runs):
                        print(f"first scheduler-created run completed {time.monotonic() - started:.1f} s after serve")
                        return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        sys.exit(f"no completed scheduled run within {args.timeout:g} s")
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(60)
        except subprocess.TimeoutExpired:
            serve.kill()


if __name__ == "__main__":
    main()
