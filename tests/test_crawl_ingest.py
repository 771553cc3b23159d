"""A crawl's pages are ingested as they arrive (issue 16): the run's ingest consumer takes each
source's fetched batch at once (its pages go to the extraction pool) and stores the batches
waiting together, as one batch (one dedup pass, one commit), with each source's counts exact.
Real stages (SQLite store, dedup index, extraction), real threads; no fakes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from tests.fetchserver import article_html
from wiredesk.config import load_config
from wiredesk.core.records import FetchRecord, RawPage
from wiredesk.dedup.hosts import FurnitureView
from wiredesk.extractors import ExtractPool, ExtractSettings
from wiredesk.pipeline.batch import open_stages
from wiredesk.pipeline.run import start_pool_early
from wiredesk.pipeline.sources import IngestConsumer, WebBatch
from wiredesk.storage import open_store


def stages_at(tmp_path: Path, *, workers: int = 1):
    path = tmp_path / "wiredesk.yaml"
    path.write_text(
        f"store: {{url: {tmp_path / 'w.db'}}}\nexport: {{out: {tmp_path / 'c.jsonl'}}}\nrun: {{workers: {workers}}}\n"
    )
    return open_stages(load_config(path, environ={}), run_id="r1")


def fetched(source: str, port: int, pages: int = 3) -> WebBatch:
    """A source's batch as ``fetch_batch`` hands it over: pages with their fetch state."""
    raw = [
        RawPage(kind="html", source=source, url=f"http://127.0.0.1:{port}/articles/{n}", body=article_html(port, n))
        for n in range(pages)
    ]
    state = {
        p.location: FetchRecord(url=p.location, source=source, status=200, etag=f'"{n}"') for n, p in enumerate(raw)
    }
    return WebBatch(source, raw, [], state, [])


def serve_all(consumer: IngestConsumer, batches: list[WebBatch]) -> tuple[dict[str, object], IngestConsumer]:
    """Each batch from a source thread of its own, all queued before the consumer starts."""
    results: dict[str, object] = {}
    futures = []
    from concurrent.futures import Future

    def source(batch: WebBatch, done: Future) -> None:
        try:
            results[batch.source] = consumer.ingest(batch)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[batch.source] = exc
        done.set_result(None)

    for batch in batches:
        done: Future = Future()
        futures.append(done)
        threading.Thread(target=source, args=(batch, done)).start()
        deadline = time.monotonic() + 30
        while consumer._queue.qsize() < len(futures) and time.monotonic() < deadline:  # in arrival order
            time.sleep(0.005)
    consumer.serve(futures)
    return results, consumer


def test_the_batches_of_many_sources_are_stored_together_with_exact_counts(tmp_path: Path) -> None:
    with stages_at(tmp_path) as stages:
        consumer = IngestConsumer(stages)
        batches = [fetched(f"outlet-{i}", 9000 + i) for i in range(6)]
        results, _ = serve_all(consumer, batches)
    # One store step for the six batches that were waiting (each alone took one before).
    assert consumer.steps == [[b.source for b in batches]]
    for batch in batches:
        tally = results[batch.source]
        assert not isinstance(tally, Exception), tally
        assert (tally.source, tally.extracted, tally.stored, tally.exact, tally.near) == (batch.source, 3, 3, 0, 0)
    with open_store(str(tmp_path / "w.db")) as store:
        rows = list(store.iter_since(0))
        state = store.get([p.location for b in batches for p in b.pages])
    assert sorted(r.article.source for r in rows) == sorted(b.source for b in batches for _ in range(3))
    assert len(state) == 18 and all(r.stored and r.etag for r in state.values())  # fetch state in the same batch


def test_copies_across_sources_stored_together_count_for_the_source_that_has_them(tmp_path: Path) -> None:
    with stages_at(tmp_path) as stages:
        first, second = fetched("wire", 9100), fetched("reprint", 9200)
        # The reprint's pages carry the wire's stories (its own host, the same text).
        second.pages = [
            RawPage(kind="html", source="reprint", url=f"http://127.0.0.1:9200/copy/{n}", body=p.body)
            for n, p in enumerate(first.pages)
        ]
        second.fetch_records = {p.location: FetchRecord(url=p.location, source="reprint") for p in second.pages}
        results, consumer = serve_all(IngestConsumer(stages), [first, second])
    assert consumer.steps == [["wire", "reprint"]]
    assert (results["wire"].stored, results["wire"].exact) == (3, 0)
    assert (results["reprint"].stored, results["reprint"].exact) == (0, 3)
    assert sum(results["reprint"].clusters.values()) == 3 and not results["wire"].clusters


def test_a_batch_sharing_a_host_or_a_source_with_one_waiting_is_stored_after_it(tmp_path: Path) -> None:
    with stages_at(tmp_path) as stages:
        a = fetched("outlet-a", 9300)
        b = fetched("outlet-b", 9300)  # another source on a's host: it learns from a's pages
        b.pages = [
            RawPage(kind="html", source="outlet-b", url=f"http://127.0.0.1:9300/more/{n}", body=article_html(9301, n))
            for n in range(3)
        ]
        b.fetch_records = {}
        c, d = fetched("outlet-c", 9400), fetched("outlet-d", 9401)
        results, consumer = serve_all(IngestConsumer(stages), [a, c, d, b])
    # a before b (b depends on it), and with a the others waiting (one step, not one each); then b
    assert consumer.steps == [["outlet-a", "outlet-c", "outlet-d"], ["outlet-b"]]
    assert all(results[name].stored == 3 for name in ("outlet-a", "outlet-b", "outlet-c", "outlet-d"))


def test_fetched_pages_go_to_the_pool_as_they_arrive(tmp_path: Path) -> None:
    """With workers, a batch is handed to the pool when it is taken, not when it is stored; a
    crawl of several sources starts the pool before the first page arrives."""
    with stages_at(tmp_path, workers=2) as stages:
        start_pool_early(stages)
        batches = [fetched(f"outlet-{i}", 9500 + i, pages=4) for i in range(3)]
        results, consumer = serve_all(IngestConsumer(stages), batches)
        pool = stages.extract_pool(0)
        assert pool is not None and pool.done == 12  # the pool extracted them (not this thread)
    assert all(results[b.source].stored == 4 for b in batches)
    assert 1 <= len(consumer.steps) <= 3


def test_a_source_that_stops_waiting_before_its_batch_is_taken_is_never_stored(tmp_path: Path) -> None:
    with stages_at(tmp_path) as stages:
        consumer = IngestConsumer(stages)
        batch = fetched("late", 9600)
        batch.future.cancel()  # as ingest() does when its caller is interrupted
        consumer._take(batch)  # what serve() does with it when it comes out of the queue
        assert consumer.steps == [] and not consumer._waiting
    with open_store(str(tmp_path / "w.db")) as store:
        assert list(store.iter_since(0)) == []


def test_the_furniture_view_strips_a_document_once_per_exclusion() -> None:
    units = [("u1", np.array([1, 2, 3], dtype=np.uint64)), ("u2", np.array([3, 4, 5], dtype=np.uint64))]
    view = FurnitureView(None, units)
    doc = np.array([1, 3, 5, 7], dtype=np.uint64)
    first = view.strip(doc, ("u1",))
    assert first.tolist() == [1, 7]  # 3 and 5 also in u2: furniture for this pair
    assert view.strip(doc, ("u1",)) is first  # the same answer, not computed again
    assert view.strip(doc, ("u1", "u2")).tolist() == [1, 3, 5, 7]
    assert view.strip(doc, ("u2", "u1", None)).tolist() == [1, 3, 5, 7]
    other = np.array([1, 3, 5, 7], dtype=np.uint64)  # equal values, another array: its own entry
    assert view.strip(other, ("u1",)).tolist() == [1, 7] and view.strip(other, ("u1",)) is not first


def test_a_pool_started_before_any_page_has_its_workers_running() -> None:
    with ExtractPool(2, ExtractSettings()) as pool:
        pool.start()
        assert len(pool._slots) == 2 and all(slot.proc.is_alive() for slot in pool._slots)
        page = RawPage(kind="html", source="s", url="http://127.0.0.1:9700/a/1", body=article_html(1, 1))
        (result,) = pool.results(pool.submit([page]))
    assert "Paragraph one of story 1" in result.text


def test_sources_that_complete_together_record_their_discovery_in_one_write(tmp_path: Path) -> None:
    """A crawl's sources end together (their last pages are stored in one step): each one's feed
    validators are recorded before its thread goes on, but in one write for all of them, not a
    transaction each on the writer lock."""
    from wiredesk.pipeline.sources import Crawl

    sources = [f"outlet-{i}" for i in range(8)]
    feed = {s: f"http://127.0.0.1:{9000 + i}/feed.xml" for i, s in enumerate(sources)}
    with stages_at(tmp_path) as stages:
        crawl = Crawl(stages)
        try:
            with crawl.fetcher._pending_lock:  # as discovery leaves them: one feed record per source
                crawl.fetcher._pending += [
                    FetchRecord(url=feed[s], source=s, status=200, etag=f'"{s}"') for s in sources
                ]
            seen: dict[str, object] = {}

            def complete(source: str) -> None:
                crawl.commit_discovery(source)
                seen[source] = stages.store.get([feed[source]]).get(feed[source])  # written before it returns

            threads = [threading.Thread(target=complete, args=(s,)) for s in sources]
            with crawl._writing:  # a write in progress: the sources completing meanwhile queue theirs
                for thread in threads:
                    thread.start()
                deadline = time.monotonic() + 30
                while len(crawl._queued) < len(sources) and time.monotonic() < deadline:
                    time.sleep(0.005)
                assert len(crawl._queued) == len(sources)
            for thread in threads:
                thread.join(30)
            assert crawl.discovery_writes == 1
            assert {s: getattr(seen[s], "etag", None) for s in sources} == {s: f'"{s}"' for s in sources}
            crawl.commit_discovery(sources[0])  # nothing pending any more: no write
            assert crawl.discovery_writes == 1
        finally:
            crawl.close()
