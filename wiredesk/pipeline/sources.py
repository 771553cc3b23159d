"""One source through the pipeline: its page files in batches, then its web pages.

A source's batches are run by a ``BatchRunner``. ``SEQUENTIAL`` calls the plain batch
functions here, one after another, in this process; ``wiredesk.flows`` supplies a runner
that makes each batch a Prefect task run (and, with Dask, runs file batches at once). The
order of the steps, what is counted and what is kept lives here, once, for both.

The sources of one run go at once (``run.source_concurrency`` threads, ``pipeline.run``). Their
web requests all go through the run's one ``Crawl``: a single threaded Fetcher, so a host shared
by two sources keeps one set of limits, robots.txt is read once per host, and
``fetch.global_concurrency`` bounds the requests in flight over the whole run. Their batches go
through extract-dedup-store one at a time, on the thread that opened the run's stages
(``IngestConsumer``): each stays one transaction, and the stages' dedup index and extraction
pool are only ever used from the thread they were opened in. Fetched batches of several sources
that arrive together are stored together, as one batch (``WebBatch``, ``store_web_batches``).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from wiredesk.config import SourceConfig, WiredeskConfig
from wiredesk.config.stages import build_settings
from wiredesk.core.errors import ConfigError
from wiredesk.core.hosts import host_key
from wiredesk.core.records import Failure, FetchRecord, RawPage
from wiredesk.extractors import cpu_count
from wiredesk.fetching.files import (
    DEFAULT_MAX_BYTES,
    InputFile,
    ManifestEntry,
    expand_inputs,
    load_manifest,
    manifest_entry,
)
from wiredesk.fetching.models import Discovered, FetchOutcome, SourceSpec
from wiredesk.fetching.pacing import FilePacer, HostPacer, open_pacer
from wiredesk.fetching.settings import FetchSettings
from wiredesk.fetching.warc import is_archive
from wiredesk.pipeline.archives import Archive, archive_plan, list_archives, run_archive, work_dir
from wiredesk.pipeline.batch import (
    PreparedBatch,
    RunSpec,
    Stages,
    Store,
    _depends,
    _extracted,
    chunks,
    ingest_pages,
    overlapped,
    prepare_pages,
    read_files,
    stages_for,
    store_prepared,
)
from wiredesk.pipeline.report import Progress, SourceTally, is_since

if TYPE_CHECKING:
    # The fetcher (httpx, feedparser) is imported where a run fetches: a run of page files never does.
    from wiredesk.fetching.fetcher import Fetcher

LOCAL_SOURCE = "local"
T = TypeVar("T")


@dataclass(frozen=True)
class Job:
    """One source of a run: ad-hoc ``--input`` files, or a configured source (files and/or web)."""

    source: str
    paths: tuple[str, ...] = ()
    web: SourceConfig | None = None
    manifest: str | None = None
    named_source: bool = True

    @property
    def on_the_web(self) -> bool:
        """Whether the source fetches pages (feeds, sitemaps, URL lists, sites)."""
        return self.web is not None and self.web.has_web


def plan_jobs(
    config: WiredeskConfig,
    *,
    inputs: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
    manifest: str | None = None,
) -> list[Job]:
    """Which sources a run covers: ad-hoc inputs, chosen sources, or everything configured."""
    jobs: list[Job] = []
    if inputs:
        jobs.append(Job(LOCAL_SOURCE, tuple(inputs), None, manifest, named_source=False))
    for name in sources or ():
        cfg = config.source(name)
        jobs.append(Job(cfg.name, tuple(cfg.paths), cfg, cfg.manifest or manifest))
    if not inputs and not sources:
        if config.inputs:
            jobs.append(Job(LOCAL_SOURCE, tuple(config.inputs), None, manifest, named_source=False))
        jobs += [Job(cfg.name, tuple(cfg.paths), cfg, cfg.manifest or manifest) for cfg in config.sources]
    if not jobs:
        raise ConfigError("nothing to ingest: give --input PATH or --source NAME, or configure inputs/sources")
    return jobs


def check_jobs(jobs: Sequence[Job]) -> None:
    """Fail fast on a typo'd input path or a bad manifest, before anything is opened or written.
    (A configured source's paths may legitimately match nothing yet: a folder still filling.)"""
    for job in jobs:
        if job.paths and not job.named_source:
            expand_inputs(list(job.paths), source=job.source)
        if job.manifest:
            load_manifest(job.manifest)


class BatchRunner(Protocol):
    """How the batches of one source are executed (in this process, or as Prefect tasks)."""

    def file_batches(
        self, stages: Stages, spec: RunSpec, files: Sequence[InputFile], job: Job
    ) -> Iterator[tuple[int, SourceTally]]:
        """The source's page files in batches: ``(files in the batch, its tally)``, in order."""
        ...

    def archives(
        self, stages: Stages, spec: RunSpec, archives: Sequence[Archive], job: Job, since: str | None
    ) -> Iterator[SourceTally]:
        """One tally per archive file (a unit of work each, in any order)."""
        ...

    def discover(self, fetcher: Fetcher, spec: SourceSpec, tally: SourceTally) -> list[Discovered]: ...

    def fetch_batch(self, stages: Stages, fetcher: Fetcher, batch: Sequence[Discovered]) -> SourceTally: ...

    def progress(self, total: int, description: str) -> Progress: ...


class SequentialRunner:
    """Every batch in turn, in this process: the plain-Python pipeline."""

    def file_batches(
        self, stages: Stages, spec: RunSpec, files: Sequence[InputFile], job: Job
    ) -> Iterator[tuple[int, SourceTally]]:
        yield from feed_file_batches(stages, job, files, stored_on_owner)

    def archives(
        self, stages: Stages, spec: RunSpec, archives: Sequence[Archive], job: Job, since: str | None
    ) -> Iterator[SourceTally]:
        """In this process, file after file; with ``run.workers`` > 1, over a pool of that many
        processes (each opens the run's stages itself, as a Dask worker does)."""
        workers = stages.config.run.workers or 1
        if workers > 1 and len(archives) > 1:
            yield from _archive_pool(spec, archives, job, since, workers)
            return
        for archive in archives:
            yield archive_unit(stages, archive, job, since)

    def discover(self, fetcher: Fetcher, spec: SourceSpec, tally: SourceTally) -> list[Discovered]:
        return discover(fetcher, spec, tally)

    def fetch_batch(self, stages: Stages, fetcher: Fetcher, batch: Sequence[Discovered]) -> SourceTally:
        return fetch_batch(stages, fetcher, batch)

    def progress(self, total: int, description: str) -> Progress:
        return Progress(total, description=description)


SEQUENTIAL = SequentialRunner()


def run_source(
    stages: Stages,
    spec: RunSpec,
    job: Job,
    *,
    limit: int | None = None,
    since: str | None = None,
    runner: BatchRunner = SEQUENTIAL,
) -> SourceTally:
    """One source, whole: its files in batches, then its web pages. Raises only when the source
    as a whole cannot run (the caller records that as the source's error)."""
    tally = SourceTally(source=job.source)
    if job.paths:
        files = select_files(stages, job, limit=limit, since=since)
        archives = [Archive(location=str(f.path), key=f.key) for f in files if is_archive(f.path)]
        files = [f for f in files if not is_archive(f.path)]
        tally.discovered += len(files)  # an archive's records are counted as it is read
        if files:
            progress = runner.progress(len(files), f"{job.source}: page files processed")
            for count, done in runner.file_batches(stages, spec, files, job):
                tally.merge(done)
                progress.advance(count)
        if archives:
            tally.merge(_run_archives(stages, spec, job, archives, since, runner))
    if job.web is not None and job.web.warcs:
        found = list_archives(job.web, fetch_settings(stages), work_dir(stages, job.web))
        todo, done = archive_plan(stages, job.source, found, limit=limit, since=since)
        if done:
            tally.skipped["archive-done"] += done  # files, not records: done in earlier runs
        tally.merge(_run_archives(stages, spec, job, todo, since, runner))
    if job.on_the_web:
        tally.merge(run_web_source(stages, job.web, limit=limit, since=since, runner=runner, crawl=stages.crawl))
    return tally


# -- one batch at a time through the stages -----------------------------------------------------


class WebBatch:
    """One source's fetched pages (and fetch failures) on their way to the consumer, which
    stores them together with the batches of other sources that arrived meanwhile."""

    def __init__(
        self,
        source: str,
        pages: list[RawPage],
        failures: list[Failure],
        fetch_records: dict[str, FetchRecord],
        others: list[FetchRecord],
    ) -> None:
        self.source, self.pages, self.failures = source, pages, failures
        self.fetch_records, self.others = fetch_records, others
        self.future: Future = Future()
        self.prepared: PreparedBatch | None = None

    @property
    def size(self) -> int:
        return len(self.pages) + len(self.failures)

    def extracting(self) -> bool:
        """Whether the extraction pool still works on its pages."""
        extraction = self.prepared.extraction if self.prepared is not None else None
        return extraction is not None and extraction.left > 0


def store_alone(stages: Stages, batch: WebBatch) -> SourceTally:
    """A fetched batch prepared and stored at once: its fetch state without an article (304s,
    policy skips) first, then its pages and fetch failures with their state, one transaction."""
    tally = SourceTally(source=batch.source)
    if batch.others and not stages.dry_run:
        stages.store.record(list({r.url: r for r in batch.others}.values()))
    if batch.pages or batch.failures:
        ingest_pages(
            stages,
            batch.pages,
            tally=tally,
            named_source=True,
            failures=batch.failures,
            fetch_records=batch.fetch_records,
        )
    return tally


def store_web_batches(stages: Stages, group: Sequence[WebBatch]) -> list[SourceTally]:
    """Prepared web batches of different sources stored as one batch: one reindex, one dedup
    pass, one transaction for all (each batch's counts go to its own tally). Their fetch
    state without an article (304s, policy skips) is recorded first, as each batch did alone."""
    others = {r.url: r for batch in group for r in batch.others}
    if others and not stages.dry_run:
        stages.store.record(list(others.values()))
    prepared = [batch.prepared for batch in group]
    assert all(p is not None for p in prepared)
    if len(prepared) == 1:
        joined = prepared[0]
    else:
        joined = PreparedBatch(
            source=group[0].source,
            pages=[page for p in prepared for page in p.pages],
            fresh=[page for p in prepared for page in p.fresh],
            keys=[key for p in prepared for key in p.keys],
            digests={k: v for p in prepared for k, v in p.digests.items()},
            seen_files={k: v for p in prepared for k, v in p.seen_files.items()},
            failures=[f for p in prepared for f in p.failures],
            fetch_records={k: v for p in prepared for k, v in p.fetch_records.items()},
            profiles={k: v for p in prepared for k, v in p.profiles.items()},
            tally=SourceTally(source=group[0].source),
        )
        joined.results = [result for p in prepared for result in _extracted(stages, p)]
    tallies = {id(p): SourceTally(source=p.source) for p in prepared}
    tally_for = {}
    for p in prepared:
        for location in [page.location for page in p.pages] + [f.location for f in p.failures]:
            tally_for[location] = tallies[id(p)]
    rest = store_prepared(stages, joined, tally_for=tally_for)
    done = []
    for p in prepared:
        tally = p.tally  # what preparing it counted (already seen, skipped)
        tally.merge(tallies[id(p)])
        done.append(tally)
    done[0].merge(rest)  # nothing, unless a count had no location of the group
    return done


class IngestConsumer:
    """Runs the extract-dedup-store step of every source's batches on one thread, the one that
    opened the stages (the dedup index's SQLite connection and the extraction pool belong to
    it), one step at a time, while the sources' threads go on fetching. Other processes (Dask
    workers, archive pools) open stages of their own; the store's writer lock orders them.

    Fetched pages (``ingest``) are taken as they arrive: each source's batch is handed to the
    extraction pool at once, and the batches waiting to be stored are stored together, as one
    batch, when the pool has extracted them all and nothing else is queued (or when they hold
    ``run.batch_size`` pages): when nothing else is queued, those the pool has extracted are
    stored together while it extracts the rest once they hold half of ``run.batch_size`` pages
    (see ``_flush_ready``). So the pool extracts while sources still fetch
    and while the consumer deduplicates, and a hundred sources whose pages arrive together cost
    a few commits and dedup passes, not a hundred.
    A batch that shares a location, a host profile or its source with one waiting is stored
    after it, as if one ran after the other."""

    def __init__(self, stages: Stages | None = None) -> None:
        self._owner = threading.get_ident()
        self._stages = stages
        self._queue: queue.SimpleQueue[tuple[Future, Callable[[], object]] | WebBatch | None] = queue.SimpleQueue()
        self._closed = False
        self._lock = threading.Lock()  # a step is queued before close() drains, or refused
        self._waiting: list[WebBatch] = []  # prepared, to be stored together
        self.steps: list[list[str]] = []  # the sources of each store step of fetched batches (tests, benches)

    def call(self, step: Callable[[], T]) -> T:
        """Run ``step`` on the consumer's thread and return its result (from any thread)."""
        if threading.get_ident() == self._owner:
            return step()
        future: Future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the run is ending: no more batches are stored")
            self._queue.put((future, step))
        try:
            while not future.done():  # in slices: a Prefect timeout raised into this thread lands
                wait([future], timeout=0.1)
            return future.result()
        except BaseException:
            future.cancel()  # not started yet (this caller timed out or was stopped): never runs
            raise

    def ingest(self, batch: WebBatch) -> SourceTally:
        """Store a source's fetched batch (with others waiting, see above); from any thread."""
        stages = self._stages
        if stages is None or threading.get_ident() == self._owner:
            if stages is None:
                raise RuntimeError("this consumer has no stages to store fetched pages with")
            return store_alone(stages, batch)
        return wait_for([self.submit(batch)])[0]

    def can_submit(self) -> bool:
        """Whether this thread may hand batches over without waiting (``submit``): not the
        consumer's own thread (it stores them itself, ``ingest``)."""
        return self._stages is not None and threading.get_ident() != self._owner

    def submit(self, batch: WebBatch) -> Future:
        """Queue a fetched batch to be stored as ``ingest`` does, without waiting for it (from
        any thread but the consumer's; ``can_submit``): its future gives its tally. A source
        hands over each page as it arrives this way (``fetch_batch``), so the pool extracts it
        while the rest of the batch is still fetched."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the run is ending: no more batches are stored")
            self._queue.put(batch)
        return batch.future

    def serve(self, futures: Sequence[Future]) -> None:
        """On the consumer's thread: run the queued steps until every one of ``futures`` is done."""
        for future in futures:
            future.add_done_callback(lambda _: self._queue.put(None))  # wakes the loop below
        try:
            while not all(future.done() for future in futures):
                try:  # while batches wait for the pool, look at the queue often
                    item = self._queue.get(timeout=0.01 if self._waiting else None)
                except queue.Empty:
                    item = None
                if isinstance(item, WebBatch):
                    self._take(item)
                elif item is not None:
                    self._flush()  # a step queued after them sees them stored
                    self._run(*item)
                if self._waiting and sum(b.size for b in self._waiting) >= self._batch_cap():
                    self._flush()
                elif self._waiting and self._queue.empty():
                    self._flush_ready()
        finally:
            self._flush()

    def _flush_ready(self) -> None:
        """With nothing else queued: store the batches waiting once the pool has extracted them
        all, or those it has extracted while it goes on, once they are worth a step of their own
        (half of ``run.batch_size``). A store step costs a dedup pass and a commit however few
        pages it holds, and on a small machine it takes its CPU from the pool's processes: a
        step per batch the pool finishes made a tail of small steps after a crawl's last pages
        (about 25 steps of 0.1-0.3 s each for 100 sources whose last pages came together)."""
        ready = [b for b in self._waiting if not b.extracting()]
        if len(ready) == len(self._waiting) or sum(b.size for b in ready) * 2 >= self._batch_cap():
            self._flush(ready)

    def _batch_cap(self) -> int:
        return self._stages.config.run.batch_size if self._stages is not None else 1

    def _run(self, done: Future, step: Callable[[], object]) -> None:
        if not done.set_running_or_notify_cancel():
            return
        try:
            done.set_result(step())
        except Exception as exc:
            done.set_exception(exc)
        except BaseException as exc:  # Ctrl-C on this thread: the waiting source fails too
            done.set_exception(exc)
            raise

    def _take(self, batch: WebBatch) -> None:
        """Prepare a fetched batch (its pages go to the pool at once) to be stored with the others waiting."""
        if not batch.future.set_running_or_notify_cancel():
            return  # its source gave up waiting
        stages = self._stages
        assert stages is not None
        before = [
            w for w in self._waiting if w.source == batch.source or _depends(w.prepared, batch.pages, named_source=True)
        ]
        if before:  # stored first, and with them every other batch waiting: one step, not one per source
            self._flush()
        try:
            # Several sources' pages waiting together are worth the pool even when each is small.
            stages.extract_pool(sum(len(w.prepared.fresh) for w in self._waiting) + len(batch.pages))
            batch.prepared = prepare_pages(
                stages,
                batch.pages,
                tally=SourceTally(source=batch.source),
                named_source=True,
                failures=batch.failures,
                fetch_records=batch.fetch_records,
            )
        except Exception as exc:
            batch.future.set_exception(exc)
            return
        except BaseException as exc:
            batch.future.set_exception(exc)
            raise
        self._waiting.append(batch)

    def _flush(self, group: list[WebBatch] | None = None) -> None:
        """Store the batches waiting (or ``group`` of them) as one batch; if that fails, each
        alone (a failure stays its source's)."""
        if group is None:
            group = self._waiting
        self._waiting = [b for b in self._waiting if b not in group]
        if not group:
            return
        self.steps.append([b.source for b in group])
        try:
            tallies = store_web_batches(self._stages, group)
        except Exception as exc:
            if len(group) == 1:
                group[0].future.set_exception(exc)
                return
            for batch in group:
                self.steps.append([batch.source])
                try:
                    batch.future.set_result(store_web_batches(self._stages, [batch])[0])
                except Exception as alone:
                    batch.future.set_exception(alone)
            return
        except BaseException as exc:
            for batch in group:
                batch.future.set_exception(exc)
            raise
        for batch, tally in zip(group, tallies):
            batch.future.set_result(tally)

    def close(self) -> None:
        """Refuse new steps and fail the queued ones (the run is being stopped)."""
        with self._lock:
            self._closed = True
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is None:
                continue
            done = item.future if isinstance(item, WebBatch) else item[0]
            if done.set_running_or_notify_cancel():
                done.set_exception(RuntimeError("the run was stopped before this batch was stored"))


@contextmanager
def ingest_consumer(stages: Stages) -> Iterator[IngestConsumer]:
    """Route the ingest steps of ``stages`` through a consumer on this thread while the block runs."""
    consumer = stages.consumer = IngestConsumer(stages)
    try:
        yield consumer
    finally:
        consumer.close()
        stages.consumer = None


def in_ingest(stages: Stages, step: Callable[[], T]) -> T:
    """``step`` (one batch's extract-dedup-store) on the run's consumer thread, else here."""
    consumer = stages.consumer
    return step() if consumer is None else consumer.call(step)


# -- the run's shared crawl ---------------------------------------------------------------------


class Crawl:
    """The web side of one run, shared by all its sources: one threaded Fetcher (one client,
    one table of per-host gates with robots.txt Crawl-delay, one robots cache, one global
    connection limit) whose loop serves every source's thread at once, and the run's host pacer."""

    def __init__(self, stages: Stages) -> None:
        state = _ReadOnlyState(stages.store) if stages.dry_run else stages.store
        self.pacer = host_pacer(stages.config)
        from wiredesk.fetching.fetcher import Fetcher

        self.fetcher = Fetcher(fetch_settings(stages), state, pacer=self.pacer, threaded=True)
        self._closed = False
        self._writing = threading.Lock()  # one discovery write at a time
        self._queued: list[FetchRecord] = []  # discovery records of completed sources, not written yet
        self._queue_lock = threading.Lock()
        self.discovery_writes = 0  # how many writes recorded the sources' discovery

    def commit_discovery(self, source: str) -> None:
        """Record the discovery fetches (feed and sitemap validators) of ``source``, which completed,
        together with those of the sources that complete meanwhile: sources that end together (a
        crawl's sources end within a second of each other, when their last pages are stored) cost
        one write, not a transaction each, one after another, on the store's writer lock (100
        sources: ~0.6 s after the last page, load 19). Returns once ``source``'s records are
        written: by this thread, or by the one that held the write when they were queued (it
        wrote them before letting this one in). If that write fails, its sources' validators are
        not recorded: their next run fetches their feeds in full, which loses nothing."""
        records = self.fetcher.take_discovery(source)
        if not records:
            return
        with self._queue_lock:
            self._queued.extend(records)
        with self._writing:
            with self._queue_lock:
                taken, self._queued = self._queued, []
            if taken:
                self.discovery_writes += 1
                self.fetcher.state.record(taken)

    def close(self) -> None:
        """Cancels requests still in flight; each source committed its own discovery as it completed."""
        if self._closed:
            return
        self._closed = True
        try:
            self.fetcher.close(commit=False)
        finally:
            if hasattr(self.pacer, "close"):
                self.pacer.close()


@contextmanager
def shared_crawl(stages: Stages) -> Iterator[Crawl]:
    """The run's Crawl, as ``stages.crawl`` while the block runs."""
    crawl = stages.crawl = Crawl(stages)
    try:
        yield crawl
    finally:
        stages.crawl = None
        crawl.close()


# -- page files ---------------------------------------------------------------------------------


def select_files(stages: Stages, job: Job, *, limit: int | None, since: str | None) -> list[InputFile]:
    """The source's page files this run takes: dated on or after ``since``; with ``limit``,
    files not stored yet first, so repeated limited runs work through a folder."""
    files = expand_inputs(list(job.paths), source=job.source)
    if since:
        entries = load_manifest(job.manifest) if job.manifest else None
        # an archive's records are filtered by their own WARC-Date as it is read
        files = [f for f in files if is_archive(f.path) or _published_since(f.path, entries, since)]
    if limit is not None:
        # Stored under its key, or under its path by a store written before keys.
        ids = [f.key for f in files] + [str(f.path) for f in files]
        stored = {url for url, rec in stages.store.get(ids).items() if rec.stored}
        done = [f.key in stored or str(f.path) in stored for f in files]
        files = ([f for f, d in zip(files, done) if not d] + [f for f, d in zip(files, done) if d])[:limit]
    return files


def _published_since(path: Path, entries: dict[str, ManifestEntry] | None, since: str) -> bool:
    """A file's date is its manifest's ``published``, else the file's modification time."""
    entry = manifest_entry(entries, path)
    stamp = (
        entry.published if entry and entry.published else datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()
    )
    return is_since(stamp, since)


class BatchSizer:
    """How many page files the next batch takes.

    Sized from measured time, not a constant: the first batch is small (the pool starts on it
    and the first commit comes early), then each batch takes about ``run.batch_seconds`` of
    extraction at the throughput measured so far (never less than the first), and never more
    than ``run.batch_size`` (the bound on a transaction, on a task run and on the pages held in
    memory); near the source's end, never more than half of the files left (the last batches
    taper off). Every batch costs a task run and a commit, so a slow machine gets fewer pages
    per batch but not more batches per second. A source whose
    pages share host profiles (a configured source, or pages given URLs by a manifest) keeps
    ``run.batch_size``: what a batch learns about a host's furniture is used by the next
    batch, so its boundaries must not depend on timing for extraction to be reproducible.
    """

    def __init__(self, stages: Stages, *, fixed: bool) -> None:
        self.stages = stages
        self.cap = stages.config.run.batch_size
        self.fixed = fixed
        workers = stages.workers or cpu_count()
        self.first = max(stages.extract_settings.pool_min_batch, 4 * workers)
        self._pages = 0
        self._seconds = 0.0

    def observe(self, pages: int, seconds: float) -> None:
        """A batch of ``pages`` took ``seconds`` of extraction (in this process)."""
        self._pages += pages
        self._seconds += seconds

    def next_size(self, remaining: int | None = None) -> int:
        """The next batch's size; with ``remaining`` (files left in the source), never more
        than half of them (and never less than the first batch): the last batches taper off,
        so what is left to deduplicate and store once the pool has extracted the last page
        is a small batch, not a full one while the pool's processes sit idle."""
        if self.fixed:
            return self.cap
        pool = self.stages.extract_pool(0)
        rate = pool.pages_per_second if pool is not None else None
        if rate is None and self._pages and self._seconds > 0:
            rate = self._pages / self._seconds
        if rate is None:
            size = min(self.cap, self.first)
        else:
            size = min(self.cap, max(self.first, round(rate * self.stages.config.run.batch_seconds)))
        if remaining is not None:
            size = min(size, max(self.first, -(-remaining // 2)))
        return size


def feed_file_batches(
    stages: Stages,
    job: Job,
    files: Sequence[InputFile],
    store: Callable[[Stages, PreparedBatch], SourceTally],
) -> Iterator[tuple[int, SourceTally]]:
    """A source's page files as overlapping batches (``overlapped``): batch k+1 is read and
    handed to the extraction pool before batch k is deduplicated and stored (by ``store``: a
    plain call or a task run). Each batch is read when the one before has been stored, with
    the size ``BatchSizer`` gives it then. Yields ``(files in the batch, its tally)`` in order.
    """
    entries = load_manifest(job.manifest) if job.manifest else None
    max_bytes = getattr(stages.extract_settings, "max_bytes", DEFAULT_MAX_BYTES)
    sizer = BatchSizer(stages, fixed=job.named_source or bool(job.manifest))

    def read() -> Iterator[tuple[int, SourceTally, list[RawPage], list[Failure]]]:
        start = 0
        while start < len(files):
            chunk = files[start : start + sizer.next_size(len(files) - start)]
            start += len(chunk)
            tally = SourceTally(source=job.source)
            pages, failures = read_files(chunk, source=job.source, manifest=entries, max_bytes=max_bytes, tally=tally)
            yield len(chunk), tally, pages, failures

    # Sources may run on other threads: a batch's preparation and its store step (a plain call
    # or a task run, which routes its own body) run on the thread that owns the stages.
    yield from overlapped(
        stages,
        read(),
        store,
        named_source=job.named_source,
        observe=sizer.observe,
        on_owner=lambda step: in_ingest(stages, step),
    )


def stored_on_owner(stages: Stages, prepared: PreparedBatch) -> SourceTally:
    """``store_prepared`` on the thread that owns the stages (see ``IngestConsumer``)."""
    return in_ingest(stages, lambda: store_prepared(stages, prepared))


def ingest_file_batch(
    stages: Stages,
    paths: Sequence[InputFile],
    *,
    source: str,
    named_source: bool,
    manifest: dict[str, ManifestEntry] | None,
) -> SourceTally:
    """Read, extract, dedup and store one batch of page files (one store transaction)."""
    tally = SourceTally(source=source)
    started = time.perf_counter()
    max_bytes = getattr(stages.extract_settings, "max_bytes", DEFAULT_MAX_BYTES)
    pages, failures = read_files(paths, source=source, manifest=manifest, max_bytes=max_bytes, tally=tally)
    in_ingest(stages, lambda: ingest_pages(stages, pages, tally=tally, named_source=named_source, failures=failures))
    tally.seconds = time.perf_counter() - started
    return tally


# -- web archives -------------------------------------------------------------------------------


def _run_archives(
    stages: Stages, spec: RunSpec, job: Job, archives: Sequence[Archive], since: str | None, runner: BatchRunner
) -> SourceTally:
    tally = SourceTally(source=job.source)
    progress = runner.progress(len(archives), f"{job.source}: archive files processed")
    for done in runner.archives(stages, spec, archives, job, since):
        tally.merge(done)
        progress.advance(1)
    return tally


def archive_unit(stages: Stages, archive: Archive, job: Job, since: str | None) -> SourceTally:
    """One archive file of a job: the unit a runner schedules (a Prefect task, a pool job)."""
    config = job.web if job.web is not None and job.named_source else None
    # Read and stored batch by batch inside: the whole file on the consumer's thread.
    return in_ingest(
        stages,
        lambda: run_archive(
            stages, archive, source=job.source, config=config, named_source=job.named_source, since=since
        ),
    )


def archive_unit_remote(spec: RunSpec, archive: Archive, job: Job, since: str | None) -> SourceTally:
    """The same in another process: it opens the run's stages itself (once per process)."""
    return archive_unit(stages_for(spec), archive, job, since)


def _archive_pool(
    spec: RunSpec, archives: Sequence[Archive], job: Job, since: str | None, workers: int
) -> Iterator[SourceTally]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn: a forked child would inherit this process's open store connections.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(archives)), mp_context=context) as pool:
        futures = [pool.submit(archive_unit_remote, spec, archive, job, since) for archive in archives]
        for future in as_completed(futures):
            yield future.result()


# -- web pages ----------------------------------------------------------------------------------


def fetch_settings(stages: Stages) -> FetchSettings:
    return build_settings(FetchSettings, "fetch", dict(stages.config.fetch))


def source_spec(source: SourceConfig) -> SourceSpec:
    return SourceSpec(
        name=source.name,
        feeds=tuple(source.feeds),
        sitemaps=tuple(source.sitemaps),
        urls=tuple(source.urls),
        sites=tuple(source.sites),
        article_urls=source.article_urls,
    )


def _host(url: str) -> str:
    return host_key(url) or url


def account(outcomes: Sequence[FetchOutcome], tally: SourceTally, *, count_failures: bool = True) -> None:
    """Count fetch outcomes into the source's tally (pages themselves are counted on ingest;
    with ``count_failures=False`` failures are left to ingest, which stores them)."""
    for outcome in outcomes:
        record = outcome.record
        host = _host(record.url)
        tally.host_seconds[host] += record.duration_ms / 1000.0
        if outcome.skipped:
            tally.skipped[outcome.skipped] += 1
        elif record.status == 304:
            tally.not_modified += 1
        elif outcome.page is not None:
            tally.fetched += 1
        elif record.reason:
            if count_failures:
                tally.failed[record.reason] += 1
            tally.host_failures[host] += 1


def discover(fetcher: Fetcher, spec: SourceSpec, tally: SourceTally) -> list[Discovered]:
    """Read the source's feeds, sitemaps, URL lists and sites: the URLs to fetch."""
    report = fetcher.discover_report(spec)
    account(report.documents, tally)
    return list(report.items)


def wait_for(futures: Sequence[Future]) -> list[SourceTally]:
    """The tallies of batches handed to the consumer, waited for in slices (an exception raised
    into this thread from outside, a Prefect timeout, lands); interrupted or failed, those not
    prepared yet are withdrawn (never stored; a prepared one is stored with its group)."""
    try:
        done = []
        for future in futures:
            while not future.done():
                wait([future], timeout=0.1)
            done.append(future.result())
        return done
    except BaseException:
        for future in futures:
            future.cancel()
        raise


def fetch_batch(stages: Stages, fetcher: Fetcher, batch: Sequence[Discovered]) -> SourceTally:
    """Fetch one batch of URLs, then extract, dedup and store its pages.

    With the run's ingest consumer on another thread (a crawl), each page is handed over as
    soon as it is fetched, with its fetch state (``IngestConsumer.submit``): the pool extracts
    it while the rest of the batch is still fetched, and pages of many sources arriving
    together are stored together. The batch's fetch failures, 304s and skips follow when the
    batch is done. Fetch state (ETags, failures, back-off) is recorded with each page's
    article in one transaction, so a crash in between costs a re-fetch, never a lost article."""
    tally = SourceTally(source=batch[0].source if batch else "")
    started = time.perf_counter()
    consumer = stages.consumer
    streamed: list[Future] = []
    sent: set[int] = set()  # id() of the outcomes whose page went ahead

    def arrived(outcome: FetchOutcome) -> None:  # on the fetcher's loop: quick, never raises
        page = outcome.page
        if page is None or consumer is None:
            return
        try:
            future = consumer.submit(WebBatch(tally.source, [page], [], {page.location: outcome.record}, []))
        except RuntimeError:  # the run is ending: it goes with the batch's rest, which fails alike
            return
        streamed.append(future)
        sent.add(id(outcome))

    stream = consumer is not None and consumer.can_submit()
    try:
        outcomes = fetcher.fetch(batch, on_outcome=arrived if stream else None)
    except BaseException:
        for future in streamed:
            future.cancel()  # not prepared yet: never stored
        raise
    account(outcomes, tally, count_failures=False)
    tally.read += sum(o.page is not None for o in outcomes)
    outcomes = [o for o in outcomes if id(o) not in sent]
    pages = [o.page for o in outcomes if o.page is not None]
    failed = [o for o in outcomes if o.page is None and not o.skipped and o.record.reason]
    failures = [
        Failure(
            location=o.record.url,
            source=o.record.source,
            reason=o.record.reason or "fetch",
            detail=o.record.detail,
            stage="fetch",
        )
        for o in failed
    ]
    # Pages and fetch failures are stored together, with their fetch state, in one transaction.
    with_state = {o.page.location: o.record for o in outcomes if o.page is not None}
    with_state |= {o.record.url: o.record for o in failed}
    # Outcomes with neither (304, policy skips) carry no article: their state is recorded now.
    others = [o.record for o in outcomes if o.page is None and not o.record.reason and o.skipped != "stored"]
    others += [o.record for o in outcomes if o.skipped and o.skipped != "stored"]

    fetched = WebBatch(tally.source, pages, failures, with_state, others)
    if consumer is None:
        tally.merge(store_alone(stages, fetched))
    elif not stream:
        tally.merge(consumer.ingest(fetched))
    else:  # stored on the consumer's thread, with other sources' batches that arrive meanwhile
        if pages or failures or others:
            try:
                streamed.append(consumer.submit(fetched))
            except BaseException:
                for future in streamed:
                    future.cancel()
                raise
        for done in wait_for(streamed):
            tally.merge(done)
    tally.seconds = time.perf_counter() - started
    return tally


def run_web_source(
    stages: Stages,
    source: SourceConfig,
    *,
    limit: int | None = None,
    since: str | None = None,
    runner: BatchRunner = SEQUENTIAL,
    crawl: Crawl | None = None,
) -> SourceTally:
    """Discover a web source's URLs, then fetch and ingest them in batches: through the run's
    shared ``crawl`` when given (other sources fetch at the same time), else a Fetcher of its own."""
    tally = SourceTally(source=source.name)
    pacer: HostPacer | None = None
    if crawl is not None:
        fetcher = crawl.fetcher
    else:
        state = _ReadOnlyState(stages.store) if stages.dry_run else stages.store
        pacer = host_pacer(stages.config)
        from wiredesk.fetching.fetcher import Fetcher

        fetcher = Fetcher(fetch_settings(stages), state, pacer=pacer)
    complete = False
    try:
        found = runner.discover(fetcher, source_spec(source), tally)
        items = [d for d in found if not since or not d.published or is_since(d.published, since)]
        if limit is not None:
            items = items[:limit]
        tally.discovered += len(items)
        taken = len(items)
        progress = runner.progress(len(items), f"{source.name}: URLs processed")
        for batch in chunks(items, stages.config.run.batch_size):
            tally.merge(runner.fetch_batch(stages, fetcher, list(batch)))
            progress.advance(len(batch))
        # Listing pages (home, section, tag, archive, page/2) lead to more pages: follow them.
        while limit is None or len(items) < limit:
            more = fetcher.more_links(source.name, None if limit is None else limit - len(items))
            if not more:
                break
            items += more
            tally.discovered += len(more)
            for batch in chunks(more, stages.config.run.batch_size):
                tally.merge(runner.fetch_batch(stages, fetcher, list(batch)))
        # A feed's or sitemap's validators are kept only when every item it listed was taken:
        # after --limit/--since a 304 next time would hide the items this run left out.
        complete = taken == len(found) and not stages.dry_run
    finally:
        if crawl is not None:  # the shared Fetcher lives on: keep or drop this source's discovery only
            if complete:
                crawl.commit_discovery(source.name)
            else:
                fetcher.discard_discovery(source.name)
        else:
            fetcher.close(commit=complete)
            if hasattr(pacer, "close"):
                pacer.close()
    return tally


def host_pacer(config: WiredeskConfig) -> HostPacer | None:
    """Where this run's fetcher books per-host start times with every other process fetching
    for the same store (``run.host_pacing``): the store's Redis index if it has one, else a
    table in a PostgreSQL store (both: workers on several machines), else a directory beside
    a SQLite store (the processes of one machine)."""
    mode = config.run.host_pacing
    if mode == "off":
        return None
    if mode != "auto":
        return open_pacer(mode)
    index = config.store.index_dsn
    if index and index.startswith(("redis://", "rediss://")):
        return open_pacer(index)
    store = config.store.dsn
    if "://" not in store:
        path = Path(store).expanduser().absolute()
        return FilePacer(path.with_name(path.stem + ".pacing"))
    from wiredesk.storage.pacing import PgPacer

    return PgPacer(store)  # a PostgreSQL store: shared by every worker on every machine


class _ReadOnlyState:
    """The store's fetch state for a dry run: read, never written."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self, urls: Sequence[str]):  # noqa: ANN201 - the FetchState protocol's signature
        return self._store.get(urls)

    def record(self, records: Sequence[object]) -> None:
        return None

    def due(self, source: str, now: object, limit: int):  # noqa: ANN201 - RetryingFetchState
        return self._store.due(source, now, limit)
