"""Schedules that fire: Prefect's OWN scheduler service creates and runs a flow run from a
`* * * * *` cron schedule, against the pinned versions, in both ways of serving:

- embedded: `wiredesk serve` with no PREFECT_API_URL starts its local `prefect server start`;
  then `kill -9` of serve: the server goes with it, the run it left Running ends Crashed by the
  restarted serve's recovery (also when the run's own process, outliving serve, reported its
  crash first: tests/test_serve_recovery.py sets up both orders), and the schedule fires again;
- external: a `prefect server start` of our own, `wiredesk serve` against it with a
  PostgreSQL store whose URL holds a password, which must appear nowhere in Prefect's
  database or API.

Slow by nature (a server start, then a cron minute): each waits with a generous bound, since
a loaded 2-core machine needs far longer than an idle one. A Prefect or SQLAlchemy bump that
stops the scheduler (SQLAlchemy 2.1 did) fails here, not for users.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests import scheduling as sch
from tests.services import require_postgres
from wiredesk.flows.recovery import RECOVERED, recovered_message

# Server start (migrations on a new database: up to a few minutes when the machine is busy),
# then up to a minute to the next tick, then the run itself.
FIRE_TIMEOUT_S = 480


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


@pytest.mark.slow
def test_embedded_server_fires_the_schedule_and_recovers_from_kill_9(tmp_path: Path) -> None:
    name = "m" + uuid.uuid4().hex[:8]
    config = sch.seed_config(tmp_path, name, store=str(tmp_path / "store.db"), pages=12)
    home = tmp_path / "prefect"
    log = tmp_path / "serve.log"

    def argv(port: int) -> list[str]:
        return sch.wiredesk("serve", "--config", str(config), "--port", str(port), "--prefect-home", str(home))

    serve, port = sch.start_serve(argv, sch.prefect_env(), log, cwd=tmp_path, home=home)
    api = f"http://127.0.0.1:{port}/api"
    try:
        done = sch.wait_for(
            "a scheduler-created run to complete",
            lambda: sch.scheduler_runs(api, f"ingest/{name}"),
            timeout=FIRE_TIMEOUT_S,
            procs=(serve,),
            log=log,
        )
        assert done[0]["parameters"] == {"sources": [name], "config_path": str(config)}
        # catch a run while it is Running (12 pages, a task per page: seconds), then kill -9
        running = sch.wait_for(
            "a run in Running",
            lambda: sch.scheduler_runs(api, f"ingest/{name}", state="RUNNING"),
            timeout=150,
            procs=(serve,),
            log=log,
            every=0.3,
        )[0]
        server_pid = json.loads((home / "server.json").read_text())["pid"]
        serve.send_signal(signal.SIGKILL)
        serve.wait()
        killed_at = _now_iso()
        sch.wait_for("the server to die with serve", lambda: not sch.alive(server_pid), timeout=60)
    finally:
        sch.stop(serve, sig=signal.SIGKILL)

    # the same port (the killed run's process may still be trying it), unless taken meanwhile
    serve, port = sch.start_serve(argv, sch.prefect_env(), log, cwd=tmp_path, home=home, port=port)
    api = f"http://127.0.0.1:{port}/api"
    try:
        sch.wait_for(
            "a scheduler-created run after the restart",
            lambda: sch.scheduler_runs(api, f"ingest/{name}", after=killed_at),
            timeout=FIRE_TIMEOUT_S,
            procs=(serve,),
            log=log,
        )
        # The killed run ends Crashed by the restarted serve's recovery, whichever side wrote first
        # (all three orders were seen here): recovery finding it Running and its process gone or
        # stopped; the same, with the process reporting its own crash as recovery stopped it; its
        # own process (outliving serve) reporting its crash to the new server before recovery
        # looked, then recovery takes it over and keeps the process's words.
        # A fourth order, since artifacts go from background threads (a refused artifact call no
        # longer fails the run): the run's process rides out the outage (Prefect's client retries)
        # and completes its run on the restarted server before recovery looks; then it is
        # Completed, never left Running, and its pages are stored (the count at the end).
        left = httpx.get(f"{api}/flow_runs/{running['id']}", timeout=10).json()
        assert left["state_type"] in {"CRASHED", "COMPLETED"}, left["state"]
        message = left["state"]["message"] or ""
        history = _state_history(api, running["id"])
        assert history[-1] == (left["state_type"], message), history
        if left["state_type"] == "CRASHED":
            own = [said for kind, said in history[:-1] if kind == "CRASHED"]
            assert message in {RECOVERED, *(recovered_message(said) for said in own)}, history
        stuck = [r for r in sch.scheduler_runs(api, f"ingest/{name}", state="RUNNING") if r["start_time"] < killed_at]
        assert stuck == []
        # trigger finds this serve's server without PREFECT_API_URL, and --wait exits with the outcome
        triggered = sch.wiredesk(
            "trigger", "all", "--config", str(config), "--prefect-home", str(home), "--wait", "300", "--json"
        )
        import subprocess

        out = subprocess.run(triggered, env=sch.prefect_env(), capture_output=True, text=True, timeout=400)
        assert out.returncode == 0, out.stdout[-1000:] + out.stderr[-2000:]
        assert json.loads(out.stdout)["state"] == "Completed" and json.loads(out.stdout)["api_url"] == api
        new_server = json.loads((home / "server.json").read_text())["pid"]
    finally:
        sch.stop(serve)
    assert not sch.alive(new_server) and not (home / "server.json").exists()  # stopped with serve
    with sqlite3.connect(tmp_path / "store.db") as conn:
        assert conn.execute("SELECT count(*) FROM articles WHERE source = ?", (name,)).fetchone() == (12,)


@pytest.mark.slow
@pytest.mark.services
def test_external_server_fires_the_schedule_and_never_sees_the_store_password(tmp_path: Path) -> None:
    pg = require_postgres()
    secret = "wd-pw-" + uuid.uuid4().hex[:12]
    store = _with_password(pg, secret)
    name = "x" + uuid.uuid4().hex[:8]
    config = sch.seed_config(tmp_path, name, store=store, pages=2)
    home = tmp_path / "prefect-server"
    server_log, serve_log = tmp_path / "server.log", tmp_path / "serve.log"
    server, port = sch.start_server(home, server_log, cwd=tmp_path)
    api = f"http://127.0.0.1:{port}/api"
    serve = None
    try:
        serve = sch.start(
            sch.wiredesk("serve", "--config", str(config)),
            sch.prefect_env(PREFECT_API_URL=api),
            serve_log,
            cwd=tmp_path,
        )
        done = sch.wait_for(
            "a scheduler-created run to complete",
            lambda: sch.scheduler_runs(api, f"ingest/{name}"),
            timeout=FIRE_TIMEOUT_S,
            procs=(serve, server),
            log=serve_log,
        )
        assert done[0]["parameters"] == {"sources": [name], "config_path": str(config)}
        api_text = _everything_the_api_shows(api)
        sch.stop(serve)
        # stopping serve leaves the schedules active (workers or the next serve run them)
        assert sch.deployment(api, f"ingest/{name}")["paused"] is False
    finally:
        if serve is not None:
            sch.stop(serve)
        sch.stop(server)
    assert name in api_text  # the search below looks at the right server
    assert secret not in api_text
    for file in home.rglob("*"):
        if file.is_file():
            assert secret.encode() not in file.read_bytes(), file
    assert secret not in serve_log.read_text(errors="replace")
    # and the store really was written, through the password-holding URL
    from sqlalchemy import create_engine, text

    engine = create_engine(store.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM articles WHERE source = :s"), {"s": name}).scalar_one()
    engine.dispose()
    assert stored == 2


def _state_history(api: str, run_id: str) -> list[tuple[str, str]]:
    """A flow run's states, oldest first: (type, message)."""
    states = httpx.get(f"{api}/flow_run_states/", params={"flow_run_id": run_id}, timeout=10).json()
    return [(s["type"], s["message"] or "") for s in sorted(states, key=lambda s: s["timestamp"])]


def _with_password(url: str, secret: str) -> str:
    """The test PostgreSQL URL with a password: its own when it has one, else ``secret`` (a
    local server that trusts loopback ignores it). Skips when the server then refuses."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        return url
    netloc = f"{parts.username or 'postgres'}:{secret}@{parts.hostname}:{parts.port or 5432}"
    with_pw = urlunsplit(parts._replace(netloc=netloc))
    from sqlalchemy import create_engine, text

    engine = create_engine(with_pw.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any refusal: this server wants a real password
        pytest.skip(f"PostgreSQL refuses a made-up password ({type(exc).__name__}); set one in WIREDESK_TEST_POSTGRES")
    finally:
        engine.dispose()
    return with_pw


def _everything_the_api_shows(api: str) -> str:
    """Flow runs, task runs, deployments, logs, artifacts, variables and blocks, as the UI gets them."""
    chunks = []
    for path in (
        "flow_runs/filter",
        "task_runs/filter",
        "deployments/filter",
        "logs/filter",
        "artifacts/filter",
        "variables/filter",
        "block_documents/filter",
        "events/filter",
    ):
        body: dict = {"limit": 200}
        if path == "events/filter":
            body = {"limit": 200, "filter": {"occurred": {"since": "2000-01-01T00:00:00Z"}}}
        response = httpx.post(f"{api}/{path}", json=body, timeout=30)
        chunks.append(f"{path}: {response.status_code} {response.text}")
        time.sleep(0.1)
    return "\n".join(chunks)
