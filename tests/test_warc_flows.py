"""Archives under Prefect: one task run per archive file (never per record), the same result
on a local Dask cluster (two worker processes); and a warcs: source killed with SIGKILL
mid-file resumes where it stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.test_warc_pipeline import archive_files, config, stored_ids
from tests.warc_files import page_record, per_record_gzip, write
from wiredesk.pipeline.run import run_ingest


def _archive_task_runs(run_id: str) -> list[str]:
    from wiredesk.flows.ingest import chunk_task, source_task

    source_keys = {source_task().task_key, chunk_task().task_key}
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterParentFlowRunId

    with get_client(sync_client=True) as client:
        children = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[uuid.UUID(run_id)]))
        )
        ids = [run.id for run in children] + [uuid.UUID(run_id)]
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)))
    # neither the subflow's stand-in nor the source's own (or shared) task run (run.source_runs: task)
    return sorted(t.name for t in tasks if not t.name.startswith("ingest-source") and t.task_key not in source_keys)


@pytest.mark.prefect
@pytest.mark.slow
@pytest.mark.parametrize("runner", ["default", "dask"])
def test_one_task_per_archive_file(tmp_path: Path, runner: str) -> None:
    if runner == "dask":
        pytest.importorskip("prefect_dask", reason="prefect-dask (the dask extra) is not installed")
    from wiredesk.flows.ingest import ingest

    files = archive_files(tmp_path / "warcs", 3)
    cfg = tmp_path / "w.yaml"
    cfg.write_text(
        f"store: {{url: {tmp_path / 'w.db'}}}\n"
        f"run: {{batch_size: 2, workers: 2, task_runner: {runner}}}\n"
        f"sources: [{{name: ccnews, warcs: ['{tmp_path / 'warcs'}']}}]\n"
    )
    summary = ingest(sources=["ccnews"], config_path=str(cfg), export=False)
    assert summary["stored"] == 9 and summary["sources"][0]["discovered"] == 9
    names = _archive_task_runs(summary["run_id"])
    # 9 records in 3 files with batches of 2 pages: 3 task runs, one per file
    assert len(names) == 3 and sorted(n.rsplit("/", 1)[-1][:28] for n in names) == sorted(f.name[:28] for f in files), (
        names
    )
    again = ingest(sources=["ccnews"], config_path=str(cfg), export=False)
    assert again["pages_read"] == 0 and again["sources"][0]["skipped"]["archive-done"] == 3


DRIVER = r"""
import sys, time
from wiredesk.pipeline import archives

original = archives.ingest_pages
calls = 0
def announce(*args, **kwargs):
    global calls
    original(*args, **kwargs)
    calls += 1
    print("batch", calls, flush=True)
    if calls == 1:
        time.sleep(120)  # the test kills us here: one batch of the first file stored
archives.ingest_pages = announce
if sys.argv[2] == "flow":  # the Prefect flow, as a scheduled run starts it
    from wiredesk.flows.ingest import ingest
    ingest(sources=["ccnews"], config_path=sys.argv[1], export=False)
else:  # the plain pipeline
    from wiredesk.config import load_config
    from wiredesk.pipeline.run import run_ingest
    run_ingest(load_config(sys.argv[1], environ={}), sources=["ccnews"], export=False)
"""


def _kill_after_first_batch(config_file: str, how: str, **env: str) -> None:
    """Run the ccnews source in a process of its own and SIGKILL it once its first batch is stored."""
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, config_file, how],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), **env},
    )
    try:
        deadline = time.monotonic() + 240
        seen = []
        while time.monotonic() < deadline and "batch 1" not in seen:
            line = proc.stdout.readline().strip() if proc.stdout else ""
            if not line and proc.poll() is not None:
                break
            seen.append(line)
        assert "batch 1" in seen, seen
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL


def test_a_killed_source_resumes_where_it_stopped(tmp_path: Path) -> None:
    folder = tmp_path / "warcs"
    for f in range(2):
        records = [page_record(100 * f + n) for n in range(6)]
        write(folder / f"CC-NEWS-2024010{f + 1}000000-0000{f}.warc.gz", per_record_gzip(records))
    cfg = config(tmp_path, run={"workers": 1, "batch_size": 3}, sources=[{"name": "ccnews", "warcs": [str(folder)]}])
    _kill_after_first_batch(cfg.source_file, "pipeline")
    assert len(stored_ids(tmp_path)) == 3  # half of the first file
    resumed, _ = run_ingest(cfg, sources=["ccnews"], export=False)
    row = resumed["sources"][0]
    assert row["stored"] == 9 and row["already_seen"] == 3 and row["skipped"].get("archive-done") is None
    assert len(stored_ids(tmp_path)) == 12
    done, _ = run_ingest(cfg, sources=["ccnews"], export=False)
    assert done["sources"][0]["skipped"]["archive-done"] == 2


@pytest.mark.prefect
def test_the_cli_reads_a_cut_archive_and_exits_0(tmp_path: Path, prefect_api: str) -> None:
    import json

    from tests.test_cli import wiredesk

    records = [page_record(n) for n in range(3)]
    path = write(tmp_path / "in" / "cut.warc.gz", per_record_gzip(records)[:-40])
    proc = wiredesk("run", "--input", str(path), "--json", cwd=tmp_path, env={"PREFECT_API_URL": prefect_api})
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["stored"] == 2 and summary["failed_by_reason"] == {"warc-truncated": 1}
    lines = (tmp_path / "data" / "corpus.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["url"] for line in lines) == [
        "http://example.com/news/0",
        "http://example.com/news/1",
    ]
    assert all(json.loads(line)["fetched_at"].startswith("2024-01-02T03:04:05") for line in lines)


@pytest.mark.prefect
def test_a_killed_ccnews_flow_run_resumes_at_the_next_run(tmp_path: Path, prefect_api: str) -> None:
    """What a scheduled CC-NEWS source does: the ``ingest`` flow (the run a schedule starts)
    reads a monthly listing over HTTP, downloads each archive and stores it. Killed with
    SIGKILL half-way through its first file, the next run (the next tick, with one more file
    in the listing) stores the rest of that file and the new ones, each page once, and
    downloads no file twice; the run after it has nothing left to do. (The schedule itself
    firing, and a run left Running by a kill -9 of serve set Crashed: test_schedules_fire.)"""
    import gzip
    import threading

    from tests.test_warc_download import FileServer

    made = tmp_path / "made"
    month = "/crawl-data/CC-NEWS/2024/01/"
    for f in range(3):
        records = [page_record(100 * f + n) for n in range(6)]
        write(made / f"CC-NEWS-2024010{f + 1}000000-0000{f}.warc.gz", per_record_gzip(records))
    names = sorted(p.name for p in made.iterdir())
    server = FileServer()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def publish(count: int) -> None:  # the listing as it grows over the month
        for name in names[:count]:
            server.files[month + name] = (made / name).read_bytes()
        server.files[month + "warc.paths.gz"] = gzip.compress(
            "".join(f"{month[1:]}{n}\n" for n in names[:count]).encode()
        )

    publish(2)
    source = {"name": "ccnews", "warcs": [server.base + month + "warc.paths.gz"], "download_dir": str(tmp_path / "dl")}
    cfg = config(tmp_path, run={"workers": 1, "batch_size": 3}, sources=[source])
    try:
        _kill_after_first_batch(cfg.source_file, "flow", PREFECT_API_URL=prefect_api)
        assert len(stored_ids(tmp_path)) == 3  # half of the first file
        downloads = [p for p, _ in server.requests if not p.endswith(".paths.gz")]
        assert downloads == [month + names[0]]

        from wiredesk.flows.ingest import ingest

        publish(3)  # the next tick: one more file in the listing
        resumed = ingest(sources=["ccnews"], config_path=cfg.source_file, export=False)
        row = resumed["sources"][0]
        assert row["stored"] == 15 and row["already_seen"] == 3, row  # 3 + 6 + 6 new, 3 seen again
        assert row["skipped"].get("archive-done") is None and row["failed"] == 0, row
        assert len(stored_ids(tmp_path)) == 18
        assert list((tmp_path / "dl" / "warcs").iterdir()) == []  # done files are not kept

        done = ingest(sources=["ccnews"], config_path=cfg.source_file, export=False)
        assert done["pages_read"] == 0 and done["sources"][0]["skipped"]["archive-done"] == 3
        downloads = [p for p, _ in server.requests if not p.endswith(".paths.gz")]
        # Each file downloaded once: the one the kill interrupted was whole in the download
        # folder (a file is deleted only once done), and read again from there.
        assert sorted(downloads) == sorted(month + n for n in names)
    finally:
        server.shutdown()
        server.server_close()
