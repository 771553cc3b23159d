"""What an operator relies on, without a Prefect server: which sources count as failed and the
exit status, honest times, no password in anything printed or serialised, the embedded
server's lock and its clean-up after a crash, and per-host pacing shared between fetchers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests import scheduling as sch
from tests.sent_times import record_sends, spacing_faults
from tests.services import require_redis
from wiredesk import cli
from wiredesk.config import load_config
from wiredesk.core.errors import ConfigError
from wiredesk.core.redact import redact_url
from wiredesk.pipeline.report import SourceTally, run_failed, summarise, with_command_time

# -- failed sources and exit status ----------------------------------------------------------


def _tally(source: str, **counts) -> SourceTally:
    tally = SourceTally(source=source)
    for name, value in counts.items():
        if name in ("failed", "skipped"):
            getattr(tally, name).update(value)
        else:
            setattr(tally, name, value)
    return tally


def test_a_source_that_yields_nothing_because_of_failures_is_failed() -> None:
    dead = _tally("dead", failed={"connect": 1})
    feed_404 = _tally("gone", failed={"http-404": 1})
    robots = _tally("blocked", skipped={"robots": 3})
    empty = _tally("empty")  # an empty feed: nothing new, nothing wrong
    quiet = _tally("quiet", discovered=4, skipped={"stored": 4})  # all stored before, unchanged
    partial = _tally("partial", stored=2, failed={"http-500": 5})  # some pages failed, some stored
    unchanged = _tally("unchanged", not_modified=1, failed={"timeout": 1})
    tallies = [dead, feed_404, robots, empty, quiet, partial, unchanged]
    summary = summarise("r", tallies, wall_seconds=1.0, export=None)
    assert summary["failed_sources"] == ["dead", "gone", "blocked"]
    rows = {row["source"]: row for row in summary["sources"]}
    assert rows["blocked"]["status"] == "failed" and "robots 3" in rows["blocked"]["error"]
    assert rows["dead"]["error"] == "nothing ingested: 1 failed or refused (connect 1)"
    assert rows["partial"]["status"] == "ok" and rows["partial"]["error"] is None
    assert summary["skipped_by_reason"] == {"robots": 3, "stored": 4}
    assert run_failed(summary, "source") == "3 of 7 sources failed: dead, gone, blocked"
    assert run_failed(summary, "none") is None

    fine = summarise("r", [partial, quiet], wall_seconds=1.0, export=None)
    assert run_failed(fine, "source") is None
    assert run_failed(fine, "any") == "5 pages failed and 0 were refused (--fail-on any)"
    with pytest.raises(ConfigError, match="--fail-on must be one of none, source, any"):
        run_failed(fine, "sometimes")


def test_wall_time_counts_from_the_command_start_and_pipeline_time_stays_apart() -> None:
    summary = summarise("r", [], wall_seconds=0.7, export=None)
    timed = with_command_time(summary, started=100.0, now=113.2)
    assert timed["wall_seconds"] == 13.2 and timed["pipeline_seconds"] == 0.7


class _Site(BaseHTTPRequestHandler):
    """robots.txt disallowing everything under /blocked/, a 404 for every feed."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            body, status, ctype = b"User-agent: *\nDisallow: /blocked/\n", 200, "text/plain"
        else:
            body, status, ctype = b"not here", 404, "text/plain"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.prefect
def test_cli_run_shows_dead_404_and_robots_sources_as_failed_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", sch.free_port()), _Site)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    dead_port = sch.free_port()  # nobody listens there
    base = f"http://127.0.0.1:{server.server_address[1]}"
    pages = tmp_path / "pages"
    pages.mkdir()
    for seed in sorted(sch.SEEDS.glob("*.txt"))[:1]:
        (pages / seed.name).write_bytes(seed.read_bytes())
    config = tmp_path / "wiredesk.yaml"
    config.write_text(
        f"""\
store: {{url: {tmp_path / "store.db"}}}
run: {{workers: 1}}
fetch: {{allow_private: [127.0.0.1], retries: 0, connect_timeout: 1.0, per_host_min_interval: 0}}
sources:
  - name: files
    paths: ["{pages}"]
  - name: dead
    feeds: [http://127.0.0.1:{dead_port}/feed.xml]
  - name: gone
    feeds: [{base}/feed.xml]
  - name: blocked
    urls: [{base}/blocked/a, {base}/blocked/b]
""",
        encoding="utf-8",
    )
    try:
        code = cli.main(["run", "--config", str(config), "--no-export", "--json"])
    finally:
        server.shutdown()
        server.server_close()
    out = capsys.readouterr().out
    summary = json.loads(out)
    assert code == 1
    assert summary["failed_sources"] == ["dead", "gone", "blocked"]
    rows = {row["source"]: row for row in summary["sources"]}
    assert rows["files"]["status"] == "ok" and rows["files"]["stored"] == 1
    dead = rows["dead"]
    assert dead["status"] == "failed" and dead["error"].startswith("nothing ingested: 1 failed or refused ("), dead
    assert dead["skipped"] == {"robots-unreachable": 1}, dead  # its robots.txt could not be read
    assert rows["gone"]["failed_by_reason"] == {"http-404": 1}
    assert rows["blocked"]["skipped"] == {"robots": 2} and "robots 2" in rows["blocked"]["error"]
    assert summary["wall_seconds"] >= summary["pipeline_seconds"] > 0
    # the same run, judged by --fail-on none, is a success (exit 0)
    assert run_failed(summary, "none") is None


# -- secrets ---------------------------------------------------------------------------------


def test_store_password_stays_out_of_reprs_dumps_and_printed_urls(tmp_path: Path, capsys) -> None:
    url = "postgresql://wd:s3cr3t-pw@127.0.0.1:5432/wiredesk"
    config = load_config(None, environ={"WIREDESK_STORE__URL": url})
    assert config.store.dsn == url  # what opens the store
    for shown in (repr(config), str(config), config.model_dump_json(), json.dumps(config.model_dump(mode="json"))):
        assert "s3cr3t-pw" not in shown
    assert config.with_overrides(run={"batch_size": 5}).store.dsn == url  # survives a re-validation
    assert (
        redact_url(f"cannot open {url}: refused") == "cannot open postgresql://wd:***@127.0.0.1:5432/wiredesk: refused"
    )

    # a subflow's parameters are stored the way Prefect encodes them: the spec holds the config
    from prefect.utilities.collections import visit_collection  # noqa: F401 - prefect is importable
    from pydantic_core import to_jsonable_python

    from wiredesk.pipeline.batch import RunSpec

    spec = RunSpec(config=config, run_id="r", dry_run=False)
    assert "s3cr3t-pw" not in json.dumps(to_jsonable_python(spec, fallback=str))

    assert cli.main(["deployments", "--store", url, "--json"]) == 2
    captured = capsys.readouterr()
    assert "s3cr3t-pw" not in captured.out + captured.err and "password" in captured.err


# -- the embedded server's home: lock, stale server --------------------------------------------


_UP_AND_SLEEP = "import time; print('up', flush=True); time.sleep(120)"


def _running(argv: list[str]) -> subprocess.Popen[bytes]:
    """``argv`` in its own session, once it runs: Popen returns when the exec has begun, and for a
    moment after that the new process's /proc/PID/cmdline is still empty (at load ~12, 9 in 10
    reads right after Popen), which reap_stale_server reads as "not a Prefect server"."""
    process = subprocess.Popen(argv, start_new_session=True, stdout=subprocess.PIPE)
    assert process.stdout is not None and process.stdout.readline() == b"up\n"
    process.stdout.close()
    return process


def test_a_second_serve_on_one_home_is_refused_and_a_stale_server_is_stopped(tmp_path: Path) -> None:
    from wiredesk.flows.server import SERVER_RECORD, LocalPrefectServer, reap_stale_server

    home = tmp_path / "prefect"
    home.mkdir()
    first = LocalPrefectServer(home, port=sch.free_port())
    first._take_lock()
    try:
        with pytest.raises(ConfigError, match=f"another `wiredesk serve` \\(pid {os.getpid()}\\) is using"):
            LocalPrefectServer(home, port=sch.free_port()).start()
    finally:
        first.stop()
    # a server a killed serve left behind: its own process group, recorded in server.json
    orphan = _running([sys.executable, "-c", _UP_AND_SLEEP, "prefect", "server", "start"])
    (home / SERVER_RECORD).write_text(json.dumps({"pid": orphan.pid, "pgid": orphan.pid, "serve_pid": 1}))
    assert reap_stale_server(home)
    assert orphan.wait(timeout=30) != 0 and not (home / SERVER_RECORD).exists()
    # a recorded pid now used by an unrelated process is left alone
    bystander = _running([sys.executable, "-c", _UP_AND_SLEEP])
    try:
        (home / SERVER_RECORD).write_text(json.dumps({"pid": bystander.pid, "pgid": bystander.pid, "serve_pid": 1}))
        assert not reap_stale_server(home) and bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_serve_port_in_use_is_one_clear_error(tmp_path: Path) -> None:
    import socket

    from wiredesk.flows.server import LocalPrefectServer

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", sch.free_port()))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=f"port {port} on 127.0.0.1 is in use .*PREFECT_API_URL="):
            LocalPrefectServer(tmp_path / "prefect", port=port).start()
    assert not (tmp_path / "prefect" / "server.json").exists()


# -- per-host pacing shared between fetchers --------------------------------------------------


class _Pages(BaseHTTPRequestHandler):
    starts: dict[str, float] = {}  # path -> when the handler got the request (server side)

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path != "/robots.txt":
            type(self).starts[self.path] = time.monotonic()
        body = b"User-agent: *\nAllow: /\n" if self.path == "/robots.txt" else b"<html><body><p>x</p></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain" if self.path == "/robots.txt" else "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _fetch_in_two_fetchers(
    tmp_path: Path, pacer_dir: Path | None, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, float], dict[str, float]]:
    """(server-side arrival, client-side headers-out) of each page request, by path."""
    from tests.fetchserver import make_settings
    from wiredesk.fetching import Fetcher
    from wiredesk.fetching.pacing import FilePacer

    class Memory:
        def get(self, urls):
            return {}

        def record(self, records):
            return None

    _Pages.starts = {}
    sends = record_sends(monkeypatch)
    server = ThreadingHTTPServer(("127.0.0.1", sch.free_port()), _Pages)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    settings = make_settings(per_host_min_interval=0.25, per_host_concurrency=1)

    def fetch(tag: str) -> None:  # one Fetcher per "process", each with its own gates
        pacer = FilePacer(pacer_dir) if pacer_dir else None
        with Fetcher(settings, Memory(), pacer=pacer) as fetcher:
            fetcher.fetch([f"{base}/{tag}/{i}" for i in range(4)])

    try:
        threads = [threading.Thread(target=fetch, args=(tag,)) for tag in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        server.shutdown()
        server.server_close()
    sent = {url.removeprefix(base): at for url, at in sends if not url.endswith("/robots.txt")}
    return dict(_Pages.starts), sent


def test_two_fetchers_sharing_a_pacer_keep_the_host_interval_between_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gaps are the fetchers' own headers-out moments, paired with the server's stamps (see
    tests/sent_times.py): a loaded machine's late server stamp cannot fail the test."""
    seen, sent = _fetch_in_two_fetchers(tmp_path, tmp_path / "pacing", monkeypatch)
    assert len(seen) == 8
    # 0.25 s apart, as one fetcher would keep them (timer slack allowed)
    assert spacing_faults(seen, sent, 0.25, 0.05) == []
    alone = _fetch_in_two_fetchers(tmp_path, None, monkeypatch)  # without it the host sees both budgets at once
    assert len(alone[0]) == 8
    assert spacing_faults(*alone, 0.25, 0.05) != []
    times = sorted(alone[1].values())
    assert min(b - a for a, b in zip(times, times[1:])) < 0.1


def test_redis_pacer_books_slots_an_interval_apart_across_clients() -> None:
    import uuid

    from wiredesk.fetching.pacing import RedisPacer

    url = require_redis()
    host = f"pace-{uuid.uuid4().hex}.example"
    first, second = RedisPacer(url), RedisPacer(url)
    waits, booked = [], []
    try:
        for pacer in (first, second, first, second):
            before = time.monotonic()
            waits.append(pacer.reserve(host, 0.5))
            # The wait counts from the moment Redis ran the booking, some time inside this call (a
            # loaded machine can take 0.1 s and more between two calls): the slot lies in this span.
            booked.append((before + waits[-1], time.monotonic() + waits[-1]))
    finally:
        first.close()
        second.close()
    assert waits[0] < 0.05
    assert all(a < b for a, b in zip(waits, waits[1:])), waits
    for (early, late), (next_early, next_late) in zip(booked, booked[1:]):
        assert next_early - late - 0.002 <= 0.5 <= next_late - early + 0.002, (waits, booked)


# -- bounded runs ----------------------------------------------------------------------------


class _Slow(BaseHTTPRequestHandler):
    """Answers robots.txt at once, everything else after 8 s."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path != "/robots.txt":
            time.sleep(8)
        body = b"User-agent: *\nAllow: /\n"
        try:
            self.send_response(200 if self.path == "/robots.txt" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up
            pass


@pytest.mark.prefect
@pytest.mark.parametrize("at_once", [1, 2])
def test_flow_timeout_from_config_stops_a_stuck_source(tmp_path: Path, at_once: int) -> None:
    from wiredesk.flows.ingest import ingest

    server = ThreadingHTTPServer(("127.0.0.1", sch.free_port()), _Slow)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    config = tmp_path / "wiredesk.yaml"
    config.write_text(
        f"""\
store: {{url: {tmp_path / "store.db"}}}
run: {{workers: 1, flow_timeout_s: 2, source_concurrency: {at_once}}}
fetch: {{allow_private: [127.0.0.1], retries: 0, read_timeout: 30, total_timeout: 60}}
sources:
  - name: stuck
    feeds: [http://127.0.0.1:{server.server_address[1]}/feed.xml]
  - name: after
    feeds: [http://127.0.0.1:{server.server_address[1]}/other.xml]
""",
        encoding="utf-8",
    )
    started = time.monotonic()
    try:
        state = ingest(config_path=str(config), export=False, return_state=True)
    finally:
        server.shutdown()
        server.server_close()
    took = time.monotonic() - started
    summary = state.result(raise_on_failure=False)
    assert state.is_failed() and summary["failed_sources"] == ["stuck", "after"]
    rows = {row["source"]: row for row in summary["sources"]}
    assert "timed out" in rows["stuck"]["error"].lower(), rows["stuck"]
    if at_once == 1:  # the second waited for the first, and had no time left to start
        assert "run.flow_timeout_s (2 s)" in rows["after"]["error"]
    else:  # both started with the run's budget, and both were stopped within it
        assert "timed out" in rows["after"]["error"].lower(), rows["after"]
    assert took < 20, took  # the stuck request (30 s read timeout) was not waited for


def test_postgres_pacer_books_slots_an_interval_apart_across_workers() -> None:
    import uuid

    from tests.services import require_postgres
    from wiredesk.storage.pacing import PgPacer

    url = require_postgres()
    host = f"pace-{uuid.uuid4().hex}.example"
    first, second = PgPacer(url), PgPacer(url)
    try:
        waits = [pacer.reserve(host, 0.5) for pacer in (first, second, first, second)]
    finally:
        first.close()
        second.close()
    assert waits[0] < 0.05
    for before, after in zip(waits, waits[1:]):
        assert 0.4 < after - before < 0.6, waits
