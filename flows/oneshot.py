"""A one-shot `wiredesk run` of one source against a running Prefect server, on both cores.

The run is the ``ingest`` flow run on that server, as any `wiredesk run` with a server is; its two
halves start at once in two processes instead of one after the other:

- the **flow-run process** (forked by the CLI at the very start, before anything heavy is imported)
  imports Prefect (~1 s), creates the ``ingest`` flow run with the run's parameters and runs it with
  Prefect's own flow engine: states (Running, then Completed or Failed), logs, the run's artifacts
  (per-source table, summary, the source's row) and, once done, its logs and events sent to the API;
- the **CLI process** meanwhile imports the pipeline (~1 s), checks the inputs, opens the store and,
  once the flow run is Running, runs the pipeline (``run_ingest``, the function the ``ingest`` flow
  runs) with the flow run's id as the run's id: nothing is written to the store before the flow run
  is Running. The summary goes to the flow run, which returns it as its result.

A flow run on a server therefore costs the larger of the two halves, not their sum. What differs from
the ``ingest`` flow run in one process: the source's batches are not task runs (the pipeline runs
in the other process) and there is no progress artifact. Either process dying ends the other's part
with an error: the flow run ends Failed if the CLI process dies, and the CLI reports a one-line error
if the flow-run process dies or the server cannot be reached. Nothing here is imported by the flow-run
process but Prefect, this module and ``flows.artifacts`` (with the light ``pipeline.report``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from wiredesk.core.errors import WiredeskError

FINAL_WAIT_S = 120.0  # the flow-run process's end (final state, logs and events sent) after the pipeline's


def _updated(model: Any, updates: dict[str, Any]) -> Any:
    """A copy of a pydantic settings model with nested fields replaced (no re-validation)."""
    changes = {
        key: _updated(getattr(model, key), value) if isinstance(value, dict) else value
        for key, value in updates.items()
    }
    return model.model_copy(update=changes)


@contextmanager
def settings_updated(updates: dict[str, Any]) -> Iterator[None]:
    """Prefect's current settings with ``updates`` (nested: ``{"api": {"url": ...}}``) for the block.

    What ``prefect.settings.temporary_settings`` does, without its cost: it builds the settings anew
    from every source (environment, profile, files) and validates them, 0.15-0.4 s of a one-shot
    run's start-up; here the settings in use are copied with the few fields changed."""
    from prefect.context import SettingsContext

    current = SettingsContext.get()
    assert current is not None  # prefect always has its global settings context
    with SettingsContext(profile=current.profile, settings=_updated(current.settings, updates)):
        yield


def drain_to_api(timeout_s: float = 10.0) -> None:
    """Send this process's queued run logs and events to the API now (Prefect does it at exit): before
    an embedded server this process started is stopped, or before a process ends with ``os._exit``."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        try:
            worker.drain_all(timeout=timeout_s)
        except Exception:  # noqa: BLE001 - bookkeeping only: the run itself is done and recorded
            pass


def _plain(value: Any) -> bool:
    if value is None or isinstance(value, str | bool | int | float):
        return True
    return isinstance(value, list | tuple) and all(_plain(item) for item in value)


def serialize_plain_parameters(flow_fn: Any) -> None:
    """``ingest``'s parameters are JSON already (strings, lists of strings, numbers, booleans, None).
    Prefect encodes a flow run's parameters with FastAPI's ``jsonable_encoder``, whose import (0.3 s
    idle, the whole of FastAPI) is the largest single cost of creating a one-shot flow run; for plain
    values it returns them as they are, which this does without the import. Any other value: Prefect's
    own encoder, unchanged."""
    encode = flow_fn.serialize_parameters

    def serialize(parameters: dict[str, Any]) -> dict[str, Any]:
        if all(_plain(value) for value in parameters.values()):
            return {key: list(value) if isinstance(value, tuple) else value for key, value in parameters.items()}
        return encode(parameters)

    flow_fn.serialize_parameters = serialize


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip().rstrip(":")[:500]


class FlowRunProcess:
    """The flow-run half of a one-shot run (see the module docstring), forked when made.

    In the CLI process: ``start()`` once the run's inputs are checked (or ``abort()``: no flow run is
    made), ``wait_running()`` for the flow run's id, then ``finish(summary, tallies)`` or
    ``fail(exc)``, and ``close()`` waits for the flow run's final state."""

    def __init__(self, api_url: str, parameters: dict[str, Any]) -> None:
        from multiprocessing.connection import Pipe

        ours, theirs = Pipe()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # nothing buffered is printed twice
        pid = os.fork()
        if pid == 0:  # the flow-run process: it never returns from here
            ours.close()
            status = 1
            try:
                status = _flow_run_process(theirs, api_url, parameters)
            finally:
                os._exit(status)
        theirs.close()
        self.pid = pid
        self._conn = ours
        self.api_url = api_url
        self.running_at: float | None = None
        self.final: tuple[str, str] | None = None  # the flow run's final state (type, name)
        self._reaped = False
        self._started = False

    def _recv(self, waiting_for: str) -> tuple[Any, ...]:
        try:
            message = self._conn.recv()
        except (EOFError, OSError):
            status = self._reap()
            raise WiredeskError(
                f"the Prefect flow-run process ended ({status}) before {waiting_for}", reason="prefect-server"
            ) from None
        if message[0] == "error":
            raise WiredeskError(f"the flow run on {self.api_url} failed: {message[1]}", reason="prefect-server")
        return message

    def start(self) -> None:
        self._started = True
        self._conn.send(("start",))

    def abort(self) -> None:
        """End the flow-run process: at once if it was never told to start (no flow run exists: the
        inputs were wrong, or the run was interrupted first), else once its flow run has ended."""
        if not self._started and not self._reaped:
            try:
                os.kill(self.pid, 9)
            except ProcessLookupError:
                pass
        self.close()

    def ready(self) -> bool:
        """Whether it has news (its flow run is Running, or it failed) without waiting."""
        return self._conn.poll(0)

    def wait_running(self) -> str:
        """The flow run's id, once it is Running; a one-line error if it could not be made."""
        message = self._recv("its flow run was running")
        self.running_at = time.monotonic()
        return str(message[1])

    def finish(self, summary: dict[str, Any], tallies: Sequence[Any]) -> None:
        self._conn.send(("done", summary, list(tallies)))
        self._await_final()

    def fail(self, exc: BaseException) -> None:
        try:
            self._conn.send(("failed", _one_line(exc)))
        except OSError:
            return
        try:
            self._await_final()
        except WiredeskError:
            pass

    def _await_final(self) -> None:
        if self._conn.poll(FINAL_WAIT_S):
            message = self._recv("its flow run's final state was set")
            self.final = (message[1], message[2])
            self._reap()  # it ends right after: its CPU counts in the run's

    def _reap(self, timeout_s: float = 10.0) -> int | None:
        deadline = time.monotonic() + timeout_s
        while True:
            if self._reaped:
                return None
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self._reaped = True
                return None
            if pid:
                self._reaped = True
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() > deadline:
                os.kill(self.pid, 9)
                timeout_s, deadline = 0, time.monotonic() + 5
            time.sleep(0.01)

    def close(self, timeout_s: float = FINAL_WAIT_S) -> None:
        self._conn.close()
        if not self._reaped:
            self._reap(timeout_s)


# -- the flow-run process -------------------------------------------------------------------------

_CONN: Any = None  # the pipe to the CLI process, in the flow-run process


def _flow_run_process(conn: Any, api_url: str, parameters: dict[str, Any]) -> int:
    """Import Prefect, wait for the go, run the ``ingest`` flow run; the process's exit status."""
    global _CONN
    _CONN = conn
    os.environ["PREFECT_API_URL"] = api_url  # before prefect's settings are first read
    try:
        flow_fn = ingest_flow()
        if conn.recv()[0] != "start":
            return 0
        with settings_updated({"flows": {"heartbeat_frequency": None}, "api": {"url": api_url}}):
            state = flow_fn(**parameters, return_state=True)
        import logging

        # Its final events are still queued when the drain begins: Prefect warns so, to no purpose here.
        logging.getLogger("EventsWorker").setLevel(logging.ERROR)
        drain_to_api()
        conn.send(("final", state.type.value, state.name))
        return 0
    except (EOFError, KeyboardInterrupt):
        return 1
    except BaseException as exc:  # noqa: BLE001 - the CLI process reports it, in one line
        try:
            conn.send(("error", _one_line(exc)))
        except OSError:
            pass
        return 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass


def _ingest(
    inputs: list[str] | None = None,
    sources: list[str] | None = None,
    manifest: str | None = None,
    config_path: str | None = None,
    store: str | None = None,
    out: str | None = None,
    export_format: str | None = None,
    include_duplicates: bool | None = None,
    export: bool = True,
    dry_run: bool = False,
    limit: int | None = None,
    since: str | None = None,
    batch_size: int | None = None,
    workers: int | None = None,
    signatures: bool | None = None,
    fail_on: str = "source",
) -> Any:
    """Discover, fetch or read, extract, deduplicate, store and export pages.

    The ``ingest`` flow (``wiredesk.flows.ingest.ingest``, the same name and parameters) of a one-shot
    run whose pipeline runs in the CLI process: this flow run tells that process it is Running, waits
    for its summary, logs and publishes it, and ends Failed when ``fail_on`` says the run failed.
    """
    from prefect import get_run_logger
    from prefect.runtime import flow_run

    from wiredesk.flows.artifacts import publish_run_artifacts, publish_source_artifact
    from wiredesk.pipeline.report import run_failed

    _CONN.send(("running", str(flow_run.get_id())))
    try:
        message = _CONN.recv()
    except EOFError:
        raise RuntimeError("the wiredesk process running the pipeline ended before the run did") from None
    if message[0] == "failed":
        raise RuntimeError(message[1])
    _, summary, tallies = message
    logger = get_run_logger()
    for tally in tallies:
        logger.info("source %s: %s", tally.source, tally.as_row())
        publish_source_artifact(tally)
    publish_run_artifacts(summary, tallies)
    failed = run_failed(summary, fail_on)
    if failed:
        from prefect.states import Failed

        return Failed(message=failed, data=summary)
    return summary


def ingest_flow() -> Any:
    """The ``ingest`` flow as this module runs it (declared on first use: it imports Prefect)."""
    from prefect import flow

    flow_fn = flow(name="ingest", persist_result=False, validate_parameters=True)(_ingest)
    serialize_plain_parameters(flow_fn)
    return flow_fn
