"""A fetched page goes on as soon as it arrives (issue 16): ``Fetcher.fetch(on_outcome=...)`` reports
each URL's outcome when it is done, and a crawl's ``fetch_batch`` hands each page to the run's
ingest consumer then, so a slow page of a batch does not hold back the extraction and the storing
of the others. The hostile test server; real stages (SQLite store, dedup, extraction)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from pathlib import Path

import pytest

from tests.fetchserver import FetchServer, make_settings
from wiredesk.config import load_config
from wiredesk.fetching import Discovered, Fetcher, MemoryFetchState
from wiredesk.pipeline.batch import open_stages
from wiredesk.pipeline.sources import IngestConsumer, fetch_batch
from wiredesk.storage import open_store

SLOW_MS = 1500


@pytest.mark.parametrize("threaded", [False, True])
def test_each_outcome_is_reported_when_it_is_done_before_the_batch_returns(threaded: bool) -> None:
    settings = make_settings(read_timeout=5.0, total_timeout=8.0)
    with FetchServer(hosts=1, pages=2) as server:
        slow, fast = f"{server.base()}/sleep/{SLOW_MS}/1", f"{server.base()}/article/0"
        reported: list[tuple[str, float, threading.Thread]] = []
        with Fetcher(settings, MemoryFetchState(), threaded=threaded) as fetcher:
            started = time.monotonic()
            outcomes = fetcher.fetch(
                [slow, fast, fast],  # the copy of fast is merged: reported once
                on_outcome=lambda o: reported.append((o.record.url, time.monotonic(), threading.current_thread())),
            )
            took = time.monotonic() - started
    assert [o.page is not None for o in outcomes] == [True, True, False]
    assert ["/sleep/" in url for url, _, _ in reported] == [False, True]
    # the fast page was reported well before the slow one was done and the batch returned
    assert reported[0][1] - started < took - SLOW_MS / 2000
    assert (reported[0][2] is threading.current_thread()) is not threaded


def test_a_failing_hook_is_logged_and_the_batch_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    def hook(outcome: object) -> None:
        raise ValueError("boom")

    with FetchServer(hosts=1, pages=2) as server:
        with Fetcher(make_settings(), MemoryFetchState()) as fetcher:
            outcomes = fetcher.fetch([f"{server.base()}/article/{n}" for n in range(2)], on_outcome=hook)
    assert all(o.page is not None for o in outcomes)
    assert caplog.text.count("on_outcome hook failed") == 2


class TimedConsumer(IngestConsumer):
    """The run's consumer, noting when each of its store steps ended."""

    def __init__(self, stages: object) -> None:
        super().__init__(stages)
        self.ended: list[float] = []

    def _flush(self, group: object = None) -> None:
        super()._flush(group)
        self.ended.append(time.monotonic())


def test_a_crawl_batch_stores_its_first_page_while_a_slow_one_is_still_fetched(tmp_path: Path) -> None:
    path = tmp_path / "wiredesk.yaml"
    path.write_text(
        f"store: {{url: {tmp_path / 'w.db'}}}\nexport: {{out: {tmp_path / 'c.jsonl'}}}\nrun: {{workers: 1}}\n"
    )
    settings = make_settings(read_timeout=8.0, total_timeout=10.0)
    slow_ms = 3000  # time enough for the first page's store step on a loaded machine
    with FetchServer(hosts=1, pages=2) as server, open_stages(load_config(path, environ={}), run_id="r1") as stages:
        consumer = stages.consumer = TimedConsumer(stages)
        fetcher = Fetcher(settings, stages.store, threaded=True)
        slow = f"{server.base()}/sleep/{slow_ms}/1"
        batch = [Discovered(slow, "outlet"), Discovered(server.base() + "/article/0", "outlet")]
        done: Future = Future()

        def source() -> None:  # a source's thread, as in a crawl
            try:
                done.set_result(fetch_batch(stages, fetcher, batch))
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                done.set_exception(exc)

        thread = threading.Thread(target=source)
        thread.start()
        consumer.serve([done])
        thread.join()
        fetcher.close()
        stages.consumer = None
        tally = done.result()
        slow_done = max(seen.end for seen in server.requests() if seen.path.startswith("/sleep/"))
    assert (tally.read, tally.fetched, tally.extracted, tally.stored) == (2, 2, 2, 2)
    assert consumer.steps == [["outlet"], ["outlet"]]  # each page its own step
    assert consumer.ended[0] < slow_done  # the first page was stored before the slow one was there
    with open_store(str(tmp_path / "w.db")) as store:
        state = store.get([d.url for d in batch])
    assert len(state) == 2 and all(r.stored for r in state.values())  # fetch state stored with each page
