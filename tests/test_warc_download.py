"""Archives and listings over HTTP: a real local server that cuts the first download off
half-way, answers Range requests, and a trap address the SSRF guard must not reach."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.fetchserver import Trap, make_settings
from tests.test_warc_pipeline import archive_files, config, stored_ids
from wiredesk.core.errors import PermanentFetchError
from wiredesk.fetching.download import download
from wiredesk.pipeline.run import run_ingest


class FileServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FileHandler)
        self.files: dict[str, bytes] = {}
        self.cut_first: set[str] = set()  # paths whose first download stops half-way
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class FileHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FileServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        server = self.server
        server.requests.append((self.path, self.headers.get("Range")))
        data = server.files.get(self.path)
        if data is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start = 0
        ranged = self.headers.get("Range", "")
        if ranged.startswith("bytes="):
            start = int(ranged[6:].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        if self.path in server.cut_first:
            server.cut_first.discard(self.path)
            self.wfile.write(data[start : start + (len(data) - start) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.close()
            return
        self.wfile.write(data[start:])


@pytest.fixture()
def files() -> Iterator[FileServer]:
    server = FileServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_an_interrupted_download_resumes_with_range(files: FileServer, tmp_path: Path) -> None:
    data = bytes(range(256)) * 4000
    files.files["/big.warc.gz"] = data
    files.cut_first.add("/big.warc.gz")
    target = download(files.base + "/big.warc.gz", tmp_path / "big.warc.gz", settings=make_settings(), max_bytes=10**7)
    assert target.read_bytes() == data and not (tmp_path / "big.warc.gz.part").exists()
    assert files.requests == [("/big.warc.gz", None), ("/big.warc.gz", f"bytes={len(data) // 2}-")]


def test_downloads_are_capped_and_guarded(files: FileServer, tmp_path: Path) -> None:
    files.files["/big.warc.gz"] = b"x" * 5000
    with pytest.raises(PermanentFetchError) as too_large:
        download(files.base + "/big.warc.gz", tmp_path / "a", settings=make_settings(), max_bytes=1000)
    assert too_large.value.reason == "too-large"
    trap = Trap("127.0.0.2")
    trap.start()
    try:
        with pytest.raises(PermanentFetchError) as refused:
            download(
                f"http://127.0.0.2:{trap.port}/x.warc.gz", tmp_path / "b", settings=make_settings(), max_bytes=1000
            )
        assert refused.value.reason == "ssrf" and trap.connections == []
    finally:
        trap.stop()


def test_a_remote_listing_source(files: FileServer, tmp_path: Path) -> None:
    local = archive_files(tmp_path / "made", 2)
    for path in local:
        files.files[f"/crawl-data/CC-NEWS/2024/01/{path.name}"] = path.read_bytes()
    files.cut_first.add(f"/crawl-data/CC-NEWS/2024/01/{local[1].name}")
    lines = "".join(f"crawl-data/CC-NEWS/2024/01/{p.name}\n" for p in local)
    files.files["/crawl-data/CC-NEWS/2024/01/warc.paths.gz"] = gzip.compress(lines.encode())
    listing = files.base + "/crawl-data/CC-NEWS/2024/01/warc.paths.gz"
    cfg = config(tmp_path, sources=[{"name": "ccnews", "warcs": [listing], "download_dir": str(tmp_path / "dl")}])
    summary, _ = run_ingest(cfg, sources=["ccnews"], export=False)
    assert summary["stored"] == 6 and len(stored_ids(tmp_path)) == 6
    assert list((tmp_path / "dl" / "warcs").iterdir()) == []  # done files are not kept
    ranged = [r for p, r in files.requests if p.endswith(local[1].name)]
    assert ranged[0] is None and ranged[1] and ranged[1].startswith("bytes=")
    again, _ = run_ingest(cfg, sources=["ccnews"], export=False)
    assert again["sources"][0]["skipped"]["archive-done"] == 2
    assert [p for p, _ in files.requests].count("/crawl-data/CC-NEWS/2024/01/warc.paths.gz") == 2


def test_a_missing_remote_archive_fails_alone(files: FileServer, tmp_path: Path) -> None:
    local = archive_files(tmp_path / "made", 1)
    files.files["/a.warc.gz"] = local[0].read_bytes()
    urls = [files.base + "/a.warc.gz", files.base + "/missing.warc.gz"]
    cfg = config(tmp_path, sources=[{"name": "arch", "warcs": urls, "download_dir": str(tmp_path / "dl")}])
    summary, _ = run_ingest(cfg, sources=["arch"], export=False)
    assert summary["stored"] == 3 and summary["failed_by_reason"] == {"http-404": 1}
    again, _ = run_ingest(cfg, sources=["arch"], export=False)  # the missing one is tried again
    assert again["sources"][0]["skipped"]["archive-done"] == 1 and again["failed_by_reason"] == {"http-404": 1}
