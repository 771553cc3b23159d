"""The Prefect flows: ``ingest`` (a task run or a subflow per source, batch tasks) and ``export``.

A thin shell over ``wiredesk.pipeline``: the run, the sources and the batches are the
pipeline's own functions (``run_ingest``, ``run_source``, ``ingest_file_batch``,
``fetch_batch``); here they become a flow, a task run per source (``run.source_runs: task``,
the default: its web discovery and batches run inside it) or a subflow per source (its
batches task runs), and a task run per batch of page files (never per page). Task results
are small tallies: pages are streamed to the store.
"""

from __future__ import annotations

import contextvars
import functools
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from wiredesk.config import SourceConfig
from wiredesk.fetching import Discovered, Fetcher, SourceSpec
from wiredesk.fetching.files import InputFile, load_manifest
from wiredesk.flows.artifacts import (
    RunProgress,
    SharedProgress,
    artifacts_sent_in_background,
    publish_run_artifacts,
    publish_source_artifact,
    publish_sources_artifact,
)
from wiredesk.flows.oneshot import serialize_plain_parameters, settings_updated
from wiredesk.flows.runners import with_task_runner
from wiredesk.pipeline import batch as pipeline
from wiredesk.pipeline import sources as plain
from wiredesk.pipeline.archives import Archive
from wiredesk.pipeline.report import Progress, SourceTally, check_fail_on, run_failed
from wiredesk.pipeline.run import export_stages, resolve_config, run_ingest
from wiredesk.pipeline.sources import Job

_TASK_OPTIONS: dict[str, Any] = dict(
    cache_policy=NO_CACHE,  # inputs are live objects (store, index): never cache on them
    cache_result_in_memory=False,
    persist_result=False,
    retries=2,
    retry_delay_seconds=[1, 5],
    retry_jitter_factor=0.5,
    # Only infrastructure hiccups are worth a retry: page-level problems are already
    # recorded as failures inside the batch and never raise.
    retry_condition_fn=lambda task, run, state: _is_transient(state),
)


def _is_transient(state: Any) -> bool:
    from wiredesk.core.errors import StoreError

    try:
        state.result()
    except StoreError:
        return True
    except Exception:
        return False
    return False


@task(name="ingest-files", **_TASK_OPTIONS)
def ingest_file_batch(stages: pipeline.Stages, prepared: pipeline.PreparedBatch) -> SourceTally:
    """One batch of page files, read and handed to extraction by the source's subflow: its
    results deduplicated and stored (one transaction). The next batch extracts meanwhile."""
    return plain.stored_on_owner(stages, prepared)


@task(name="ingest-files-remote", **_TASK_OPTIONS)
def ingest_file_batch_remote(
    spec: pipeline.RunSpec, paths: Sequence[InputFile], *, source: str, named_source: bool, manifest: str | None
) -> SourceTally:
    """The same batch on a Dask worker: it opens the run's stages in its own process."""
    stages = pipeline.stages_for(spec)
    entries = load_manifest(manifest) if manifest else None
    return plain.ingest_file_batch(stages, paths, source=source, named_source=named_source, manifest=entries)


@task(name="ingest-archive", task_run_name="{archive.location}", **_TASK_OPTIONS)
def ingest_archive_task(stages: pipeline.Stages, archive: Archive, job: Job, since: str | None) -> SourceTally:
    """One WARC/ARC file, whole (never a task per record): its pages are batched inside."""
    return plain.archive_unit(stages, archive, job, since)


@task(name="ingest-archive-remote", task_run_name="{archive.location}", **_TASK_OPTIONS)
def ingest_archive_remote(spec: pipeline.RunSpec, archive: Archive, job: Job, since: str | None) -> SourceTally:
    """The same file on a Dask worker: it opens the run's stages in its own process."""
    return plain.archive_unit_remote(spec, archive, job, since)


@task(
    name="discover-source",
    cache_policy=NO_CACHE,
    persist_result=False,
    cache_result_in_memory=False,
    retries=1,
    retry_delay_seconds=5,
)
def discover_task(fetcher: Fetcher, spec: SourceSpec, tally: SourceTally) -> list[Discovered]:
    return plain.discover(fetcher, spec, tally)


@task(name="fetch-batch", cache_policy=NO_CACHE, persist_result=False, cache_result_in_memory=False)
def fetch_batch_task(stages: pipeline.Stages, fetcher: Fetcher, batch: Sequence[Discovered]) -> SourceTally:
    return plain.fetch_batch(stages, fetcher, batch)


class TaskRunner:
    """The pipeline's ``BatchRunner`` as Prefect task runs, with progress artifacts. With the
    Dask task runner, a source's file batches run at once on the cluster; each takes the
    store's writer lock only for its dedup-and-write step."""

    def file_batches(
        self, stages: pipeline.Stages, spec: pipeline.RunSpec, files: Sequence[InputFile], job: Job
    ) -> Iterator[tuple[int, SourceTally]]:
        if stages.config.run.task_runner == "dask":
            batches = [list(batch) for batch in pipeline.chunks(files, stages.config.run.batch_size)]
            futures = [
                ingest_file_batch_remote.submit(
                    spec, batch, source=job.source, named_source=job.named_source, manifest=job.manifest
                )
                for batch in batches
            ]
            for batch, future in zip(batches, futures):
                yield len(batch), future.result()
            return
        yield from plain.feed_file_batches(stages, job, files, _bounded(ingest_file_batch, stages))

    def archives(
        self, stages: pipeline.Stages, spec: pipeline.RunSpec, archives: Sequence[Archive], job: Job, since: str | None
    ) -> Iterator[SourceTally]:
        """A task run per archive file; with Dask, all of a source's files at once on the cluster."""
        if stages.config.run.task_runner == "dask":
            futures = [ingest_archive_remote.submit(spec, archive, job, since) for archive in archives]
            for future in futures:
                yield future.result()
            return
        for archive in archives:
            yield ingest_archive_task(stages, archive, job, since)

    def discover(self, fetcher: Fetcher, spec: SourceSpec, tally: SourceTally) -> list[Discovered]:
        if _in_task_run():
            return _discover_inline(fetcher, spec, tally)
        return discover_task(fetcher, spec, tally)

    def fetch_batch(self, stages: pipeline.Stages, fetcher: Fetcher, batch: Sequence[Discovered]) -> SourceTally:
        if _in_task_run():
            return _fetch_batch_inline(stages, fetcher, batch)
        return _bounded(fetch_batch_task, stages)(stages, fetcher, batch)

    def progress(self, total: int, description: str) -> Progress:
        shared = _SHARED_PROGRESS.get()
        if shared is not None:  # a source of a shared ingest-sources task run: its one progress artifact
            return shared.part(total, description)
        return RunProgress(total, description=description)


# The progress artifact of the shared ``ingest-sources`` task run this source runs in, if any.
_SHARED_PROGRESS: ContextVar[SharedProgress | None] = ContextVar("wiredesk_shared_progress", default=None)


TASKS = TaskRunner()


def _in_task_run() -> bool:
    """Whether this runs inside a task run: a source's ``ingest-source`` task run
    (``run.source_runs: task``). Its discovery and web batches then run in it, not as task runs
    nested in it: those cost the client and the server more than a crawl's batch of a few pages
    (a 100-source crawl under a running server: 25 s with them, 20 s without, idle bound 8 s).
    The source's task run keeps its name, state, log line and artifact; its batches' steps are
    those of ``discover_task`` and ``fetch_batch_task``, done here."""
    from prefect.context import TaskRunContext

    return TaskRunContext.get() is not None


def _discover_inline(fetcher: Fetcher, spec: SourceSpec, tally: SourceTally) -> list[Discovered]:
    """``discover_task``'s work and its one retry after 5 s (the fetcher records a site's own
    failures and never raises for them: what raises is the store, worth a second try)."""
    try:
        return plain.discover(fetcher, spec, tally)
    except Exception as exc:  # noqa: BLE001 - retried once, as the task would be
        get_run_logger().warning("discovery of %s failed (%s): retrying in 5 s", spec.name, exc)
        time.sleep(5)
        return plain.discover(fetcher, spec, tally)


def _fetch_batch_inline(stages: pipeline.Stages, fetcher: Fetcher, batch: Sequence[Discovered]) -> SourceTally:
    """``fetch_batch_task``'s work, bounded by ``run.task_timeout_s`` as the task would be."""
    from prefect.utilities.timeout import timeout

    with timeout(seconds=stages.config.run.task_timeout_s):
        return plain.fetch_batch(stages, fetcher, batch)


def _bounded(task_fn: Any, stages: pipeline.Stages) -> Any:
    """The batch task with ``run.task_timeout_s`` (a stuck batch fails as TimeoutError; the
    source's other batches and the other sources go on)."""
    seconds = stages.config.run.task_timeout_s
    return task_fn if seconds is None else task_fn.with_options(timeout_seconds=seconds)


def _ingest_source(
    source: str,
    spec: pipeline.RunSpec,
    *,
    paths: list[str],
    web: SourceConfig | None = None,
    manifest: str | None = None,
    named_source: bool = True,
    limit: int | None = None,
    since: str | None = None,
) -> dict[str, Any]:
    """One source: its files in batches, then its web pages. A failure here fails only this source.

    Takes the run's spec, not its live stages: a flow's parameters travel with its context to
    Dask workers, and open connections cannot.
    """
    job = Job(source=source, paths=tuple(paths), web=web, manifest=manifest, named_source=named_source)
    tally = plain.run_source(pipeline.stages_for(spec), spec, job, limit=limit, since=since, runner=TASKS)
    get_run_logger().info("source %s: %s", source, tally.as_row())
    publish_source_artifact(tally)
    return tally.as_row() | {"_tally": tally}


@functools.cache
def source_flow() -> Any:
    """The ``ingest-source`` flow, declared on first use: declaring a flow builds the JSON schema of
    its parameters (here the whole config's, for the spec), which a one-shot run of one source,
    run without a subflow, never needs. ``wiredesk.flows.ingest.ingest_source`` is this flow."""
    return flow(name="ingest-source", flow_run_name="{source}", persist_result=False)(_ingest_source)


def __getattr__(name: str) -> Any:
    if name == "ingest_source":
        return source_flow()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _time_left(config_run: Any) -> Callable[[], float | None]:
    """From now, what is left of ``run.flow_timeout_s`` for the next source (None: no bound); once
    it is spent, a TimeoutError: the whole run stops within it, source by source."""
    budget = config_run.flow_timeout_s
    deadline = None if budget is None else time.monotonic() + budget

    def left() -> float | None:
        if deadline is None:
            return None
        seconds = deadline - time.monotonic()
        if seconds <= 0:
            raise TimeoutError(f"the run reached run.flow_timeout_s ({budget:g} s) before this source")
        return seconds

    return left


def _as_subflow(config_run: Any, limit: int | None, since: str | None):
    """Each source as an ``ingest-source`` subflow, bounded by what is left of
    ``run.flow_timeout_s``: the whole run stops within it, source by source."""
    runner_flow: list[Any] = []  # with the run's task runner, made at the first source
    time_left = _time_left(config_run)

    def execute(job: Job, spec: pipeline.RunSpec, call: Callable[[], SourceTally]) -> SourceTally:
        if not runner_flow:
            runner_flow.append(with_task_runner(source_flow(), config_run))
        bounded = runner_flow[0]
        left = time_left()
        if left is not None:
            bounded = runner_flow[0].with_options(timeout_seconds=left)
        state = bounded(
            job.source,
            spec,
            paths=list(job.paths),
            web=job.web,
            manifest=job.manifest,
            named_source=job.named_source,
            limit=limit,
            since=since,
            return_state=True,
        )
        if state.is_completed():
            return state.result()["_tally"]
        raise SourceFailed(_state_message(state))

    return execute


def _source_task(source: str, call: Callable[[], SourceTally]) -> SourceTally:
    tally = call()
    get_run_logger().info("source %s: %s", source, tally.as_row())
    publish_source_artifact(tally)
    return tally


@functools.cache
def source_task() -> Any:
    """The ``ingest-source`` task (``run.source_runs: task``): one source of the ingest flow run, its
    discovery and batches nested task runs of it. Its only parameters are the source's name and the
    call that runs it (nothing for Prefect to walk or encode)."""
    return _sources_task("ingest-source", "{source}", _source_task)


def _sources_task(name: str, run_name: str, fn: Callable[..., Any]) -> Any:
    """A task that runs sources: nothing cached or persisted (its inputs are live calls)."""
    return task(
        name=name, task_run_name=run_name, cache_policy=NO_CACHE, persist_result=False, cache_result_in_memory=False
    )(fn)


def _as_task(config_run: Any):
    """Each source as an ``ingest-source`` task run of this flow run, bounded by what is left of
    ``run.flow_timeout_s`` as a subflow would be: no flow run to create per source."""
    time_left = _time_left(config_run)

    def execute(job: Job, spec: pipeline.RunSpec, call: Callable[[], SourceTally]) -> SourceTally:
        bounded = source_task()
        left = time_left()
        if left is not None:
            bounded = bounded.with_options(timeout_seconds=left)
        state = bounded(job.source, call, return_state=True)
        if state.is_completed():
            return state.result()
        raise SourceFailed(_state_message(state))

    return execute


class _Chunk:
    """Sources sharing one ``ingest-sources`` task run: the first to start (the leader) runs the task
    run, and in it its own source; the others that start while it is open join it, each on its own
    thread in a copy of the task run's context (logs, artifacts, ``_in_task_run`` are the task
    run's). It closes to newcomers when full or when the leader's source ends; the task run ends
    when every member has, Failed if any member failed."""

    def __init__(self, size: int, lock: threading.Lock) -> None:
        self.size = size
        self.members: list[str] = []
        self.failed: list[str] = []
        self.open = True
        self.running = 0  # members that joined and have not ended
        self.context: contextvars.Context | None = None  # the task run's, once it runs
        self.ready = threading.Event()
        # the lock sources join under: no source joins after the task run stopped waiting for them
        self.ended = threading.Condition(lock)
        self.progress = SharedProgress("Pages processed by this task run's sources")
        self.tallies: list[SourceTally] = []  # its sources' rows, in the order they ended


def _chunk_task(label: str, chunk: _Chunk, own: Callable[[], SourceTally]) -> Any:
    chunk.context = contextvars.copy_context()
    chunk.ready.set()
    try:
        own()
    finally:
        with chunk.ended:
            chunk.open = False
            chunk.ended.wait_for(lambda: chunk.running == 0)
    publish_sources_artifact(chunk.tallies)
    if chunk.failed:
        from prefect.states import Failed

        failed = chunk.failed
        return Failed(message=f"{len(failed)} of {len(chunk.members)} sources failed: {', '.join(failed)}")
    return {"sources": list(chunk.members)}


@functools.cache
def chunk_task() -> Any:
    """The ``ingest-sources`` task (``run.source_runs: task`` with ``run.sources_per_task`` above 1)."""
    return _sources_task("ingest-sources", "{label}", _chunk_task)


def _as_chunks(config_run: Any):
    """Sources as members of ``ingest-sources`` task runs of up to ``run.sources_per_task`` sources
    (see ``_Chunk``), each source bounded by what is left of ``run.flow_timeout_s``. A 100-source
    crawl then makes 10 task runs, not 100: each one's states and logs cost the client and the
    server (the run's tail drains their events to the API)."""
    time_left = _time_left(config_run)
    lock = threading.Lock()
    current: list[_Chunk] = []

    def bounded(job: Job, call: Callable[[], SourceTally]) -> SourceTally:
        from prefect.utilities.timeout import timeout

        with timeout(seconds=time_left()):
            tally = call()
        get_run_logger().info("source %s: %s", job.source, tally.as_row())
        return tally

    def member(chunk: _Chunk, job: Job, call: Callable[[], SourceTally], outcome: list[Any]) -> None:
        shared = _SHARED_PROGRESS.set(chunk.progress)
        try:
            outcome.append(bounded(job, call))
            with chunk.ended:
                chunk.tallies.append(outcome[0])
        except BaseException as exc:
            outcome.append(exc)
            failed = SourceTally(source=job.source)
            failed.error = _one_line(exc)
            with chunk.ended:
                chunk.failed.append(job.source)
                chunk.tallies.append(failed)
            try:
                get_run_logger().error("source %s failed: %s", job.source, _one_line(exc))
            except Exception:  # noqa: BLE001 - outside a run context: the pipeline logs it too
                pass
        finally:
            _SHARED_PROGRESS.reset(shared)
            with chunk.ended:
                chunk.running -= 1
                chunk.ended.notify_all()

    def execute(job: Job, spec: pipeline.RunSpec, call: Callable[[], SourceTally]) -> SourceTally:
        with lock:
            chunk = current[0] if current and current[0].open and len(current[0].members) < current[0].size else None
            leader = chunk is None
            if chunk is None:
                chunk = _Chunk(config_run.sources_per_task, lock)
                current[:] = [chunk]
            chunk.members.append(job.source)
            chunk.running += 1
        outcome: list[Any] = []
        if leader:
            try:
                chunk_task()(
                    f"sources from {job.source}", chunk, lambda: member(chunk, job, call, outcome), return_state=True
                )
            finally:
                chunk.ready.set()  # a task run that never ran: members run in the flow run's context
            if not outcome:  # the task run never ran its function (the flow run was cancelled, ...)
                with chunk.ended:
                    chunk.open = False
                    chunk.running -= 1
                    chunk.ended.notify_all()
                raise SourceFailed("its ingest-sources task run did not run")
        else:
            chunk.ready.wait()
            context = chunk.context.copy() if chunk.context is not None else contextvars.copy_context()
            context.run(member, chunk, job, call, outcome)
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        return outcome[0]

    return execute


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:500]


def _per_source(config_run: Any, limit: int | None, since: str | None):
    """How the ingest flow runs each source: ``run.source_runs`` (a task run, or a subflow), task runs
    shared by up to ``run.sources_per_task`` sources. With ``run.task_runner: dask`` each source
    stays a subflow: the Dask runner is a flow run's (the subflow starts or joins its cluster), and a
    task run cannot hand its batches to it."""
    if config_run.source_runs == "task" and config_run.task_runner == "default":
        return _as_task(config_run) if config_run.sources_per_task <= 1 else _as_chunks(config_run)
    return _as_subflow(config_run, limit, since)


def _in_flow(config_run: Any):
    """The source of a one-shot run that has only one, run in the ``ingest`` flow run itself (its
    batches are task runs of that flow run): a subflow would only add a flow run to create and its
    parameters to encode. Bounded by ``run.flow_timeout_s`` as a subflow would be."""

    def execute(job: Job, spec: pipeline.RunSpec, call: Callable[[], SourceTally]) -> SourceTally:
        from prefect.utilities.timeout import timeout

        with timeout(seconds=config_run.flow_timeout_s):
            tally = call()
        get_run_logger().info("source %s: %s", job.source, tally.as_row())
        publish_source_artifact(tally)
        return tally

    return execute


# Set by ``run_by_hand``: this flow run is a one-shot `wiredesk run`, not a served or deployed run.
_ONE_SHOT: ContextVar[bool] = ContextVar("wiredesk_one_shot", default=False)


class SourceFailed(Exception):
    """A source's subflow ended in another state than Completed (its message is the cause)."""

    def __str__(self) -> str:
        return str(self.args[0])


@task(name="export-corpus", **_TASK_OPTIONS)
def export_task(stages: pipeline.Stages, *, incremental: bool = False) -> dict[str, Any]:
    return export_stages(stages, incremental=incremental)


@flow(name="ingest", persist_result=False, validate_parameters=True)
def ingest(
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

    Returns the run summary; the flow run ends Failed (with the summary as its data) when
    ``fail_on`` says the run failed: ``source`` (any source failed entirely), ``any`` (any page
    failed too) or ``none``.
    """
    check_fail_on(fail_on)
    note_process()
    config = resolve_config(
        config_path,
        store=store,
        out=out,
        export_format=export_format,
        include_duplicates=include_duplicates,
        batch_size=batch_size,
        workers=workers,
        signatures=signatures,
    )
    run_id = str(flow_run.get_id() or uuid.uuid4())
    # The sources' artifacts go to the API in the background: no source waits for the server.
    with artifacts_sent_in_background():
        summary, tallies = run_ingest(
            config,
            inputs=inputs,
            sources=sources,
            manifest=manifest,
            export=export,
            dry_run=dry_run,
            limit=limit,
            since=since,
            run_id=run_id,
            runner=TASKS,
            execute_source=_per_source(config.run, limit, since),
            # one source, one-shot, no Dask: the source runs in this flow run (no subflow)
            execute_single=_in_flow(config.run) if _ONE_SHOT.get() and config.run.task_runner == "default" else None,
            export_step=lambda stages: export_task(stages),
        )
        publish_run_artifacts(summary, tallies)
    failed = run_failed(summary, fail_on)
    if failed:
        from prefect.states import Failed

        return Failed(message=failed, data=summary)
    return summary


def note_process() -> None:
    """Record ``host:pid`` of this flow-run process on its flow run (Prefect's runner does not),
    so a restarted `wiredesk serve` can tell a run whose process died from a live one."""
    from prefect.client.orchestration import get_client
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    # Run by hand (no deployment): its process is the caller's. Read from the run's context, not
    # ``prefect.runtime.deployment.id``, which asks the API for the flow run when it has no deployment.
    if context is None or context.flow_run is None or context.flow_run.deployment_id is None:
        return

    try:
        with get_client(sync_client=True) as client:
            client.update_flow_run(flow_run.id, infrastructure_pid=f"{socket.gethostname()}:{os.getpid()}")
    except Exception as exc:  # bookkeeping only: never fail the run for it
        get_run_logger().warning("could not record this run's process id: %s", exc)


def _state_message(state: Any) -> str:
    try:
        state.result()
    except Exception as exc:  # the source's own error, as one line
        return f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
    return state.message or "failed"


@flow(name="export", persist_result=False)
def export_flow(
    out: str | None = None,
    export_format: str | None = None,
    include_duplicates: bool | None = None,
    incremental: bool = False,
    config_path: str | None = None,
    store: str | None = None,
    signatures: bool | None = None,
) -> dict[str, Any]:
    note_process()
    config = resolve_config(
        config_path,
        store=store,
        out=out,
        export_format=export_format,
        include_duplicates=include_duplicates,
        signatures=signatures,
    )
    with pipeline.open_stages(config, run_id=str(flow_run.get_id() or uuid.uuid4())) as stages:
        return export_task(stages, incremental=incremental)


serialize_plain_parameters(ingest)
serialize_plain_parameters(export_flow)


def run_by_hand(flow_fn: Any, *, api_url: str | None = None, **parameters: Any) -> Any:
    """Run a flow in this process, as the CLI does: a run started by hand ends with its
    process, so there is no heartbeat thread to wait for (about 0.5 s per flow and subflow).
    Runs started by ``serve`` or a worker keep their heartbeats.

    Without a server, Prefect starts an ephemeral API and gives it 20 s by default; its
    first start on a machine creates and migrates its database, which took 17 s on an idle
    machine and over 20 s on a busy one ("Timed out while attempting to connect to
    ephemeral Prefect API server"). Unless the user set that timeout, allow 120 s.

    ``api_url``: the Prefect API to run against (a running server the CLI found, or the embedded one
    it started), also put in the environment for the run's subprocesses (Dask workers)."""
    from prefect.flows import Flow

    updates: dict[str, dict[str, Any]] = {"flows": {"heartbeat_frequency": None}}
    if api_url:
        updates["api"] = {"url": api_url}
    elif "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS" not in os.environ:
        from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS as EPHEMERAL_TIMEOUT

        updates["server"] = {"ephemeral": {"startup_timeout_seconds": max(120, EPHEMERAL_TIMEOUT.value())}}

    before = os.environ.get("PREFECT_API_URL")
    if api_url:
        os.environ["PREFECT_API_URL"] = api_url
    one_shot = _ONE_SHOT.set(True)
    try:
        with settings_updated(updates):
            if not isinstance(flow_fn, Flow):
                return flow_fn(**parameters)
            state = flow_fn(**parameters, return_state=True)
    finally:
        _ONE_SHOT.reset(one_shot)
        if before is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = before
    if state.is_failed():
        data = state.result(raise_on_failure=False)
        if isinstance(data, dict) and "run_id" in data:  # ingest's own verdict: the summary says why
            return data
    return state.result()
