"""A whole ingest run without Prefect: every source, then the export, then the summary.

    from wiredesk.pipeline import Pipeline

    with Pipeline.open(store="data/wiredesk.db") as pipe:
        summary = pipe.run(inputs=["pages/"])          # the same run as `wiredesk run --input pages/`
        tally = pipe.ingest_pages(raw_pages)           # or feed it RawPage objects of your own
        pipe.export("data/corpus.jsonl")

The Prefect flow ``ingest`` (``wiredesk.flows``) runs exactly this, with a runner that makes
each source a subflow and each batch a task run.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

from wiredesk.config import WiredeskConfig, export_target, load_config
from wiredesk.core.records import Failure, RawPage
from wiredesk.dedup import Sketcher
from wiredesk.pipeline.batch import RunSpec, Stages, open_stages, overlapped, registered
from wiredesk.pipeline.dryrun import would_store
from wiredesk.pipeline.report import SourceTally, check_since, mark, summarise
from wiredesk.pipeline.sources import (
    SEQUENTIAL,
    BatchRunner,
    Job,
    check_jobs,
    ingest_consumer,
    plan_jobs,
    run_source,
    shared_crawl,
)
from wiredesk.storage import export_corpus

log = logging.getLogger("wiredesk.pipeline")

# How a run executes one source: given the job, the run's spec and a function that runs it in
# this process, return its tally (raising is the source's failure). The flows make it a subflow.
# It is called from ``run.source_concurrency`` threads at once (each in a copy of the caller's
# context, so a Prefect flow run is each subflow's parent).
SourceExecutor = Callable[[Job, RunSpec, Callable[[], SourceTally]], SourceTally]


def _in_process(job: Job, spec: RunSpec, call: Callable[[], SourceTally]) -> SourceTally:
    return call()


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
    """The configuration of a run: the file (or the embedded default), then the given overrides."""
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


def export_stages(stages: Stages, *, incremental: bool = False) -> dict[str, Any]:
    """Write the corpus where the run's config says (atomically, with its manifest)."""
    export = stages.config.export
    result = export_corpus(
        stages.store,
        export.out,
        fmt=export.format,
        include_duplicates=export.include_duplicates,
        incremental=incremental,
        signing=Sketcher(stages.dedup.settings) if export.signatures else None,
    )
    return result.as_dict() if hasattr(result, "as_dict") else dict(vars(result))


def run_ingest(
    config: WiredeskConfig,
    *,
    inputs: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
    manifest: str | None = None,
    export: bool = True,
    dry_run: bool = False,
    limit: int | None = None,
    since: str | None = None,
    run_id: str | None = None,
    runner: BatchRunner = SEQUENTIAL,
    execute_source: SourceExecutor = _in_process,
    export_step: Callable[[Stages], dict[str, Any]] = export_stages,
    flow: str = "ingest",
    execute_single: SourceExecutor | None = None,
) -> tuple[dict[str, Any], list[SourceTally]]:
    """Discover, fetch or read, extract, deduplicate, store and export: one run, every source.

    A source that fails as a whole is recorded with its error and the run goes on; the run's
    record in the store says ``partial`` then. Returns the summary and the per-source tallies.
    ``execute_single``: how to run the source of a run that has only one (default: ``execute_source``).
    """
    started = time.perf_counter()
    mark("pipeline")
    check_since(since)
    jobs = plan_jobs(config, inputs=inputs, sources=sources, manifest=manifest)
    check_jobs(jobs)
    if execute_single is not None and len(jobs) == 1:
        execute_source = execute_single
    run_id = run_id or str(uuid.uuid4())
    tallies: list[SourceTally] = []
    export_info: dict[str, Any] | None = None
    with open_stages(config, run_id=run_id, dry_run=dry_run) as stages, ExitStack() as scope:
        # A dry run's stages hold a scratch store: the spec names it, so tasks (and Dask
        # workers) write into the scratch copy, never into the configured store.
        spec = RunSpec(config=stages.config, run_id=run_id)
        scope.enter_context(registered(spec, stages))
        params = dict(inputs=inputs, sources=[j.source for j in jobs], dry_run=dry_run, limit=limit, since=since)
        if not dry_run:
            stages.store.begin_run(run_id, flow=flow, params=params)
        crawl = None
        if any(job.on_the_web for job in jobs):
            crawl = scope.enter_context(shared_crawl(stages))  # one Fetcher for every source's hosts
            if sum(job.on_the_web for job in jobs) > 1:
                start_pool_early(stages)
        status = "failed"
        try:

            def one(job: Job) -> SourceTally:
                def call() -> SourceTally:
                    return run_source(stages, spec, job, limit=limit, since=since, runner=runner)

                try:
                    return execute_source(job, spec, call)
                except Exception as exc:  # a broken source fails alone
                    failed = SourceTally(source=job.source)
                    failed.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
                    log.error("source %s failed: %s", job.source, failed.error)
                    return failed

            with ingest_consumer(stages) as consumer:  # this thread opened the stages: it stores every batch

                def abort() -> None:
                    consumer.close()
                    if crawl is not None:
                        crawl.close()

                concurrency = stages.config.run.source_concurrency
                if stages.config.run.task_runner == "dask" and not stages.config.run.dask_address:
                    concurrency = 1  # each source's subflow starts a local Dask cluster of its own
                tallies.extend(run_concurrently(one, jobs, concurrency, serve=consumer.serve, abort=abort))
            if export and not dry_run:
                export_info = export_step(stages)
            status = "completed" if not any(t.failure for t in tallies) else "partial"
        finally:
            summary = summarise(run_id, tallies, wall_seconds=time.perf_counter() - started, export=export_info)
            if not dry_run:
                stages.store.finish_run(run_id, status=status, summary=summary)
        if dry_run:
            summary["dry_run"] = {"note": stages.dry_run_note, "would_store": would_store(stages.store, run_id)}
    return summary, tallies


def start_pool_early(stages: Stages) -> None:
    """Start the run's extraction pool in the background (a crawl of several sources): its
    start-up (the extractors' warm-up, the workers) overlaps discovery and the hosts' intervals
    instead of delaying the first pages that arrive. Nothing with one worker."""
    pool = stages.extract_pool(max(2, stages.extract_settings.pool_min_batch))
    if pool is not None:
        threading.Thread(target=pool.start, name="wiredesk-pool-start", daemon=True).start()


def lanes(jobs: Sequence[Job]) -> list[list[int]]:
    """Which jobs run one after another (indexes into ``jobs``): a source with web pages is a
    lane of its own; sources of page files and archives only share one lane, in their
    configured order (their work is the one consumer's anyway, and their order decides which
    copy of a story is stored first and which counts as its duplicate)."""
    web = [[i] for i, job in enumerate(jobs) if job.on_the_web]
    local = [i for i, job in enumerate(jobs) if not job.on_the_web]
    return sorted(web + ([local] if local else []), key=lambda lane: lane[0])


def run_concurrently(
    one: Callable[[Job], SourceTally],
    jobs: Sequence[Job],
    concurrency: int,
    *,
    serve: Callable[[Sequence[Future]], None] | None = None,
    abort: Callable[[], None] | None = None,
) -> list[SourceTally]:
    """``one(job)`` for every job, ``concurrency`` lanes (see ``lanes``) at a time, each thread
    in a copy of this context; the tallies in the jobs' order. A single lane, or a concurrency
    of 1: in this thread. Meanwhile this thread runs ``serve(futures)`` (the run's ingest
    consumer) until all are done. Interrupted (Ctrl-C, a flow cancelled), sources not started
    never start and ``abort`` is called to end the running ones (their fetches are cancelled)."""
    plan = lanes(jobs)
    if concurrency <= 1 or len(plan) <= 1:
        return [one(job) for job in jobs]

    def run_lane(lane: list[int]) -> list[SourceTally]:
        return [one(jobs[i]) for i in lane]

    pool = ThreadPoolExecutor(max_workers=min(concurrency, len(plan)), thread_name_prefix="wiredesk-source")
    try:
        futures = [pool.submit(contextvars.copy_context().run, run_lane, lane) for lane in plan]
        if serve is not None:
            serve(futures)
        tallies: dict[int, SourceTally] = {}
        for lane, future in zip(plan, futures):
            tallies.update(zip(lane, future.result()))
        return [tallies[i] for i in range(len(jobs))]
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        if abort is not None:
            abort()
        raise
    finally:
        pool.shutdown(wait=True)


class Pipeline:
    """The wiredesk pipeline as a Python object, without Prefect.

    Open it from a config (a file, the embedded default, or a ``WiredeskConfig``), then run
    sources and inputs as ``wiredesk run`` does, or feed it pages of your own.
    """

    def __init__(self, config: WiredeskConfig, *, dry_run: bool = False) -> None:
        self.config = config
        self.dry_run = dry_run
        self._stages: Stages | None = None

    @classmethod
    def open(cls, config: WiredeskConfig | str | None = None, *, dry_run: bool = False, **overrides: Any) -> Pipeline:
        """``config``: a WiredeskConfig, a config file path, or None (the embedded default);
        ``overrides``: as ``resolve_config`` takes them (store, out, export_format, workers...)."""
        if not isinstance(config, WiredeskConfig):
            config = resolve_config(config, **overrides)
        elif overrides:
            raise TypeError("overrides apply to a config file; change a WiredeskConfig with with_overrides()")
        return cls(config, dry_run=dry_run)

    def run(
        self,
        *,
        inputs: Sequence[str] | None = None,
        sources: Sequence[str] | None = None,
        manifest: str | None = None,
        export: bool = True,
        limit: int | None = None,
        since: str | None = None,
    ) -> dict[str, Any]:
        """One ingest run, like ``wiredesk run``: returns its summary (the CLI's ``--json``)."""
        summary, _ = run_ingest(
            self.config,
            inputs=inputs,
            sources=sources,
            manifest=manifest,
            export=export,
            dry_run=self.dry_run,
            limit=limit,
            since=since,
            flow="python",
        )
        return summary

    def _open(self) -> Stages:
        if self._stages is None:
            self._stages = open_stages(self.config, run_id=str(uuid.uuid4()), dry_run=self.dry_run)
        return self._stages

    def ingest_pages(self, pages: Iterable[RawPage], *, source: str = "python") -> SourceTally:
        """Extract, deduplicate and store pages you read yourself, in batches of ``run.batch_size``."""
        stages = self._open()
        tally = SourceTally(source=source)
        size = self.config.run.batch_size

        def batches() -> Iterator[tuple[int, SourceTally, list[RawPage], list[Failure]]]:
            batch: list[RawPage] = []
            for page in pages:  # taken as the batches go: an iterator of pages is never held whole
                batch.append(page)
                if len(batch) >= size:
                    yield len(batch), SourceTally(source=source), batch, []
                    batch = []
            if batch:
                yield len(batch), SourceTally(source=source), batch, []

        for _, done in overlapped(stages, batches(), named_source=True):
            tally.merge(done)
        return tally

    def export(self, out: str | None = None, *, fmt: str | None = None, incremental: bool = False) -> dict[str, Any]:
        """Write the corpus (``out`` and ``fmt`` default to the config's export settings)."""
        out, fmt = export_target(out, fmt, self.config.export)
        stages = self._open()
        result = export_corpus(
            stages.store,
            out,
            fmt=fmt,
            include_duplicates=self.config.export.include_duplicates,
            incremental=incremental,
        )
        return result.as_dict() if hasattr(result, "as_dict") else dict(vars(result))

    def close(self) -> None:
        if self._stages is not None:
            self._stages.close()
            self._stages = None

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
