"""Helpers for the schedule tests: ports, `wiredesk serve` and `prefect server start` as real
processes, and reading flow runs straight from a Prefect server's REST API (plain httpx, so
the test process needs no Prefect client settings of its own)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "samples" / "seeds"
# Ports a test's servers may use (several people share a test machine): WIREDESK_TEST_PORTS=LOW-HIGH.
PORTS = os.environ.get("WIREDESK_TEST_PORTS", "27000-27999")


def free_port() -> int:
    low, high = (int(x) for x in PORTS.split("-"))
    start = low + os.getpid() % (high - low + 1)  # spread concurrent sessions over the range
    for offset in range(high - low + 1):
        port = low + (start - low + offset) % (high - low + 1)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS}")


def prefect_env(**extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        **extra,
    }
    for name in ("PYTEST_CURRENT_TEST", "PREFECT_API_URL", "PREFECT_UI_URL"):
        env.pop(name, None)
    env.update(extra)
    return env


def start(argv: list[str], env: dict[str, str], log: Path, *, cwd: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out)


def wiredesk(*args: str) -> list[str]:
    return [sys.executable, "-m", "wiredesk.cli", *args]


def stop(proc: subprocess.Popen, *, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def wait_for(
    what: str,
    check: Callable[[], Any],
    *,
    timeout: float,
    procs: tuple = (),
    log: Path | None = None,
    every: float = 1.0,
):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        for proc in procs:
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-3000:] if log else ""
                raise AssertionError(f"{proc.args[:4]} exited ({proc.returncode}) while waiting for {what}: {tail}")
        time.sleep(every)
    tail = log.read_text(errors="replace")[-3000:] if log else ""
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}: {tail}")


def start_serve(
    argv_for: Callable[[int], list[str]],
    env: dict[str, str],
    log: Path,
    *,
    cwd: Path,
    home: Path,
    port: int | None = None,
    timeout: float = 300,
    tries: int = 5,
) -> tuple[subprocess.Popen, int]:
    """Start `wiredesk serve` with its embedded server on ``port`` (else a free one) and wait until
    that server answers as this serve's own (its record in ``home`` names this process and port).
    A port taken between the probe and the server's bind (free_port cannot hold it) is not a failure
    of serve: it is started again on another port, up to ``tries`` times. Returns it and its port."""
    for _ in range(tries):
        port = port or free_port()
        offset = log.stat().st_size if log.exists() else 0
        proc = start(argv_for(port), env, log, cwd=cwd)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _serves(home, proc.pid, port):
                return proc, port
            if proc.poll() is not None:
                said = log.read_text(errors="replace")[offset:]
                server_log = home / "server.log"
                said += server_log.read_text(errors="replace")[-2000:] if server_log.exists() else ""
                if f"port {port} on 127.0.0.1 is in use" in said or f"Port {port} is already in use" in said:
                    port = None  # taken meanwhile: another one
                    break
                raise AssertionError(f"serve exited ({proc.returncode}) while starting: {said[-3000:]}")
            time.sleep(0.5)
        else:
            stop(proc, sig=signal.SIGKILL)
            raise AssertionError(f"serve's server did not answer on port {port} within {timeout:g}s")
    raise AssertionError(f"no port held for serve's server in {tries} tries")


def start_server(
    home: Path, log: Path, *, cwd: Path, timeout: float = 300, tries: int = 5
) -> tuple[subprocess.Popen, int]:
    """A `prefect server start` of the test's own (state in ``home``) on a free port, once it answers;
    a port taken between the probe and the server's check of it: started again on another."""
    prefect = str(Path(sys.executable).with_name("prefect"))
    for _ in range(tries):
        port = free_port()
        offset = log.stat().st_size if log.exists() else 0
        argv = [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)]
        proc = start(argv, prefect_env(PREFECT_HOME=str(home)), log, cwd=cwd)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                said = log.read_text(errors="replace")[offset:]
                if f"Port {port} is already in use" in said:
                    break
                raise AssertionError(f"prefect server exited ({proc.returncode}) while starting: {said[-3000:]}")
            if healthy(f"http://127.0.0.1:{port}/api") and proc.poll() is None:
                return proc, port
            time.sleep(0.5)
        else:
            stop(proc, sig=signal.SIGKILL)
            raise AssertionError(f"prefect server did not answer on port {port} within {timeout:g}s")
    raise AssertionError(f"no port held for the Prefect server in {tries} tries")


def _serves(home: Path, serve_pid: int, port: int) -> bool:
    import json

    try:
        record = json.loads((home / "server.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if record.get("serve_pid") != serve_pid or not str(record.get("url", "")).endswith(f":{port}"):
        return False
    return healthy(f"http://127.0.0.1:{port}/api")


def healthy(api: str) -> bool:
    try:
        return httpx.get(f"{api}/health", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def deployment(api: str, full_name: str) -> dict[str, Any] | None:
    try:
        found = httpx.get(f"{api}/deployments/name/{full_name}", timeout=10)
    except httpx.HTTPError:
        return None
    return found.json() if found.status_code == 200 else None


def flow_runs(api: str, deployment_id: str) -> list[dict[str, Any]]:
    body = {"deployments": {"id": {"any_": [deployment_id]}}, "sort": "EXPECTED_START_TIME_ASC", "limit": 200}
    try:
        return httpx.post(f"{api}/flow_runs/filter", json=body, timeout=10).json()
    except httpx.HTTPError:
        return []


def scheduler_runs(api: str, full_name: str, *, state: str = "COMPLETED", after: str = "") -> list[dict[str, Any]]:
    """Runs the scheduler service created (``auto_scheduled``) in ``state``, started after ``after`` (ISO)."""
    found = deployment(api, full_name)
    if not found:
        return []
    return [
        run
        for run in flow_runs(api, found["id"])
        if run["auto_scheduled"] and run["state_type"] == state and (run["start_time"] or "") > after
    ]


def seed_config(tmp_path: Path, name: str, *, store: str, pages: int = 3) -> Path:
    """A config with one source on a `* * * * *` schedule reading ``pages`` seed pages."""
    import shutil

    folder = tmp_path / "pages"
    folder.mkdir(exist_ok=True)
    seeds = sorted(SEEDS.glob("*.txt"))
    for i in range(pages):  # more pages than seeds: copies under other names (exact duplicates)
        shutil.copy(seeds[i % len(seeds)], folder / f"{i:03d}-{seeds[i % len(seeds)].name}")
    config = tmp_path / "wiredesk.yaml"
    config.write_text(
        f"""\
store: {{url: "{store}"}}
export: {{out: {tmp_path / "corpus.jsonl"}}}
run: {{workers: 1, batch_size: 1}}
sources:
  - name: {name}
    paths: ["{folder}"]
    schedule: {{cron: "* * * * *"}}
""",
        encoding="utf-8",
    )
    return config
