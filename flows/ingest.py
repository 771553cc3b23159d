"""The Prefect flows: ``ingest`` (per-source subflows, batch tasks) and ``export``.

A thin shell: every task body is a call into ``wiredesk.pipeline.batch`` or a stage package. Task
runs are per source and per batch of pages, never per page, and task results are small
tallies (pages are streamed to the store, never held as task results).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from wiredesk.config import SourceConfig, WiredeskConfig, export_target, load_config
from wiredesk.core.errors import ConfigError
from wiredesk.dedup import Sketcher
from wiredesk.fetching.files import DEFAULT_MAX_BYTES, ManifestEntry, expand_inputs, load_manifest
from wiredesk.flows.artifacts import RunProgress, publish_run_artifacts, publish_source_artifact
from wiredesk.flows.runners import with_task_runner
from wiredesk.pipeline import batch as pipeline
from wiredesk.pipeline.report import SourceTally, check_since, is_since, summarise
from wiredesk.storage import export_corpus

LOCAL_SOURCE = "local"

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
def ingest_file_batch(
    stages: pipeline.Stages,
    paths: Sequence[Path],
    *,
    source: str,
    named_source: bool,
    manifest: dict[str, ManifestEntry] | None,
) -> SourceTally:
    tally = SourceTally(source=source)
    started = time.perf_counter()
    max_bytes = getattr(stages.extract_settings, "max_bytes", DEFAULT_MAX_BYTES)
    pages, failures = pipeline.read_files(paths, source=source, manifest=manifest, max_bytes=max_bytes, tally=tally)
    pipeline.ingest_pages(stages, pages, tally=tally, named_source=named_source, failures=failures)
    tally.seconds = time.perf_counter() - started
    return tally


@task(name="ingest-files-remote", **_TASK_OPTIONS)
def ingest_file_batch_remote(
    spec: pipeline.RunSpec, paths: Sequence[Path], *, source: str, named_source: bool, manifest: str | None
) -> SourceTally:
    """The same batch on a Dask worker: it opens the run's stages in its own process."""
    stages = pipeline.stages_for(spec)
    entries = load_manifest(manifest) if manifest else None
    return ingest_file_batch.fn(stages, paths, source=source, named_source=named_source, manifest=entries)


@flow(name="ingest-source", flow_run_name="{source}", persist_result=False)
def ingest_source(
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
    logger = get_run_logger()
    stages = pipeline.stages_for(spec)
    tally = SourceTally(source=source)
    batch_size = stages.config.run.batch_size
    entries = load_manifest(manifest) if manifest else None
    if paths:
        files = expand_inputs(paths)
        if since:
            files = [f for f in files if _published_since(f, entries, since)]
        if limit is not None:
            # Pages not stored yet come first, so repeated limited runs work through a folder.
            stored = {url for url, rec in stages.store.get([str(f) for f in files]).items() if rec.stored}
            files = ([f for f in files if str(f) not in stored] + [f for f in files if str(f) in stored])[:limit]
        tally.discovered += len(files)
        progress = RunProgress(total=len(files), description=f"{source}: page files processed")
        if stages.config.run.task_runner == "dask":
            # Batches run at once on the cluster; each takes the store's writer lock only for
            # its dedup-and-write step, and catches the index up with the others' batches first.
            futures = [
                ingest_file_batch_remote.submit(
                    spec, list(batch), source=source, named_source=named_source, manifest=manifest
                )
                for batch in pipeline.chunks(files, batch_size)
            ]
            for future, batch in zip(futures, pipeline.chunks(files, batch_size)):
                tally.merge(future.result())
                progress.advance(len(batch))
        else:
            for batch in pipeline.chunks(files, batch_size):
                tally.merge(
                    ingest_file_batch(stages, list(batch), source=source, named_source=named_source, manifest=entries)
                )
                progress.advance(len(batch))
    if web is not None and web.has_web:
        from wiredesk.flows.web import ingest_web_source

        tally.merge(ingest_web_source(stages, web, limit=limit, since=since))
    logger.info("source %s: %s", source, tally.as_row())
    publish_source_artifact(tally)
    return tally.as_row() | {"_tally": tally}


def _published_since(path: Path, entries: dict[str, ManifestEntry] | None, since: str) -> bool:
    """A file's date is its manifest's ``published``, else the file's modification time."""
    entry = (entries or {}).get(str(path)) or (entries or {}).get(path.name)
    stamp = (
        entry.published if entry and entry.published else datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()
    )
    return is_since(stamp, since)


@task(name="export-corpus", **_TASK_OPTIONS)
def export_task(
    stages: pipeline.Stages,
    *,
    out: str,
    fmt: str,
    include_duplicates: bool,
    incremental: bool = False,
    signatures: bool = False,
) -> dict[str, Any]:
    signing = Sketcher(stages.dedup.settings) if signatures else None
    result = export_corpus(
        stages.store, out, fmt=fmt, include_duplicates=include_duplicates, incremental=incremental, signing=signing
    )
    return result.as_dict() if hasattr(result, "as_dict") else dict(vars(result))


def plan_sources(
    config: WiredeskConfig, *, inputs: Sequence[str] | None, sources: Sequence[str] | None, manifest: str | None
) -> list[dict[str, Any]]:
    """Which sources this run covers: ad-hoc inputs, chosen sources, or everything configured."""
    jobs: list[dict[str, Any]] = []
    if inputs:
        jobs.append(dict(source=LOCAL_SOURCE, paths=list(inputs), web=None, manifest=manifest, named_source=False))
    for name in sources or ():
        cfg = config.source(name)
        jobs.append(
            dict(source=cfg.name, paths=list(cfg.paths), web=cfg, manifest=cfg.manifest or manifest, named_source=True)
        )
    if not inputs and not sources:
        if config.inputs:
            jobs.append(
                dict(source=LOCAL_SOURCE, paths=list(config.inputs), web=None, manifest=manifest, named_source=False)
            )
        for cfg in config.sources:
            jobs.append(
                dict(
                    source=cfg.name,
                    paths=list(cfg.paths),
                    web=cfg,
                    manifest=cfg.manifest or manifest,
                    named_source=True,
                )
            )
    if not jobs:
        raise ConfigError("nothing to ingest: give --input PATH or --source NAME, or configure inputs/sources")
    return jobs


def resolve_config(
    config_path: str | None = None,
    *,
    store: str | None = None,
    out: str | None = None,
    export_format: str | None = None,
    include_duplicates: bool | None = None,
    batch_size: int | None = None,
    workers: int | None = None,
    signatures: bool | None = None,
) -> WiredeskConfig:
    config = load_config(config_path)
    out, export_format = export_target(out, export_format, config.export)
    return config.with_overrides(
        store={"url": store},
        export={
            "out": out,
            "format": export_format,
            "include_duplicates": include_duplicates,
            "signatures": signatures,
        },
        run={"batch_size": batch_size, "workers": workers},
    )


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
) -> dict[str, Any]:
    """Discover, fetch or read, extract, deduplicate, store and export pages."""
    started = time.perf_counter()
    logger = get_run_logger()
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
    check_since(since)
    jobs = plan_sources(config, inputs=inputs, sources=sources, manifest=manifest)
    for job in jobs:  # fail fast on a typo'd path, before anything is opened or written
        if job["paths"] and not job["named_source"]:
            expand_inputs(job["paths"])
        if job["manifest"]:
            load_manifest(job["manifest"])
    run_id = str(flow_run.get_id() or uuid.uuid4())
    tallies: list[SourceTally] = []
    export_info: dict[str, Any] | None = None
    spec = pipeline.RunSpec(config=config, run_id=run_id, dry_run=dry_run)
    with pipeline.open_stages(config, run_id=run_id, dry_run=dry_run) as stages, pipeline.registered(spec, stages):
        params = dict(inputs=inputs, sources=[j["source"] for j in jobs], dry_run=dry_run, limit=limit, since=since)
        if not dry_run:
            stages.store.begin_run(run_id, flow="ingest", params=params)
        status = "failed"
        try:
            source_flow = with_task_runner(ingest_source, config.run)
            for job in jobs:
                state = source_flow(
                    job["source"],
                    spec,
                    paths=job["paths"],
                    web=job["web"],
                    manifest=job["manifest"],
                    named_source=job["named_source"],
                    limit=limit,
                    since=since,
                    return_state=True,
                )
                if state.is_completed():
                    tallies.append(state.result()["_tally"])
                else:
                    failed = SourceTally(source=job["source"])
                    failed.error = _state_message(state)
                    logger.error("source %s failed: %s", job["source"], failed.error)
                    tallies.append(failed)
            if export and not dry_run:
                export_info = export_task(
                    stages,
                    out=config.export.out,
                    fmt=config.export.format,
                    include_duplicates=config.export.include_duplicates,
                    signatures=config.export.signatures,
                )
            status = "completed" if not any(t.error for t in tallies) else "partial"
        finally:
            summary = summarise(run_id, tallies, wall_seconds=time.perf_counter() - started, export=export_info)
            if not dry_run:
                stages.store.finish_run(run_id, status=status, summary=summary)
    publish_run_artifacts(summary, tallies)
    return summary


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
    config = resolve_config(
        config_path,
        store=store,
        out=out,
        export_format=export_format,
        include_duplicates=include_duplicates,
        signatures=signatures,
    )
    with pipeline.open_stages(config, run_id=str(flow_run.get_id() or uuid.uuid4())) as stages:
        return export_task(
            stages,
            out=config.export.out,
            fmt=config.export.format,
            include_duplicates=config.export.include_duplicates,
            incremental=incremental,
            signatures=config.export.signatures,
        )


def run_by_hand(flow_fn: Any, **parameters: Any) -> Any:
    """Run a flow in this process, as the CLI does: a run started by hand ends with its
    process, so there is no heartbeat thread to wait for (about 0.5 s per flow and subflow).
    Runs started by ``serve`` or a worker keep their heartbeats.

    Without a server, Prefect starts an ephemeral API and gives it 20 s by default; its
    first start on a machine creates and migrates its database, which took 17 s on an idle
    machine and over 20 s on a busy one ("Timed out while attempting to connect to
    ephemeral Prefect API server"). Unless the user set that timeout, allow 120 s."""
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )

    updates: dict[Any, Any] = {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    if "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS" not in os.environ:
        updates[PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS] = max(
            120, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()
        )
    with temporary_settings(updates=updates):
        return flow_fn(**parameters)
