#!/usr/bin/env python3
"""What Prefect adds to a small run: the seed pages through the whole pipeline, three ways.

    .venv/bin/python bench/prefect_overhead.py [--repeat 5] [--pages DIR] [--no-server]

Rows (wall seconds per run, median of --repeat runs, each on a fresh store; ratio to the anchor):
  direct (anchor)     wiredesk.pipeline.batch called as plain functions: read, extract, dedup, store, export
  ephemeral, cold     the `ingest` flow, first call in the process: starts Prefect's ephemeral API
  ephemeral, warm     the `ingest` flow, further calls against that ephemeral API
  ephemeral, no hb    warm, with the flow-run heartbeat off (PREFECT_FLOWS_HEARTBEAT_FREQUENCY None):
                      each flow and subflow run joins its heartbeat thread on exit, which costs
  server              the `ingest` flow against `prefect server start` on 127.0.0.1 (own PREFECT_HOME)
  server, no hb       the same with the heartbeat off
The flow does the same work as the anchor plus its task and subflow runs, logs sent to the API
and the two run artifacts. Everything runs in this one process (the server is a subprocess);
the machine is shared, so read the ratios and the added milliseconds, not the absolute times.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Prefect keeps its database under PREFECT_HOME: a private one, so the bench neither reads nor
# fills the user's ~/.prefect, and no configured API URL turns "ephemeral" into something else.
_HOME = Path(tempfile.mkdtemp(prefix="wiredesk-bench-prefect-"))
os.environ["PREFECT_HOME"] = str(_HOME / "client")
os.environ.pop("PREFECT_API_URL", None)
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def seed_dir(given: str | None) -> Path:
    for folder in [Path(given)] if given else [ROOT / "samples" / "seeds", ROOT.parent / "shared" / "data" / "seeds"]:
        if folder.is_dir() and any(folder.glob("*.txt")):
            return folder
    sys.exit("no seed pages: pass --pages DIR (samples/seeds or ../shared/data/seeds are looked for)")


def run_direct(pages: Path, work: Path) -> dict:
    """The anchor: the same run through the Prefect-free pipeline API (no prefect import)."""
    from wiredesk.pipeline import Pipeline

    with Pipeline.open(store=str(work / "store.db"), out=str(work / "corpus.jsonl"), workers=1) as pipe:
        return pipe.run(inputs=[str(pages)])


def run_flow(pages: Path, work: Path) -> dict:
    from wiredesk.flows.ingest import ingest

    return ingest(inputs=[str(pages)], store=str(work / "store.db"), out=str(work / "corpus.jsonl"), workers=1)


def timed(fn, pages: Path, repeat: int) -> tuple[list[float], dict]:
    times, summary = [], {}
    for _ in range(repeat):
        work = Path(tempfile.mkdtemp(prefix="run-", dir=_HOME))
        started = time.perf_counter()
        summary = fn(pages, work)
        times.append(time.perf_counter() - started)
        shutil.rmtree(work, ignore_errors=True)
    return times, summary


def start_server() -> tuple[subprocess.Popen, str, float]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PREFECT_HOME": str(_HOME / "server")}
    prefect = Path(sys.executable).with_name("prefect")
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"prefect server start exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return proc, url, time.perf_counter() - started
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    sys.exit("prefect server start did not answer within 180 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pages", help="folder of page files (default: the five seed pages)")
    parser.add_argument("--no-server", action="store_true", help="skip the `prefect server start` row")
    args = parser.parse_args()
    pages = seed_dir(args.pages)

    run_direct(pages, Path(tempfile.mkdtemp(dir=_HOME)))  # warm-up: imports, extractor models, page cache
    rows: list[tuple[str, float, dict]] = []
    times, anchor_summary = timed(run_direct, pages, args.repeat)
    anchor = statistics.median(times)
    rows.append(("direct (anchor)", anchor, anchor_summary))

    cold, summary = timed(run_flow, pages, 1)
    rows.append(("ephemeral, cold", cold[0], summary))
    times, summary = timed(run_flow, pages, args.repeat)
    rows.append(("ephemeral, warm", statistics.median(times), summary))
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    no_heartbeat = {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    with temporary_settings(updates=no_heartbeat):
        times, summary = timed(run_flow, pages, args.repeat)
    rows.append(("ephemeral, no hb", statistics.median(times), summary))

    server_start = None
    if not args.no_server:
        proc, url, server_start = start_server()
        try:
            with temporary_settings(updates={PREFECT_API_URL: url}):
                run_flow(pages, Path(tempfile.mkdtemp(dir=_HOME)))  # first contact: client, flow registration
                times, summary = timed(run_flow, pages, args.repeat)
                rows.append(("server", statistics.median(times), summary))
                with temporary_settings(updates=no_heartbeat):
                    times, summary = timed(run_flow, pages, args.repeat)
                rows.append(("server, no hb", statistics.median(times), summary))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    stored = {name: (s.get("pages_read"), s.get("stored")) for name, _, s in rows}
    if len(set(stored.values())) != 1:
        sys.exit(f"the runs did different work: {stored}")
    pages_read, new = next(iter(stored.values()))
    print(
        f"{pages_read} pages -> {new} stored articles per run; median of {args.repeat} runs; "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    print(f"{'variant':<18} {'seconds':>8} {'x anchor':>9} {'added ms':>9}")
    for name, seconds, _ in rows:
        print(f"{name:<18} {seconds:8.3f} {seconds / anchor:9.2f} {1000 * (seconds - anchor):9.0f}")
    if server_start is not None:
        print(f"(`prefect server start` took {server_start:.1f} s to answer /health; not in the rows)")
    shutil.rmtree(_HOME, ignore_errors=True)


if __name__ == "__main__":
    main()
