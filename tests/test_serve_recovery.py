"""serve's recovery after a `kill -9`, both orders of its race with the dying flow-run process.

When serve dies, the flow-run process it started may outlive it and report its own Crashed
state ("Execution was aborted by Python system exit call.") to whichever server answers, or still
be Running when the restarted serve looks. Recovery must end the run the same way in both
orders: Crashed with its own message (``RECOVERED``), once. Built here with the session's real
Prefect test server and a real deployment, each order set up deterministically; the end-to-end
`kill -9` is in tests/test_schedules_fire.py.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from wiredesk.flows import server as local_server
from wiredesk.flows.recovery import RECOVERED, crash_orphaned_runs, recovered_message
from wiredesk.flows.server import SERVER_RECORD, DeadServe, dead_serve

pytestmark = pytest.mark.prefect

OWN_EXIT = "Execution was aborted by Python system exit call."


def _deployment() -> tuple[str, Any]:
    """A deployment of its own (unique flow name: other tests share the server); its full name and id."""
    from prefect.client.orchestration import get_client

    flow_name = "recovery-" + uuid.uuid4().hex[:8]
    with get_client(sync_client=True) as client:
        flow_id = client.create_flow_from_name(flow_name)
        deployment_id = client.create_deployment(flow_id=flow_id, name="src")
    return f"{flow_name}/src", deployment_id


def _run(deployment_id: Any, *, pid: int | None = None) -> Any:
    """A flow run of the deployment, Running, with its process recorded as the flow records it."""
    from prefect.client.orchestration import get_client
    from prefect.states import Running

    with get_client(sync_client=True) as client:
        run = client.create_flow_run_from_deployment(deployment_id)
        client.set_flow_run_state(run.id, Running(), force=True)
        if pid is not None:
            client.update_flow_run(run.id, infrastructure_pid=f"{socket.gethostname()}:{pid}")
        return client.read_flow_run(run.id)


def _own_crash(run_id: Any, message: str = OWN_EXIT) -> Any:
    """The run's own process reporting its crash, as the engine does (a proposal, not forced)."""
    from prefect.client.orchestration import get_client
    from prefect.states import Crashed

    with get_client(sync_client=True) as client:
        return client.set_flow_run_state(run_id, Crashed(message=message))


def _read(run_id: Any) -> Any:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id)


def _history(run_id: Any) -> list[tuple[str, str]]:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        states = client.read_flow_run_states(run_id)
    return [(s.type.value, s.message or "") for s in sorted(states, key=lambda s: s.timestamp)]


def _dead_pid() -> int:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    return gone.pid


def _just_died() -> DeadServe:
    """A serve last seen alive a moment ago, started a minute before."""
    now = datetime.now(UTC)
    return DeadServe(serve_pid=_dead_pid(), started=now - timedelta(minutes=1), last_seen=now)


def test_serve_wins_the_race_a_run_left_running_is_set_crashed_by_recovery() -> None:
    name, deployment_id = _deployment()
    died = _just_died()
    run = _run(deployment_id, pid=_dead_pid())

    assert crash_orphaned_runs([name], exclusive=True, dead_serve=died) == [run.name]

    after = _read(run.id)
    assert after.state.type.value == "CRASHED" and after.state.message == RECOVERED
    # the dying process's own report, arriving after recovery, cannot replace it
    assert _own_crash(run.id).status.value == "ABORT"
    assert _read(run.id).state.message == RECOVERED
    assert crash_orphaned_runs([name], exclusive=True, dead_serve=died) == []  # set once


def test_the_process_wins_the_race_recovery_takes_over_the_run_it_crashed_itself() -> None:
    name, deployment_id = _deployment()
    died = _just_died()
    run = _run(deployment_id, pid=_dead_pid())
    assert _own_crash(run.id).status.value == "ACCEPT"  # before the restarted serve looks
    assert _read(run.id).state.message == OWN_EXIT

    assert crash_orphaned_runs([name], exclusive=True, dead_serve=died) == [run.name]

    after = _read(run.id)
    assert after.state.type.value == "CRASHED"
    assert after.state.message == recovered_message(OWN_EXIT)
    assert after.state.message.startswith(RECOVERED) and OWN_EXIT in after.state.message
    assert [t for t, _ in _history(run.id)][-2:] == ["CRASHED", "CRASHED"]
    # taken over once: the same dead serve seen again (or a later start) changes nothing
    state_id = after.state.id
    assert crash_orphaned_runs([name], exclusive=True, dead_serve=died) == []
    assert _read(run.id).state.id == state_id


def test_the_process_reports_while_recovery_stops_it_recovery_still_has_the_last_word(tmp_path: Path) -> None:
    """The interleaving in between: recovery finds the run Running, its process still alive; stopped
    (SIGTERM), the process reports its own Crashed as it exits, then recovery writes."""
    from prefect.settings import PREFECT_API_URL

    name, deployment_id = _deployment()
    died = _just_died()
    run = _run(deployment_id)
    script = tmp_path / "dying_flow_run.py"
    script.write_text(
        f"""\
import os, signal, sys, time
from prefect.client.orchestration import get_client
from prefect.states import Crashed

def own_crash(signum, frame):
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(sys.argv[1], Crashed(message={json.dumps("Execution was aborted by a termination signal.")}))
    os._exit(1)

signal.signal(signal.SIGTERM, own_crash)
print("ready", flush=True)
time.sleep(600)
""",
        encoding="utf-8",
    )
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PYTEST_CURRENT_TEST", None)
    # "prefect" in its command line: recovery only stops a process that is a Prefect flow run
    proc = subprocess.Popen(
        [sys.executable, str(script), str(run.id), "prefect-flow-run"], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            client.update_flow_run(run.id, infrastructure_pid=f"{socket.gethostname()}:{proc.pid}")

        assert crash_orphaned_runs([name], exclusive=True, dead_serve=died) == [run.name]
        assert proc.wait(timeout=30) == 1  # it ran its handler: its own report went in first
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert _history(run.id)[-2:] == [
        ("CRASHED", "Execution was aborted by a termination signal."),
        ("CRASHED", RECOVERED),
    ]


def test_the_process_reports_between_recoverys_two_reads_the_run_is_ended_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Recovery reads the unfinished runs, then the Crashed ones: a run Crashed by its process in
    between is in both answers, and is ended once."""
    from prefect.client.orchestration import SyncPrefectClient

    name, deployment_id = _deployment()
    died = _just_died()
    run = _run(deployment_id, pid=_dead_pid())
    reads = []
    read_flow_runs = SyncPrefectClient.read_flow_runs

    def then_the_process_reports(self: Any, *args: Any, **kwargs: Any) -> Any:
        found = read_flow_runs(self, *args, **kwargs)
        reads.append([r.id for r in found])
        if len(reads) == 1:
            assert _own_crash(run.id).status.value == "ACCEPT"
        return found

    monkeypatch.setattr(SyncPrefectClient, "read_flow_runs", then_the_process_reports)
    assert crash_orphaned_runs([name], exclusive=True, dead_serve=died) == [run.name]
    assert reads == [[run.id], [run.id]]  # found Running, then Crashed
    assert [m for t, m in _history(run.id) if t == "CRASHED"] == [OWN_EXIT, RECOVERED]


def test_crashes_that_are_not_the_dead_serves_are_left_alone() -> None:
    name, deployment_id = _deployment()
    earlier = _run(deployment_id, pid=_dead_pid())
    assert _own_crash(earlier.id).status.value == "ACCEPT"  # ended while its serve still ran
    time.sleep(0.05)
    died = _just_died()
    later = _run(deployment_id, pid=_dead_pid())
    assert _own_crash(later.id).status.value == "ACCEPT"

    # serve stopped cleanly (no record left): nothing died with it
    assert crash_orphaned_runs([name], exclusive=True, dead_serve=None) == []
    # a shared server: a run that reported its own end is not ours to re-label
    assert crash_orphaned_runs([name], exclusive=False, dead_serve=died) == []
    assert _read(later.id).state.message == OWN_EXIT
    # the dead serve: only the run that ended after it was last seen alive
    assert crash_orphaned_runs([name], exclusive=True, dead_serve=died) == [later.name]
    assert _read(earlier.id).state.message == OWN_EXIT
    assert _read(later.id).state.message == recovered_message(OWN_EXIT)


# -- the record that dates a serve ------------------------------------------------------------------


def test_dead_serve_reads_the_record_a_killed_serve_left(tmp_path: Path) -> None:
    assert dead_serve(tmp_path) is None  # no record: the last serve stopped cleanly (or none ran)
    started = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)
    record = tmp_path / SERVER_RECORD
    record.write_text(json.dumps({"pid": 1, "pgid": 1, "serve_pid": 4321, "started": started.isoformat()}))
    beat = datetime(2026, 12, 4, 20, 30, tzinfo=UTC).timestamp()
    os.utime(record, (beat, beat))
    assert dead_serve(tmp_path) == DeadServe(
        serve_pid=4321, started=started, last_seen=datetime.fromtimestamp(beat, UTC)
    )
    record.write_text(json.dumps({"pid": 1, "pgid": 1, "serve_pid": 4321}))  # an older serve's record
    found = dead_serve(tmp_path)
    assert found is not None and found.started is None and found.serve_pid == 4321
    record.write_text("{not json")
    assert dead_serve(tmp_path) is None


def test_the_heartbeat_touches_the_record_until_serve_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    monkeypatch.setattr(local_server, "HEARTBEAT_S", 0.05)
    record = tmp_path / SERVER_RECORD
    record.write_text("{}")
    os.utime(record, (1_000_000, 1_000_000))
    stopped = threading.Event()
    beating = threading.Thread(target=local_server._beat, args=(record, stopped))
    beating.start()
    deadline = time.monotonic() + 30
    while record.stat().st_mtime == 1_000_000 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert record.stat().st_mtime > 1_000_000
    stopped.set()
    beating.join(timeout=30)
    assert not beating.is_alive()
    record.unlink()  # serve's stop() removes the record; a beat after that must not recreate it
    monkeypatch.setattr(local_server, "HEARTBEAT_S", 0.01)
    again = threading.Thread(target=local_server._beat, args=(record, threading.Event()))
    again.start()
    again.join(timeout=30)
    assert not again.is_alive() and not record.exists()


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace_period(monkeypatch: pytest.MonkeyPatch) -> None:
    """Recovery's stop does not depend on the process cooperating: SIGKILL after the grace period."""
    from wiredesk.flows import recovery

    monkeypatch.setattr(recovery, "STOP_GRACE_S", 0.5)
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(600)"
    # "prefect" in its command line: recovery only stops a process that is a Prefect flow run
    proc = subprocess.Popen([sys.executable, "-c", code, "prefect"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        recovery._stop(proc.pid)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
