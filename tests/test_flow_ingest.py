"""The ingest flow under Prefect (one shared test harness): local files and a web source
served from 127.0.0.1, run twice; the CLI's flow path is the same function."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.pipeline_helpers import story_paragraphs, syndicated_html_copy

pytestmark = pytest.mark.prefect


class _Site:
    """A tiny news site: an RSS feed and article pages with ETags; logs every request."""

    def __init__(self, articles: dict[str, bytes]) -> None:
        self.articles = articles
        self.log: list[tuple[str, str | None]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                site.log.append((self.path, self.headers.get("If-None-Match")))
                if self.path == "/robots.txt":
                    return self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
                if self.path == "/feed.xml":
                    return self._send(200, site.feed(), "application/rss+xml", etag='"feed-1"')
                body = site.articles.get(self.path)
                if body is None:
                    return self._send(404, b"not found", "text/plain")
                return self._send(200, body, "text/html; charset=utf-8", etag=f'"{self.path}-1"')

            def _send(self, status: int, body: bytes, ctype: str, etag: str | None = None) -> None:
                if etag and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if etag:
                    self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def feed(self) -> bytes:
        paths = sorted(self.articles) + ["/news/gone"]  # listed in the feed, answered 404
        items = "".join(
            f"<item><title>{p}</title><link>{self.base}{p}</link>"
            f"<pubDate>Mon, 10 Jul 2023 0{i}:00:00 GMT</pubDate></item>"
            for i, p in enumerate(paths)
        )
        return (
            f"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title><link>{self.base}</link>"
            f"<description>d</description>{items}</channel></rss>"
        ).encode()

    def __enter__(self) -> _Site:
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _article_page(text: str, title: str) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in story_paragraphs(text))
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<nav><a href='/'>Home</a> <a href='/world'>World</a></nav><article><h1>{title}</h1>{body}</article>"
        "<footer>Contact us | Privacy</footer></body></html>"
    ).encode()


def test_ingest_flow_files_and_web_source_twice(samples_dir: Path, tmp_path: Path) -> None:
    from wiredesk.flows.ingest import ingest

    seeds = sorted((samples_dir / "seeds").glob("*.txt"))
    texts = [p.read_text("utf-8") for p in seeds]
    articles = {
        "/news/a": _article_page(texts[1], "Story A"),
        "/news/b": _article_page(texts[2], "Story B"),
        "/news/copy": syndicated_html_copy(texts[0]).encode(),
    }
    with _Site(articles) as site:
        config = tmp_path / "wiredesk.yaml"
        config.write_text(
            f"store: {{url: {tmp_path / 'w.db'}}}\n"
            f"export: {{out: {tmp_path / 'corpus.jsonl'}, include_duplicates: true}}\n"
            # One source after the other: the tallies below count the site's pages as copies of
            # the files stored before them (sources at once, which copy arrives first is timing).
            "run: {workers: 1, batch_size: 2, source_concurrency: 1}\n"
            f"sources:\n  - name: files\n    paths: [{samples_dir / 'seeds'}]\n"
            f"  - name: site\n    feeds: [{site.base}/feed.xml]\n"
            "fetch: {allow_private: [127.0.0.1], per_host_min_interval: 0}\n"
        )
        first = ingest(config_path=str(config))
        by_source = {row["source"]: row for row in first["sources"]}
        assert by_source["files"]["stored"] == 5
        assert by_source["site"]["fetched"] == 3
        # the web copy of seed 0 is a syndicated copy; stories A and B are exact re-posts of seeds 1 and 2
        assert by_source["site"]["near_duplicates"] + by_source["site"]["exact_duplicates"] == 3, by_source["site"]
        assert first["failed_sources"] == []
        assert by_source["site"]["failed_by_reason"] == {"http-404": 1}
        from wiredesk.storage import open_store

        with open_store(str(tmp_path / "w.db")) as store:
            assert store.stats()["failures_by_reason"] == {"http-404": 1}
        lines = (tmp_path / "corpus.jsonl").read_text().splitlines()
        assert len(lines) == 8

        site.log.clear()
        second = ingest(config_path=str(config), sources=["site"])
        assert len(second["sources"]) == 1
        row = second["sources"][0]
        assert row["source"] == "site" and second["stored"] == 0 and row["fetched"] == 0
        # stored URLs are not fetched again; the feed itself is asked conditionally
        assert all(path == "/robots.txt" or etag for path, etag in site.log), site.log
        assert not any(path.startswith("/news/") for path, _ in site.log), site.log


def test_one_broken_source_does_not_fail_the_others(samples_dir: Path, tmp_path: Path) -> None:
    from wiredesk.flows.ingest import ingest

    config = tmp_path / "wiredesk.yaml"
    config.write_text(
        f"store: {{url: {tmp_path / 'w.db'}}}\n"
        f"export: {{out: {tmp_path / 'corpus.jsonl'}}}\n"
        "run: {workers: 1}\n"
        f"sources:\n  - name: broken\n    paths: [{tmp_path / 'does-not-exist'}]\n"
        f"  - name: good\n    paths: [{samples_dir / 'seeds'}]\n"
    )
    state = ingest(config_path=str(config), return_state=True)
    # the flow run is Failed (a source failed entirely), with the reason and the whole summary
    assert state.is_failed() and state.message == "1 of 2 sources failed: broken"
    summary = state.result(raise_on_failure=False)
    assert summary["failed_sources"] == ["broken"]
    rows = {row["source"]: row for row in summary["sources"]}
    assert rows["good"]["stored"] == 5 and rows["good"]["status"] == "ok"
    assert "no such file" in rows["broken"]["error"]


def test_dry_run_and_limit_do_not_hide_feed_items_from_later_runs(samples_dir: Path, tmp_path: Path) -> None:
    from wiredesk.flows.ingest import ingest

    texts = [p.read_text("utf-8") for p in sorted((samples_dir / "seeds").glob("*.txt"))]
    articles = {f"/news/{i}": _article_page(texts[i], f"Story {i}") for i in range(3)}
    with _Site(articles) as site:
        config = tmp_path / "wiredesk.yaml"
        config.write_text(
            f"store: {{url: {tmp_path / 'w.db'}}}\nexport: {{out: {tmp_path / 'corpus.jsonl'}}}\n"
            f"run: {{workers: 1}}\nsources:\n  - name: site\n    feeds: [{site.base}/feed.xml]\n"
            "fetch: {allow_private: [127.0.0.1], per_host_min_interval: 0}\n"
        )
        dry = ingest(config_path=str(config), dry_run=True)
        # the tallies say what a run would do; the store is not even created
        assert dry["sources"][0]["fetched"] == 3 and dry["stored"] == 3 and len(dry["dry_run"]["would_store"]) == 3
        assert not (tmp_path / "w.db").exists() and not (tmp_path / "corpus.jsonl").exists()
        limited = ingest(config_path=str(config), limit=1)
        assert limited["stored"] == 1
        full = ingest(config_path=str(config))
        assert full["stored"] == 2 and full["sources"][0]["skipped"].get("stored") == 1, full["sources"][0]


def test_repeated_limited_runs_work_through_a_folder(samples_dir: Path, tmp_path: Path) -> None:
    from wiredesk.flows.ingest import ingest

    config = tmp_path / "wiredesk.yaml"
    config.write_text(
        f"store: {{url: {tmp_path / 'w.db'}}}\nexport: {{out: {tmp_path / 'c.jsonl'}}}\nrun: {{workers: 1}}\n"
    )
    stored = [ingest(inputs=[str(samples_dir / "seeds")], config_path=str(config), limit=2)["stored"] for _ in range(3)]
    assert stored == [2, 2, 1]


def test_a_failed_url_is_retried_in_a_later_run_even_when_its_feed_is_unchanged(
    samples_dir: Path, tmp_path: Path
) -> None:
    from wiredesk.flows.ingest import ingest

    texts = [p.read_text("utf-8") for p in sorted((samples_dir / "seeds").glob("*.txt"))]
    site = _Site({"/news/0": _article_page(texts[0], "Story 0"), "/news/1": _article_page(texts[1], "Story 1")})
    broken = {"/news/1"}
    serve = site.server.RequestHandlerClass.do_GET

    def flaky(handler) -> None:  # /news/1 answers 503 until it is repaired
        if handler.path in broken:
            site.log.append((handler.path, None))
            handler.send_response(503)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        serve(handler)

    site.server.RequestHandlerClass.do_GET = flaky
    with site:
        config = tmp_path / "wiredesk.yaml"
        config.write_text(
            f"store: {{url: {tmp_path / 'w.db'}}}\nexport: {{out: {tmp_path / 'c.jsonl'}}}\nrun: {{workers: 1}}\n"
            f"sources:\n  - name: site\n    feeds: [{site.base}/feed.xml]\n"
            "fetch: {allow_private: [127.0.0.1], per_host_min_interval: 0, retries: 0, failure_backoff: 0}\n"
        )
        first = ingest(config_path=str(config))
        assert first["stored"] == 1 and first["sources"][0]["failed_by_reason"] == {"http-503": 1, "http-404": 1}
        broken.clear()
        site.log.clear()
        second = ingest(config_path=str(config))
        assert second["stored"] == 1, second["sources"][0]
        assert ("/feed.xml", '"feed-1"') in site.log  # the feed itself was unchanged (asked conditionally)
