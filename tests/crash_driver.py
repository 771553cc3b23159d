"""Run the pipeline (no Prefect) over page files, announcing stages on stdout so a test can
SIGKILL this process at a chosen point: ``extract`` (extraction running), ``commit``
(inside the store's write transaction, before COMMIT) or ``fetch`` (a web fetch running).

    python -m tests.crash_driver STORE STOP_AT INPUT_DIR [FEED_URL]
"""

from __future__ import annotations

import sys
import time

from sqlalchemy import event

from wiredesk.config import load_config
from wiredesk.fetching.files import expand_inputs
from wiredesk.pipeline import batch as pipeline
from wiredesk.pipeline.report import SourceTally


def announce(stage: str, stop_at: str) -> None:
    print(stage, flush=True)
    if stage == stop_at and stage != "fetch":
        time.sleep(30)  # the test kills us here (a fetch is killed while its request hangs)


def main(store: str, stop_at: str, inputs: str, feed: str | None = None) -> None:
    config = load_config(environ={}).with_overrides(store={"url": store}, run={"workers": 1, "batch_size": 10})
    original_extract = pipeline.extract_many

    def extract_many(*args, **kwargs):
        announce("extract", stop_at)
        return original_extract(*args, **kwargs)

    pipeline.extract_many = extract_many
    with pipeline.open_stages(config, run_id=f"crash-{stop_at}-{time.time()}") as stages:
        event.listen(stages.store.engine, "commit", lambda conn: announce("commit", stop_at))
        tally = SourceTally(source="local")
        files = expand_inputs([inputs])
        for batch in pipeline.chunks(files, config.run.batch_size):
            pages, failures = pipeline.read_files(
                batch, source="local", manifest=None, max_bytes=10_000_000, tally=tally
            )
            pipeline.ingest_pages(stages, pages, tally=tally, failures=failures)
            announce("batch", stop_at)
        if feed:
            from wiredesk.fetching import Fetcher, FetchSettings, SourceSpec

            settings = FetchSettings(
                allow_private=("127.0.0.1",),
                per_host_min_interval=0.0,
                read_timeout=30.0,
                total_timeout=60.0,
                retries=0,
            )
            with Fetcher(settings, stages.store) as fetcher:
                found = fetcher.discover(SourceSpec(name="web", feeds=(feed,)))
                announce("fetch", stop_at)
                outcomes = fetcher.fetch(found)
                pages = [o.page for o in outcomes if o.page is not None]
                pipeline.ingest_pages(
                    stages,
                    pages,
                    tally=tally,
                    named_source=True,
                    fetch_records={o.page.location: o.record for o in outcomes if o.page},
                )
    print("done", tally.stored, tally.exact, tally.near, tally.already_seen, flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
