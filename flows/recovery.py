"""After a crash of `wiredesk serve`: runs left in Running or Pending are ended, not left forever.

A ``kill -9`` of serve leaves its flow runs' states where they were. At the next start, before
serving, ``crash_orphaned_runs`` looks at the non-final runs of the deployments it serves:

- with the embedded server (``exclusive``: this serve is the only runner on that database),
  every such run belonged to the dead serve: its process, if still alive, is stopped (it can no
  longer report: its server died with serve) and the run is set Crashed;
- with a shared server, only runs whose recorded process (``host:pid``, written by the flow
  itself at start) lived on this machine and is gone are set Crashed: a run on another machine,
  or one whose process still runs and reports, is not ours to end.

A run's own process may also end it as its serve dies: it outlives serve, cannot reach the
dead server, and reports its own Crashed ("Execution was aborted by Python system exit call.")
to whichever server answers next on that address: the dying one, or the restarted serve's
before recovery reads the runs. Which side writes first is a race, so with the embedded server
recovery also takes over those runs: Crashed after the dead serve was last seen alive (its
heartbeat, ``flows.server.DeadServe``) and not already recovered. Either way the run ends
Crashed with ``RECOVERED`` (plus what its own process had said), set once: the engine's own
later Crashed proposal is refused by the server (a final run cannot go Crashed again), and a
recovered run is not taken over again at a later start.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wiredesk.flows.server import DeadServe

STOP_GRACE_S = 10.0
RECOVERED = "its `wiredesk serve` process died (found at the next start)"


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


def recovered_message(own: str | None = None) -> str:
    """The Crashed message recovery writes; ``own``: what the run's own process had reported."""
    return f"{RECOVERED}; its own process had reported: {own}" if own else RECOVERED


def crash_orphaned_runs(
    deployment_names: Sequence[str], *, exclusive: bool, dead_serve: DeadServe | None = None
) -> list[str]:
    """Set Crashed the runs of these deployments that a dead serve left unfinished; returns their names.

    ``dead_serve`` (embedded server only): the serve before this one died without stopping; runs
    its flow processes set Crashed themselves as it died are taken over too.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterEndTime,
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
        ours = DeploymentFilter(id=DeploymentFilterId(any_=ids))
        unfinished = [StateType.RUNNING, StateType.PENDING, StateType.CANCELLING]
        runs: list[Any] = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=unfinished))),
            deployment_filter=ours,
        )
        taken_over: list[Any] = []
        if exclusive and dead_serve is not None:
            # Crashed by their own process once their serve was gone (end time: the Crashed state's)
            taken_over = [
                run
                for run in client.read_flow_runs(
                    flow_run_filter=FlowRunFilter(
                        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.CRASHED])),
                        end_time=FlowRunFilterEndTime(after_=dead_serve.last_seen),
                    ),
                    deployment_filter=ours,
                )
                # one found Running above and Crashed by its process since is already in ``runs``
                if _ended_by_itself(run, dead_serve) and run.id not in {r.id for r in runs}
            ]
        for run, own in [*((run, None) for run in runs), *((run, run.state.message) for run in taken_over)]:
            pid = _pid_on_this_host(run.infrastructure_pid)
            if not exclusive and (pid is None or _alive(pid)):
                continue
            if pid is not None and _alive(pid):  # a process still exiting, or one that outlived its serve
                _stop(pid)
            client.set_flow_run_state(run.id, Crashed(message=recovered_message(own)), force=True)
            ended.append(run.name)
    return ended


def _ended_by_itself(run: Any, dead_serve: DeadServe) -> bool:
    """A Crashed run its own process ended after its serve was last seen alive (not recovery's)."""
    state = run.state
    if state is None or state.timestamp is None or (state.message or "").startswith(RECOVERED):
        return False
    return bool(state.timestamp >= dead_serve.last_seen)
