"""The pipeline's glue: plain functions that run one batch of pages through the stages.

No prefect here: ``flows.ingest`` wraps these in flows and tasks, and tests call them
directly. State (store, index, deduplicator) lives in a ``Stages`` object opened once per
run and passed in.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wiredesk.config import WiredeskConfig
from wiredesk.config.stages import build_settings
from wiredesk.core.errors import InputError, WiredeskError
from wiredesk.core.records import Article, Extracted, Failure, FetchRecord, NotArticle, RawPage, article_id_for, utcnow
from wiredesk.dedup import Deduplicator, DedupSettings, content_hash, open_index
from wiredesk.extractors import ExtractPool, ExtractSettings, PoolBatch, cpu_count, extract_many, profile_host
from wiredesk.fetching.files import InputFile, ManifestEntry, direct_file, read_page
from wiredesk.pipeline.dryrun import scratch_config
from wiredesk.pipeline.report import SourceTally, mark
from wiredesk.storage import Store, open_store

if TYPE_CHECKING:
    # Host profiles (and the line rules they need) are imported where a batch has some: a run
    # of ad-hoc page files has none, and its process then never loads the extraction rules.
    from wiredesk.extractors import HostProfile


@dataclass
class Stages:
    """Everything one run needs, opened once: the store, the dedup index, the settings."""

    config: WiredeskConfig
    store: Store
    dedup: Deduplicator
    extract_settings: ExtractSettings
    run_id: str
    workers: int | None = None
    dry_run: bool = False  # the store is a scratch copy, deleted on close
    dry_run_note: str | None = None
    _exit: ExitStack = field(default_factory=ExitStack, repr=False)
    _pool: ExtractPool | None = field(default=None, repr=False)
    # While a run goes (``pipeline.run``): its ingest consumer (``sources.IngestConsumer``: the
    # thread that stores every batch) and its shared crawl (``sources.Crawl``), found through the
    # stages by every source's thread and task run in this process; None elsewhere (a Dask worker).
    consumer: Any = field(default=None, repr=False)
    crawl: Any = field(default=None, repr=False)

    def extract_pool(self, pages: int) -> ExtractPool | None:
        """The run's extraction processes (``workers`` of them, one per core when unset), kept
        from the first batch of at least ``extract.pool_min_batch`` pages to the run's end; None
        with one worker, or while no batch has been big enough to be worth starting them."""
        if self._pool is None:
            workers = cpu_count() if self.workers is None else self.workers
            if workers <= 1 or pages < max(2, self.extract_settings.pool_min_batch):
                return None
            self._pool = ExtractPool(workers, self.extract_settings)
            self._exit.callback(self._close_pool)
        return self._pool

    def _close_pool(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def close(self) -> None:
        self._exit.close()

    def __enter__(self) -> Stages:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_stages(config: WiredeskConfig, *, run_id: str, dry_run: bool = False) -> Stages:
    """Open the store and the dedup index named by ``config`` (validated settings objects).

    A dry run opens a scratch copy instead (``pipeline.dryrun``), deleted when the stages
    close: ``Stages.config`` then names the scratch store, and ``dry_run_note`` says what the
    copy could not include."""
    extract_settings = build_settings(ExtractSettings, "extract", dict(config.extract))
    dedup_settings = build_settings(DedupSettings, "dedup", dict(config.dedup))
    stack = ExitStack()
    note = None
    try:
        if dry_run:
            config, note = stack.enter_context(scratch_config(config))
        store = stack.enter_context(open_store(config.store.dsn))
        index = open_index(config.store.index_dsn or store.dedup_location, settings=dedup_settings)
        stack.callback(index.close)
        dedup = Deduplicator(dedup_settings, index, store.get_articles)
    except BaseException:
        stack.close()
        raise
    return Stages(
        config=config,
        store=store,
        dedup=dedup,
        extract_settings=extract_settings,
        run_id=run_id,
        workers=config.run.workers,
        dry_run=dry_run,
        dry_run_note=note,
        _exit=stack,
    )


@dataclass(frozen=True)
class RunSpec:
    """What a task on another process (a Dask worker) needs to open the run's stages itself:
    live objects (store connections, the index) do not travel, their configuration does."""

    config: WiredeskConfig
    run_id: str
    dry_run: bool = False


_OPEN_STAGES: dict[tuple[str, str], Stages] = {}


def _key(spec: RunSpec) -> tuple[str, str]:
    return (spec.config.store.dsn, spec.run_id)


@contextmanager
def registered(spec: RunSpec, stages: Stages) -> Iterator[None]:
    """Make the run's own open stages what ``stages_for(spec)`` returns in this process."""
    _OPEN_STAGES[_key(spec)] = stages
    try:
        yield
    finally:
        _OPEN_STAGES.pop(_key(spec), None)


def stages_for(spec: RunSpec) -> Stages:
    """The stages of ``spec`` in this process: the run's own in the flow's process, else
    (a Dask worker) opened once per worker process and run.

    Opened here, extraction runs in-process (one page at a time per task): the Dask
    cluster is the process pool, and its worker processes may not start processes of their own.
    """
    stages = _OPEN_STAGES.get(_key(spec))
    if stages is None:
        for old in list(_OPEN_STAGES):  # a worker serves one run at a time: close the previous
            _OPEN_STAGES.pop(old).close()
        stages = open_stages(spec.config, run_id=spec.run_id, dry_run=spec.dry_run)
        stages.workers = 1
        _OPEN_STAGES[_key(spec)] = stages
    return stages


def profile_key(page: RawPage, *, named_source: bool) -> str | None:
    """Which per-host furniture memory a page shares.

    The key is the extraction stage's own (``extractors.profile_host``: the URL's host, else
    the source name), so what is learned here is what ``extract_many`` looks up. Ad-hoc
    ``--input`` files without a URL share none: they may come from many sites, and
    syndicated copies among them would teach each other that the story itself is furniture.
    """
    return profile_host(page) if page.url or named_source else None


def body_digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def read_files(
    paths: Sequence[InputFile | Path],
    *,
    source: str,
    manifest: Mapping[str, ManifestEntry] | None,
    max_bytes: int,
    tally: SourceTally,
) -> tuple[list[RawPage], list[Failure]]:
    """Read page files (from ``expand_inputs``; a bare path counts as a file named directly);
    unreadable ones become Failures with their reason."""
    pages: list[RawPage] = []
    failures: list[Failure] = []
    for item in paths:
        file = item if isinstance(item, InputFile) else direct_file(item, source)
        try:
            pages.append(read_page(file.path, source=source, manifest=manifest, max_bytes=max_bytes, key=file.key))
        except InputError as exc:
            failures.append(
                Failure(location=str(file.path), source=source, reason=exc.reason, detail=exc.message, stage="read")
            )
    tally.read += len(paths)  # every page taken in, whether it could be read or failed
    return pages, failures


def keep_stored_identity(store: Store, pages: Sequence[RawPage]) -> list[RawPage]:
    """Stores written before file keys identify a file by its absolute path: a file already
    stored that way keeps that identity (no re-ingest on upgrade; moving it then re-ingests
    it once, under its key). Files stored under their key, and new files, use the key."""
    legacy = [page.path for page in pages if page.key and page.path]
    if not legacy:
        return list(pages)
    by_path = set(store.get(legacy)) | set(store.known(legacy))
    if not by_path:
        return list(pages)
    keys = [page.key for page in pages if page.key and page.path in by_path]
    by_key = set(store.get(keys)) | set(store.known(keys))
    return [
        replace(page, key=None) if page.key and page.path in by_path and page.key not in by_key else page
        for page in pages
    ]


class PreparedBatch:
    """A batch read and handed to extraction, not stored yet: ``prepare_pages`` makes it,
    ``store_prepared`` waits for its extraction and stores it (one transaction). Between the
    two, the extraction pool works on it while the caller stores the batch before.

    A plain object, not a dataclass: Prefect walks a task's dataclass parameters, and the
    pages need no walking."""

    def __init__(
        self,
        *,
        source: str,
        pages: list[RawPage],
        fresh: list[RawPage],
        keys: list[str | None],
        digests: dict[str, str],
        seen_files: dict[str, str],
        failures: list[Failure],
        fetch_records: Mapping[str, FetchRecord],
        profiles: dict[str, HostProfile],
        tally: SourceTally,
        check: Callable[[RawPage], str | None] | None = None,
    ) -> None:
        self.source = source
        self.check = check  # the page-type check extraction runs first (pages from archives)
        self.pages, self.fresh, self.keys, self.digests = pages, fresh, keys, digests
        self.seen_files, self.failures, self.fetch_records = seen_files, failures, fetch_records
        self.profiles = profiles
        self.tally = tally  # what was counted while preparing (read, skipped, seen before)
        self.extraction: PoolBatch | None = None
        self.results: list[Extracted | NotArticle | WiredeskError] | None = None

    @property
    def locations(self) -> set[str]:
        return {page.location for page in self.pages} | {page.path for page in self.pages if page.path}

    @property
    def profile_keys(self) -> set[str]:
        return {key for key in self.keys if key}


def prepare_pages(
    stages: Stages,
    pages: Sequence[RawPage],
    *,
    tally: SourceTally,
    named_source: bool = False,
    failures: Iterable[Failure] = (),
    fetch_records: Mapping[str, FetchRecord] | None = None,
    check: Callable[[RawPage], str | None] | None = None,
) -> PreparedBatch:
    """The first half of a batch: skip what is stored already, load the host profiles its pages
    need and hand the rest to the run's extraction pool (``stages.extract_pool``), which starts
    on it at once. Counts what it skips into ``tally``. ``check``: a page-type check that
    extraction runs first (``fetching.pagetype.ListingCheck`` for pages from web archives: a
    fetched page was checked by the fetcher); a page it names a reason for is skipped
    ``not-article``, as a fetched listing is."""
    store = stages.store
    pages = keep_stored_identity(store, pages)
    unique: dict[str, RawPage] = {}
    for page in pages:  # one location twice in a batch: the first copy stands, the rest are counted
        if page.location in unique:
            tally.skipped["duplicate-location"] += 1
        else:
            unique[page.location] = page
    pages = list(unique.values())
    # A page whose exact bytes were already stored from this location is skipped unextracted:
    # extraction learns per-host furniture across runs, so re-extracting could drift.
    digests = {page.location: body_digest(page.body) for page in pages}
    previous = store.get(list(digests))
    fresh: list[RawPage] = []
    seen_files: dict[str, str] = {}  # location -> where the file is now (it may have moved)
    for page in pages:
        record = previous.get(page.location)
        if record is not None and record.stored and record.etag == digests[page.location]:
            tally.already_seen += 1
            if page.key and page.path:
                seen_files[page.location] = page.path
        else:
            fresh.append(page)
    keys = [profile_key(page, named_source=named_source) for page in fresh]
    prepared = PreparedBatch(
        source=tally.source,
        pages=pages,
        fresh=fresh,
        keys=keys,
        digests=digests,
        seen_files=seen_files,
        failures=list(failures),
        fetch_records=fetch_records or {},
        profiles=_load_profiles(store, keys),
        tally=tally,
        check=check,
    )
    pool = stages.extract_pool(len(fresh))
    if pool is not None:
        prepared.extraction = pool.submit(fresh, prepared.profiles, check=check)
    return prepared


def _extracted(stages: Stages, prepared: PreparedBatch) -> list[Extracted | NotArticle | WiredeskError]:
    if prepared.results is None:
        if prepared.extraction is not None:
            pool = stages.extract_pool(0)
            assert pool is not None
            prepared.results = pool.results(prepared.extraction)
        else:  # no pool (one worker, or a batch too small to start one): in this process
            prepared.results = extract_many(
                prepared.fresh,
                settings=stages.extract_settings,
                profiles=prepared.profiles,
                workers=1,
                check=prepared.check,
            )
    return prepared.results


def store_prepared(
    stages: Stages, prepared: PreparedBatch, *, tally_for: Mapping[str, SourceTally] | None = None
) -> SourceTally:
    """The second half of a batch: its extraction results, deduplicated and stored in one
    transaction. Returns what it counted (a new tally each call: a retried call counts once).
    ``tally_for``: location -> the tally a page's counts go to instead (a batch that joins the
    batches of several sources, ``sources.IngestConsumer``)."""
    tally = SourceTally(source=prepared.source)

    def of(location: str) -> SourceTally:
        return tally if tally_for is None else tally_for.get(location, tally)

    failures = list(prepared.failures)
    seen_files = dict(prepared.seen_files)
    store = stages.store
    results = _extracted(stages, prepared)
    articles: list[Article] = []
    listings: dict[str, str] = {}  # location -> why it is no article
    for page, result in zip(prepared.fresh, results):
        if isinstance(result, NotArticle):  # a listing: skipped, as a fetched one is
            of(page.location).skipped["not-article"] += 1
            listings[page.location] = result.why
            continue
        if isinstance(result, WiredeskError):
            failures.append(
                Failure(
                    location=page.location,
                    source=page.source,
                    reason=result.reason,
                    detail=result.message,
                    stage="extract",
                )
            )
            continue
        of(page.location).extracted += 1
        url = page.url or (result.canonical_url if not result.names_original else None)
        articles.append(
            Article(
                id=article_id_for(page.location),
                source=page.source,
                text=result.text,
                content_hash=content_hash(result.text),
                fetched_at=page.fetched_at,
                url=url,
                path=page.path,
                key=page.key,
                title=result.title,
                author=result.author,
                # The page's own date wins; the feed's (page.published) only when it has none.
                published=result.published or page.published,
                language=result.language,
                canonical_url=result.canonical_url,
                original_url=result.original_url,
                names_original=result.names_original,
            )
        )
    for failure in failures:
        of(failure.location).failed[failure.reason] += 1

    with store.writer_lock(timeout_s=stages.config.run.lock_timeout_s):
        # Another process may have stored articles since our index last looked: catch up
        # inside the lock, so two writers never miss each other's copies.
        stages.dedup.reindex(store.iter_since(stages.dedup.index.last_seq()))
        known = store.known([a.location for a in articles])
        new_articles: list[Article] = []
        changed: set[str] = set()
        for article in articles:
            seen = known.get(article.location)
            if seen is not None and seen[1] == article.content_hash:
                of(article.location).already_seen += 1
                if article.key and article.path:
                    seen_files[article.location] = article.path
                continue
            if seen is not None:
                changed.add(article.id)
            new_articles.append(article)
        # Fetch state goes into the batch's own transaction: a URL is marked stored exactly
        # when its article is, and its ETag is never kept for an article that was lost.
        records = _fetch_records(prepared.pages, prepared.digests, failures, prepared.fetch_records, listings)
        result = stages.dedup.assign(new_articles)
        try:
            seq = store.write_batch(
                run_id=stages.run_id,
                articles=new_articles,
                assignments=result.assignments,
                updates=result.updates,
                failures=failures,
                fetch_records=records,
            )
        except BaseException:
            stages.dedup.abort()  # releases a shared index's lock; the batch is retried whole
            raise
        stages.dedup.commit(seq)
        store.relocate(seen_files)  # files seen before under another folder: their path follows
        for article, assignment in zip(new_articles, result.assignments):  # one each, in order
            counted = of(article.location)
            if assignment.article_id in changed:  # an update of a stored article, counted once
                counted.changed += 1
            elif assignment.kind == "exact":
                counted.exact += 1
            elif assignment.kind == "near":
                counted.near += 1
            else:
                counted.stored += 1
            if assignment.kind != "new" and assignment.article_id not in changed:
                counted.clusters[assignment.cluster_id] += 1
        # A listing teaches the host's furniture nothing, as a fetched one never reaches here.
        learned = [(p, k) for p, k in zip(prepared.fresh, prepared.keys) if p.location not in listings]
        _save_profiles(store, [p for p, _ in learned], [k for _, k in learned])
    mark("first_page")
    return tally


def ingest_pages(
    stages: Stages,
    pages: Sequence[RawPage],
    *,
    tally: SourceTally,
    named_source: bool = False,
    failures: Iterable[Failure] = (),
    fetch_records: Mapping[str, FetchRecord] | None = None,
    check: Callable[[RawPage], str | None] | None = None,
) -> None:
    """Extract, deduplicate and store one batch of pages (one store transaction), counting into
    ``tally``: ``prepare_pages`` then ``store_prepared``, with nothing in between.

    ``fetch_records`` maps a page location to the fetch state to persist once the page's
    article is stored: recording ETags only after the article is safely stored means a crash
    in between costs a re-fetch, never a lost article.
    """
    prepared = prepare_pages(
        stages,
        pages,
        tally=tally,
        named_source=named_source,
        failures=failures,
        fetch_records=fetch_records,
        check=check,
    )
    tally.merge(store_prepared(stages, prepared))


def overlapped(
    stages: Stages,
    batches: Iterable[tuple[int, SourceTally, Sequence[RawPage], Sequence[Failure]]],
    store: Callable[[Stages, PreparedBatch], SourceTally] = store_prepared,
    *,
    named_source: bool,
    observe: Callable[[int, float], None] | None = None,
    on_owner: Callable[[Callable[[], PreparedBatch]], PreparedBatch] = lambda step: step(),
) -> Iterator[tuple[int, SourceTally]]:
    """Batches ``(count, tally, pages, failures)`` through the stages, overlapped: batch k+1 is
    prepared (handed to the extraction pool) before batch k is stored by ``store`` (a plain
    call or a task run), so the pool's processes keep extracting while this one deduplicates
    and stores. Yields ``(count, tally)`` per batch, in order, once it is stored.

    At most two batches are in flight (the one being stored and the one being extracted), and
    the next batch is taken from ``batches`` only when one has been stored: the memory held is
    bounded by two batches, whatever the run's size. A batch that shares a location or a host
    profile with the one before waits for it to be stored first (it must see what that one
    stored and learned), so the results are those of the batches run one after another.
    ``observe(pages, seconds)`` hears how long a batch extracted in this process took.
    ``on_owner(step)`` runs a batch's preparation on the thread that owns the stages (the
    run's ingest consumer when sources run on other threads).
    """
    pending: tuple[int, PreparedBatch] | None = None
    last = time.perf_counter()  # batches overlap: each is given the wall time since the one before

    def finish(item: tuple[int, PreparedBatch]) -> tuple[int, SourceTally]:
        nonlocal last
        count, prepared = item
        started = time.perf_counter()
        stored = store(stages, prepared)
        tally = prepared.tally
        tally.merge(stored)
        if observe is not None and prepared.extraction is None:  # extracted here, in the store step
            observe(len(prepared.fresh), time.perf_counter() - started)
        tally.seconds, last = time.perf_counter() - last, time.perf_counter()
        return count, tally

    for count, tally, pages, failures in batches:
        if pending is not None and _depends(pending[1], pages, named_source=named_source):
            yield finish(pending)
            pending = None
        prepared = on_owner(
            lambda pages=pages, tally=tally, failures=failures: prepare_pages(
                stages, pages, tally=tally, named_source=named_source, failures=failures
            )
        )
        if pending is not None:
            yield finish(pending)
        pending = (count, prepared)
    if pending is not None:
        yield finish(pending)


def _depends(before: PreparedBatch, pages: Sequence[RawPage], *, named_source: bool) -> bool:
    """Whether ``pages`` must wait for ``before`` to be stored: a location both hold, or a
    host profile ``before`` will update that one of ``pages`` would be extracted with."""
    locations = before.locations
    if any(page.location in locations or (page.path and page.path in locations) for page in pages):
        return True
    keys = before.profile_keys
    return bool(keys) and any(profile_key(page, named_source=named_source) in keys for page in pages)


def _fetch_records(
    pages: Sequence[RawPage],
    digests: Mapping[str, str],
    failures: Sequence[Failure],
    fetched: Mapping[str, FetchRecord],
    listings: Mapping[str, str] | None = None,
) -> list[FetchRecord]:
    """The fetch state to persist with a batch: stored pages, failures with their reason, and
    listings (not stored, with why, as the fetcher records a fetched listing)."""
    now = utcnow()
    failed = {f.location for f in failures}
    records = []
    for page in pages:
        if page.location in failed:
            continue
        base = fetched.get(page.location)
        if listings and page.location in listings:
            detail = f"not an article ({listings[page.location]})"[:500]
            if base is None:  # from a file or an archive: its body digest stands in for an ETag
                base = FetchRecord(
                    url=page.location,
                    source=page.source,
                    etag=digests[page.location],
                    bytes=len(page.body),
                    fetched_at=now,
                )
            records.append(replace(base, stored=False, detail=detail))
            continue
        if base is None:  # a file on disk: its body digest stands in for an ETag
            records.append(
                FetchRecord(
                    url=page.location,
                    source=page.source,
                    etag=digests[page.location],
                    stored=True,
                    bytes=len(page.body),
                    fetched_at=now,
                )
            )
        else:
            records.append(replace(base, stored=True))
    for f in failures:
        base = fetched.get(f.location)
        if base is not None:  # fetched fine, but no article in it: keep its validators
            records.append(replace(base, stored=False))
        else:
            records.append(
                FetchRecord(
                    url=f.location,
                    source=f.source,
                    reason=f.reason,
                    detail=f.detail[:500],
                    stored=False,
                    fetched_at=now,
                )
            )
    return records


def _load_profiles(store: Store, keys: Sequence[str | None]) -> dict[str, HostProfile]:
    wanted = sorted({k for k in keys if k})
    if not wanted:
        return {}
    from wiredesk.extractors import HostProfile

    return {key: HostProfile.from_json(text) for key, text in store.load_profiles(wanted).items()}


def _save_profiles(store: Store, pages: Sequence[RawPage], keys: Sequence[str | None]) -> None:
    by_key: dict[str, list[RawPage]] = {}
    for page, key in zip(pages, keys):
        if key:
            by_key.setdefault(key, []).append(page)
    if not by_key:
        return
    from wiredesk.extractors import merge_learned, pages_lines

    # The lines are read here; the merge into the profile as committed now happens inside
    # the store's transaction, so a concurrent batch of the same host adds to it.
    lines = {key: pages_lines(group) for key, group in by_key.items()}
    store.update_profiles(lines, lambda key, stored: merge_learned(stored, key, lines[key]))


def chunks(items: Sequence, size: int) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
