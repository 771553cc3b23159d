"""Web sources inside the ingest flow: discover, then fetch and ingest in batches.

One task run for discovery and one per batch of URLs (never one per page). Fetch state
(ETags, failures, back-off) lives in the store; a fetched page's state is recorded only once
its article is stored, so a crash in between costs a re-fetch, never a lost article.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from urllib.parse import urlsplit

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from wiredesk.config import SourceConfig
from wiredesk.config.stages import build_settings
from wiredesk.core.records import Failure
from wiredesk.fetching import Discovered, Fetcher, FetchOutcome, FetchSettings, SourceSpec
from wiredesk.flows.artifacts import RunProgress
from wiredesk.pipeline import batch as pipeline
from wiredesk.pipeline.report import SourceTally, is_since


def fetch_settings(stages: pipeline.Stages) -> FetchSettings:
    return build_settings(FetchSettings, "fetch", dict(stages.config.fetch))


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


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


@task(
    name="discover-source",
    cache_policy=NO_CACHE,
    persist_result=False,
    cache_result_in_memory=False,
    retries=1,
    retry_delay_seconds=5,
)
def discover_task(fetcher: Fetcher, spec: SourceSpec, tally: SourceTally) -> list[Discovered]:
    report = fetcher.discover_report(spec)
    account(report.documents, tally)
    return list(report.items)


@task(name="fetch-batch", cache_policy=NO_CACHE, persist_result=False, cache_result_in_memory=False)
def fetch_batch_task(stages: pipeline.Stages, fetcher: Fetcher, batch: Sequence[Discovered]) -> SourceTally:
    tally = SourceTally(source=batch[0].source if batch else "")
    started = time.perf_counter()
    outcomes = fetcher.fetch(batch)
    account(outcomes, tally, count_failures=False)
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
    if others and not stages.dry_run:
        stages.store.record(list({r.url: r for r in others}.values()))
    tally.read += len(pages)
    if pages or failures:
        pipeline.ingest_pages(
            stages, pages, tally=tally, named_source=True, failures=failures, fetch_records=with_state
        )
    tally.seconds = time.perf_counter() - started
    return tally


def ingest_web_source(
    stages: pipeline.Stages, source: SourceConfig, *, limit: int | None = None, since: str | None = None
) -> SourceTally:
    logger = get_run_logger()
    tally = SourceTally(source=source.name)
    spec = SourceSpec(
        name=source.name,
        feeds=tuple(source.feeds),
        sitemaps=tuple(source.sitemaps),
        urls=tuple(source.urls),
        sites=tuple(source.sites),
        article_urls=source.article_urls,
    )
    state = _ReadOnlyState(stages.store) if stages.dry_run else stages.store
    fetcher = Fetcher(fetch_settings(stages), state)
    complete = False
    try:
        found = discover_task(fetcher, spec, tally)
        items = [d for d in found if not since or not d.published or is_since(d.published, since)]
        if limit is not None:
            items = items[:limit]
        tally.discovered += len(items)
        taken = len(items)
        logger.info("source %s: %d URLs discovered, %d taken", source.name, len(found), len(items))
        progress = RunProgress(total=len(items), description=f"{source.name}: URLs processed")
        for batch in pipeline.chunks(items, stages.config.run.batch_size):
            tally.merge(fetch_batch_task(stages, fetcher, list(batch)))
            progress.advance(len(batch))
        # Listing pages (home, section, tag, archive, page/2) lead to more pages: follow them.
        while limit is None or len(items) < limit:
            more = fetcher.more_links(source.name, None if limit is None else limit - len(items))
            if not more:
                break
            items += more
            tally.discovered += len(more)
            for batch in pipeline.chunks(more, stages.config.run.batch_size):
                tally.merge(fetch_batch_task(stages, fetcher, list(batch)))
        # A feed's or sitemap's validators are kept only when every item it listed was taken:
        # after --limit/--since a 304 next time would hide the items this run left out.
        complete = taken == len(found) and not stages.dry_run
    finally:
        fetcher.close(commit=complete)
    return tally


class _ReadOnlyState:
    """The store's fetch state for a dry run: read, never written."""

    def __init__(self, store: pipeline.Store) -> None:
        self._store = store

    def get(self, urls: Sequence[str]):  # noqa: ANN201 - the FetchState protocol's signature
        return self._store.get(urls)

    def record(self, records: Sequence[object]) -> None:
        return None

    def due(self, source: str, now: object, limit: int):  # noqa: ANN201 - RetryingFetchState
        return self._store.due(source, now, limit)
