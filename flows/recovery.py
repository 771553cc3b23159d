"""After a crash of `wiredesk serve`: runs left in Running or Pending are ended, not left forever.

A ``kill -9`` of serve leaves its flow runs' states where they were. At the next start, before
serving, ``crash_orphaned_runs`` looks at the non-final runs of the deployments it serves:

- with the embedded server (``exclusive``: this serve is the only runner on that database),
  every such run belonged to the dead serve: its process, if still alive, is stopped (it can no
  longer report: its server died with serve) and the run is set Crashed;
- with a shared server, only runs whose recorded process (``host:pid``, written by the flow
  itself at start) lived on this machine and is gone are set Crashed: a run on another machine,
  or one whose process still runs and reports, is not ours to end.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Sequence
from typing import Any

STOP_GRACE_S = 10.0


def _pid_on_this_host(infrastructure_pid: str | None) -> int | None:
    host, _, pid = (infrastructure_pid or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    return int(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_flow_run_process(pid: int) -> bool:
    """A Prefect flow-run process, not an unrelated one that reused the pid."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"prefect" in f.read()
    except OSError:
        return False


def _stop(pid: int) -> None:
    if not _is_flow_run_process(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_GRACE_S
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def crash_orphaned_runs(deployment_names: Sequence[str], *, exclusive: bool) -> list[str]:
    """Set Crashed the runs of these deployments that a dead serve left unfinished; returns their names."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.exceptions import ObjectNotFound
    from prefect.states import Crashed

    ended: list[str] = []
    with get_client(sync_client=True) as client:
        ids = []
        for name in deployment_names:
            try:
                ids.append(client.read_deployment_by_name(name).id)
            except ObjectNotFound:  # a first serve: nothing registered yet
                continue
        if not ids:
            return ended
        unfinished = [StateType.RUNNING, StateType.PENDING, StateType.CANCELLING]
        runs: list[Any] = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=unfinished))),
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=ids)),
        )
        for run in runs:
            pid = _pid_on_this_host(run.infrastructure_pid)
            if not exclusive and (pid is None or _alive(pid)):
                continue
            if pid is not None and _alive(pid):
                _stop(pid)
            client.set_flow_run_state(
                run.id,
                Crashed(message="its `wiredesk serve` process died (found at the next start)"),
                force=True,
            )
            ended.append(run.name)
    return ended
