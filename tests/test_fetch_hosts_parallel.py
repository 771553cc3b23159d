"""Hosts in parallel (issue 16, item 4): the sources of one run crawl their hosts at the same
time through the run's one Fetcher, each host at its own limits, as the hostile server's request
log shows; per-source tallies stay exact and one failing source stops no other."""

from __future__ import annotations

import json
import socket
from collections import Counter
from pathlib import Path

import pytest

from tests.fetchserver import FetchServer, Seen
from tests.sent_times import record_sends
from tests.test_fetch_politeness import max_overlap, spacing
from wiredesk.config import WiredeskConfig, load_config
from wiredesk.pipeline.run import run_ingest
from wiredesk.storage import open_store


def all_overlap(spans: list[tuple[float, float]]) -> bool:
    """Some moment lies inside every span: each started before any other had finished."""
    return max(start for start, _ in spans) < min(end for _, end in spans)


def each_overlaps_another(spans: list[tuple[float, float]]) -> bool:
    """Every span shares some time with another one (one after another, none would)."""
    return all(any(a < d and c < b for j, (c, d) in enumerate(spans) if j != i) for i, (a, b) in enumerate(spans))


def span(seen: list[Seen]) -> tuple[float, float]:
    return min(s.start for s in seen), max(s.end for s in seen)


def config(tmp_path: Path, sources: list[dict], **fetch: object) -> WiredeskConfig:
    settings = {"allow_private": ["127.0.0.1"], "per_host_min_interval": 0.3, "retries": 0} | fetch
    text = (
        f"store: {{url: {tmp_path / 'w.db'}}}\nexport: {{out: {tmp_path / 'corpus.jsonl'}}}\n"
        f"run: {{workers: 1}}\nfetch: {json.dumps(settings)}\nsources:\n"
    ) + "".join(f"  - {json.dumps(source)}\n" for source in sources)
    path = tmp_path / "wiredesk.yaml"
    path.write_text(text)
    return load_config(path, environ={})


def stored_by_source(tmp_path: Path) -> Counter[str]:
    with open_store(str(tmp_path / "w.db")) as store:
        return Counter(row.article.source for row in store.iter_since(0))


def test_hosts_are_crawled_at_once_each_within_its_own_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sends = record_sends(monkeypatch)  # the gaps checked: when the requests left (tests/sent_times.py)
    with FetchServer(hosts=4, pages=4) as server:
        sources = [
            {"name": f"outlet-{i}", "feeds": [f"{s.base}/feed.xml"], "sitemaps": [f"{s.base}/sitemap_index.xml"]}
            for i, s in enumerate(server.sites)
        ]
        summary, _ = run_ingest(config(tmp_path, sources, per_host_concurrency=2), export=False)
        logs = [server.requests(port=site.server_address[1]) for site in server.sites]
    rows = {row["source"]: row for row in summary["sources"]}
    assert list(rows) == [s["name"] for s in sources]  # the summary keeps the configured order
    for name in rows:
        row = rows[name]
        assert (row["discovered"], row["fetched"], row["stored"], row["failed"]) == (4, 4, 4, 0), row
    assert stored_by_source(tmp_path) == {s["name"]: 4 for s in sources}
    for i, seen in enumerate(logs):
        # robots.txt, feed, sitemap index, two sitemaps, four articles; robots.txt first
        assert len(seen) == 9 and min(seen, key=lambda s: s.start).path == "/robots.txt"
        assert max_overlap(seen) <= 2 and max(s.active for s in seen) <= 2
        assert spacing(server, sends, i, 0.3) == []
    # One after another, each host's 9 requests take 2.4 s at least and their spans could not meet.
    assert all_overlap([span(seen) for seen in logs])


def test_sources_on_one_host_share_its_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sends = record_sends(monkeypatch)
    with FetchServer(hosts=1, pages=6) as server:
        base = server.base(0)
        sources = [
            {"name": "by-feed", "feeds": [f"{base}/feed.xml"]},  # articles 0-2
            {"name": "by-list", "urls": [f"{base}/article/{n}" for n in (3, 4, 5)]},
        ]
        summary, _ = run_ingest(
            config(tmp_path, sources, per_host_concurrency=1, per_host_min_interval=0.25), export=False
        )
        seen = server.requests()
    rows = {row["source"]: row for row in summary["sources"]}
    for name in rows:
        assert (rows[name]["discovered"], rows[name]["fetched"], rows[name]["stored"]) == (3, 3, 3), rows[name]
    assert stored_by_source(tmp_path) == {"by-feed": 3, "by-list": 3}
    assert [s.path for s in seen].count("/robots.txt") == 1  # one robots cache for the run
    by_feed = [s for s in seen if s.path == "/feed.xml" or "utm_source" in s.path]
    by_list = [s for s in seen if s.path in {f"/article/{n}" for n in (3, 4, 5)}]
    assert len(by_feed) == 4 and len(by_list) == 3
    assert all_overlap([span(by_feed), span(by_list)])  # both sources were fetching at once...
    assert max_overlap(seen) == 1 and max(s.active for s in seen) == 1  # ...and the host saw one limit
    assert spacing(server, sends, 0, 0.25) == []


def _dead_port() -> int:
    with socket.socket() as sock:  # bound, then closed: nothing listens there
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_failing_source_does_not_stop_the_others(tmp_path: Path) -> None:
    with FetchServer(hosts=2, pages=4) as server:
        sources = [
            {"name": "good-0", "feeds": [f"{server.base(0)}/feed.xml"]},
            {"name": "dead", "feeds": [f"http://127.0.0.1:{_dead_port()}/feed.xml"]},
            {"name": "broken", "paths": [str(tmp_path / "does-not-exist")]},
            {"name": "good-1", "feeds": [f"{server.base(1)}/feed.xml"]},
        ]
        summary, _ = run_ingest(config(tmp_path, sources), export=False)
        logs = [server.requests(port=site.server_address[1]) for site in server.sites]
    rows = {row["source"]: row for row in summary["sources"]}
    assert list(rows) == ["good-0", "dead", "broken", "good-1"]
    assert summary["failed_sources"] == ["dead", "broken"]
    assert "no such file" in rows["broken"]["error"]
    assert rows["dead"]["fetched"] == 0 and rows["dead"]["skipped"] == {"robots-unreachable": 1}, rows["dead"]
    for name in ("good-0", "good-1"):
        assert (rows[name]["fetched"], rows[name]["stored"], rows[name]["status"]) == (2, 2, "ok"), rows[name]
    assert stored_by_source(tmp_path) == {"good-0": 2, "good-1": 2}
    assert all_overlap([span(seen) for seen in logs])


@pytest.mark.prefect
def test_the_flow_runs_its_source_subflows_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wiredesk.flows.ingest import ingest

    sends = record_sends(monkeypatch)
    with FetchServer(hosts=3, pages=4) as server:
        sources = [
            {"name": f"outlet-{i}", "feeds": [f"{s.base}/feed.xml"], "sitemaps": [f"{s.base}/sitemap_index.xml"]}
            for i, s in enumerate(server.sites)
        ]
        # 1 s apart: each host's crawl spans ~8 s, longer than the seconds Prefect may take
        # between starting one subflow and the next on a loaded machine.
        config(tmp_path, sources, per_host_min_interval=1.0)
        summary = ingest(config_path=str(tmp_path / "wiredesk.yaml"))
        logs = [server.requests(port=site.server_address[1]) for site in server.sites]
    assert summary["failed_sources"] == []
    assert [(row["source"], row["fetched"], row["stored"]) for row in summary["sources"]] == [
        (s["name"], 4, 4) for s in sources
    ]
    for i, seen in enumerate(logs):
        assert len(seen) == 9 and max_overlap(seen) <= 2 and spacing(server, sends, i, 1.0) == []
    # Each source's subflow fetched while another did (Prefect starts subflows a little apart:
    # under load, by seconds, so not all three need to share one moment).
    assert each_overlaps_another([span(seen) for seen in logs])


def test_the_ingest_consumer_runs_every_step_on_its_own_thread_one_at_a_time() -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from wiredesk.pipeline.sources import IngestConsumer

    consumer = IngestConsumer()
    owner = threading.get_ident()
    ran: list[int] = []
    inside = threading.Lock()

    def step(n: int) -> int:
        assert inside.acquire(blocking=False), "two steps at once"
        try:
            assert threading.get_ident() == owner
            ran.append(n)
            return n * n
        finally:
            inside.release()

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(consumer.call, lambda n=n: step(n)) for n in range(40)]
        consumer.serve(futures)
        assert [f.result() for f in futures] == [n * n for n in range(40)]
    assert sorted(ran) == list(range(40))
    assert consumer.call(lambda: step(99)) == 99 * 99  # on the owner's thread: at once

    # Stopped: what is queued fails (its caller is not left waiting), what comes is refused.
    with ThreadPoolExecutor(1) as pool:
        queued = pool.submit(consumer.call, lambda: step(1))
        while consumer._queue.empty():
            threading.Event().wait(0.01)
        consumer.close()
        with pytest.raises(RuntimeError, match="stopped before this batch was stored"):
            queued.result(timeout=5)
        with pytest.raises(RuntimeError, match="no more batches"):
            pool.submit(consumer.call, lambda: step(2)).result(timeout=5)


def test_an_interrupted_run_starts_no_more_sources_and_ends_the_running_ones() -> None:
    import threading
    import time

    from wiredesk.config import SourceConfig
    from wiredesk.pipeline.report import SourceTally
    from wiredesk.pipeline.run import run_concurrently
    from wiredesk.pipeline.sources import Job

    jobs = [Job(f"s{i}", web=SourceConfig(name=f"s{i}", feeds=("http://127.0.0.1:9/f",))) for i in range(6)]
    started: list[str] = []
    release = threading.Event()

    def one(job: Job) -> SourceTally:
        started.append(job.source)
        release.wait(30)  # a source busy fetching until the run's Crawl is closed
        return SourceTally(source=job.source)

    def serve(futures: object) -> None:
        while len(started) < 2:
            time.sleep(0.01)
        raise KeyboardInterrupt  # Ctrl-C while the consumer waits for batches

    aborted: list[bool] = []

    def abort() -> None:
        aborted.append(True)
        release.set()

    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_concurrently(one, jobs, 2, serve=serve, abort=abort)
    assert aborted == [True] and sorted(started) == ["s0", "s1"]  # the four waiting never started
    assert time.monotonic() - began < 10  # the running two were ended, not waited for


def test_page_files_and_web_sources_at_once_store_everything(tmp_path: Path) -> None:
    """A source of page files runs on its own thread while web sources fetch: its batches are
    prepared and stored on the thread that owns the stages (SQLite, the dedup index and the
    extraction pool belong to it), through the extraction pool."""
    pages = tmp_path / "pages"
    pages.mkdir()
    samples = sorted((Path(__file__).resolve().parent.parent / "samples" / "html").glob("*.html"))
    assert samples, "samples/html holds the bundled sample pages"
    for sample in samples:
        (pages / sample.name).write_bytes(sample.read_bytes())
    with FetchServer(hosts=2, pages=3) as server:
        sources = [
            {"name": f"outlet-{i}", "feeds": [f"{s.base}/feed.xml"], "sitemaps": [f"{s.base}/sitemap_index.xml"]}
            for i, s in enumerate(server.sites)
        ] + [{"name": "disk", "paths": [str(pages)]}]
        cfg = config(tmp_path, sources).with_overrides(
            run={"workers": 2, "batch_size": 2}, extract={"pool_min_batch": 1}
        )
        summary, _ = run_ingest(cfg, export=False)
    assert summary["failed_sources"] == []
    rows = {row["source"]: row for row in summary["sources"]}
    assert rows["outlet-0"]["stored"] == rows["outlet-1"]["stored"] == 3
    assert rows["disk"]["read"] == len(samples) and rows["disk"]["failed"] == 0
    stored = stored_by_source(tmp_path)
    assert stored["outlet-0"] == stored["outlet-1"] == 3
    assert sum(stored.values()) == 6 + len(samples)
