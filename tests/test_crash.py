"""A run killed with SIGKILL mid-fetch, mid-extraction or inside the store's write
transaction leaves a consistent store, and the next run finishes the work: every page stored
once, no article lost, every duplicate pointing at a stored representative of its cluster."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.pipeline_helpers import story_paragraphs, syndicated_text_copy, write


def _corpus(tmp_path: Path, samples_dir: Path) -> Path:
    """25 pages: the 5 seeds, 3 syndicated copies of each, and 5 exact re-posts."""
    out = tmp_path / "pages"
    seeds = sorted((samples_dir / "seeds").glob("*.txt"))
    for i, seed in enumerate(seeds):
        text = seed.read_text("utf-8")
        write(out / f"{i}-seed.txt", text)
        write(out / f"{i}-exact.txt", text)
        for j, keep in enumerate((0.9, 0.8, 0.7)):
            write(out / f"{i}-copy{j}.txt", syndicated_text_copy(text, keep=keep))
    return out


def _run_driver(store: str, stop_at: str, inputs: Path, feed: str | None = None, *, kill: bool) -> str:
    args = [sys.executable, "-m", "tests.crash_driver", store, stop_at, str(inputs)] + ([feed] if feed else [])
    proc = subprocess.Popen(
        args,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    seen: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line.strip())
        if kill and line.strip() == stop_at:
            if stop_at == "fetch":
                time.sleep(0.5)  # the page request is hanging on the slow server now
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=120)
    if not kill:
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    else:
        assert proc.returncode == -signal.SIGKILL, (seen, proc.stderr.read() if proc.stderr else "")
    return "\n".join(seen)


def _check_consistent(store: str, expected_locations: set[str]) -> dict[str, int]:
    from wiredesk.dedup import content_hash
    from wiredesk.storage import open_store

    with open_store(store) as st:
        rows = list(st.iter_since(0))
        ids = [r.id for r in rows]
        assert len(ids) == len(set(ids)), "an article stored twice"
        locations = {r.article.location for r in rows}
        assert locations == expected_locations
        by_id = {r.id: r for r in rows}
        for r in rows:
            assert r.article.content_hash == content_hash(r.article.text)
            if r.duplicate_of is not None:
                rep = by_id[r.duplicate_of]
                assert rep.duplicate_of is None and rep.cluster_id == r.cluster_id
        reps = [r for r in rows if r.duplicate_of is None]
        assert len({r.cluster_id for r in reps}) == len(reps), "a cluster with two representatives"
        return {"articles": len(rows), "clusters": len(reps)}


@pytest.mark.parametrize("stop_at", ["extract", "commit", "batch"])
def test_kill_mid_run_then_rerun_finishes(stop_at: str, tmp_path: Path, samples_dir: Path) -> None:
    pages = _corpus(tmp_path, samples_dir)
    store = str(tmp_path / "store" / "w.db")
    _run_driver(store, stop_at, pages, kill=True)
    expected = {f"local:{pages.name}/{p.name}" for p in pages.iterdir()}  # a file's id: below its input root
    from wiredesk.storage import open_store

    with open_store(store) as st:  # consistent right after the kill (possibly partial)
        partial = list(st.iter_since(0))
    _check_consistent(store, {r.article.location for r in partial})
    out = _run_driver(store, "never", pages, kill=False)
    counts = _check_consistent(store, expected)
    assert counts == {"articles": 25, "clusters": 5}, out
    again = _run_driver(store, "never", pages, kill=False)
    assert again.splitlines()[-1].split()[1:] == ["0", "0", "0", "25"]  # stored exact near already_seen


class _SlowSite:
    """Serves a feed of 3 articles; the article bodies hang while ``slow`` is set."""

    def __init__(self, texts: list[str]) -> None:
        self.slow = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/robots.txt":
                    body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
                elif self.path == "/feed.xml":
                    items = "".join(
                        f"<item><link>{site.base}/a/{i}</link><title>t{i}</title></item>" for i in range(len(texts))
                    )
                    body = f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>".encode()
                    ctype = "application/rss+xml"
                else:
                    if site.slow.is_set():
                        time.sleep(20)
                    i = int(self.path.rsplit("/", 1)[1])
                    paras = "".join(f"<p>{p}</p>" for p in story_paragraphs(texts[i]))
                    body = f"<html><body><article><h1>Story {i}</h1>{paras}</article></body></html>".encode()
                    ctype = "text/html; charset=utf-8"
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_kill_mid_fetch_loses_no_article(tmp_path: Path, samples_dir: Path) -> None:
    texts = [p.read_text("utf-8") for p in sorted((samples_dir / "seeds").glob("*.txt"))[:3]]
    empty = tmp_path / "empty"
    write(empty / "one.txt", texts[0])
    site = _SlowSite(texts)
    try:
        store = str(tmp_path / "w.db")
        site.slow.set()
        _run_driver(store, "fetch", empty, site.base + "/feed.xml", kill=True)
        site.slow.clear()
        _run_driver(store, "never", empty, site.base + "/feed.xml", kill=False)
        expected = {"local:empty/one.txt"} | {f"{site.base}/a/{i}" for i in range(3)}
        counts = _check_consistent(store, expected)
        assert counts["articles"] == 4
    finally:
        site.close()
