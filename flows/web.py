"""Web sources inside the ingest flow: discover, then fetch and ingest in batches.

One task run for discovery and one per batch of URLs (never one per page). Fetch state
(ETags, failures, back-off) lives in the store; a fetched page's state is recorded only once
its article is stored, so a crash in between costs a re-fetch, never a lost article.
"""

from __future__ import annotations

import time
from typing import Sequence
from urllib.parse import urlsplit

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from config import SourceConfig
from config.stages import build_settings
from fetching import Discovered, Fetcher, FetchOutcome, FetchSettings, SourceSpec
from flows import pipeline
from flows.artifacts import RunProgress
from flows.report import SourceTally
from wiredesk.records import Failure


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


@task(name="discover-source", cache_policy=NO_CACHE, persist_result=False, cache_result_in_memory=False,
      retries=1, retry_delay_seconds=5)
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
    failures = [Failure(location=o.record.url, source=o.record.source, reason=o.record.reason or "fetch",
                        detail=o.record.detail, stage="fetch") for o in failed]
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
        pipeline.ingest_pages(stages, pages, tally=tally, named_source=True, failures=failures,
                              fetch_records=with_state)
    tally.seconds = time.perf_counter() - started
    return tally


def ingest_web_source(stages: pipeline.Stages, source: SourceConfig, *, limit: int | None = None,
                      since: str | None = None) -> SourceTally:
    logger = get_run_logger()
    tally = SourceTally(source=source.name)
    spec = SourceSpec(name=source.name, feeds=tuple(source.feeds), sitemaps=tuple(source.sitemaps),
                      urls=tuple(source.urls), sites=tuple(source.sites))
    with Fetcher(fetch_settings(stages), stages.store) as fetcher:
        items = discover_task(fetcher, spec, tally)
        if since:
            items = [d for d in items if not d.published or d.published[: len(since)] >= since]
        if limit is not None:
            items = items[:limit]
        tally.discovered += len(items)
        logger.info("source %s: %d URLs discovered", source.name, len(items))
        progress = RunProgress(total=len(items), description=f"{source.name}: URLs processed")
        for batch in pipeline.chunks(items, stages.config.run.batch_size):
            tally.merge(fetch_batch_task(stages, fetcher, list(batch)))
            progress.advance(len(batch))
    return tally
