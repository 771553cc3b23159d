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
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterParentFlowRunId

    with get_client(sync_client=True) as client:
        children = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[uuid.UUID(run_id)]))
        )
        ids = [run.id for run in children] + [uuid.UUID(run_id)]
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)))
    return sorted(t.name for t in tasks if not t.name.startswith("ingest-source"))


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
from wiredesk.config import load_config
from wiredesk.pipeline import archives
from wiredesk.pipeline.run import run_ingest

original = archives.ingest_pages
calls = 0
def announce(*args, **kwargs):
    global calls
    original(*args, **kwargs)
    calls += 1
    print("batch", calls, flush=True)
    if calls == 1:
        time.sleep(60)  # the test kills us here: one batch of the first file stored
archives.ingest_pages = announce
run_ingest(load_config(sys.argv[1], environ={}), sources=["ccnews"], export=False)
"""


def test_a_killed_source_resumes_where_it_stopped(tmp_path: Path) -> None:
    folder = tmp_path / "warcs"
    for f in range(2):
        records = [page_record(100 * f + n) for n in range(6)]
        write(folder / f"CC-NEWS-2024010{f + 1}000000-0000{f}.warc.gz", per_record_gzip(records))
    cfg = config(tmp_path, run={"workers": 1, "batch_size": 3}, sources=[{"name": "ccnews", "warcs": [str(folder)]}])
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, cfg.source_file],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    try:
        deadline = time.monotonic() + 120
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
