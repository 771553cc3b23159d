"""run.task_runner: dask — file batches run at once on a local Dask cluster (two worker
processes), each opening the store and index itself; the result equals a sequential run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.pipeline_helpers import syndicated_text_copy, write

pytest.importorskip("prefect_dask", reason="prefect-dask (the dask extra) is not installed")
pytestmark = [pytest.mark.prefect, pytest.mark.slow]


def test_dask_batches_match_a_sequential_run(samples_dir: Path, tmp_path: Path) -> None:
    from wiredesk.flows.ingest import ingest

    pages = tmp_path / "pages"
    for i, seed in enumerate(sorted((samples_dir / "seeds").glob("*.txt"))):
        text = seed.read_text("utf-8")
        write(pages / f"{i}a-seed.txt", text)
        write(pages / f"{i}b-copy.txt", syndicated_text_copy(text, keep=0.8))
    results = {}
    for runner in ("default", "dask"):
        config = tmp_path / f"{runner}.yaml"
        config.write_text(
            f"store: {{url: {tmp_path / runner / 'w.db'}}}\n"
            f"export: {{out: {tmp_path / runner / 'corpus.jsonl'}, include_duplicates: true}}\n"
            f"run: {{batch_size: 2, workers: 2, task_runner: {runner}}}\n"
        )
        summary = ingest(inputs=[str(pages)], config_path=str(config))
        records = [json.loads(line) for line in (tmp_path / runner / "corpus.jsonl").read_text().splitlines()]
        clusters: dict[str, set[str]] = {}
        for record in records:
            clusters.setdefault(record["cluster_id"], set()).add(Path(record["path"]).name[:1])
        results[runner] = (
            summary["stored"],
            summary["near_duplicates"] + summary["exact_duplicates"],
            sorted(sorted(c) for c in clusters.values()),
        )
    # every story is one cluster of its seed and its copy, whichever process stored which
    assert results["dask"] == results["default"] == (5, 5, [[str(i)] for i in range(5)])


def test_dask_spreads_files_over_several_batches_per_worker(samples_dir: Path, tmp_path: Path) -> None:
    """40 files, 2 workers, run.batch_size 200: not one batch of 40 (one worker idle) but about
    four batches per worker, each at least SPREAD_LEAST pages: 5 batches of 8."""
    import uuid

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterParentFlowRunId

    from wiredesk.flows.ingest import ingest

    seeds = [p.read_text("utf-8") for p in sorted((samples_dir / "seeds").glob("*.txt"))]
    pages = tmp_path / "pages"
    for i in range(40):
        write(pages / f"{i:02d}.txt", syndicated_text_copy(seeds[i % len(seeds)], keep=0.8) + f"\n\nPage {i}.\n")
    config = tmp_path / "dask.yaml"
    config.write_text(
        f"store: {{url: {tmp_path / 'w.db'}}}\nexport: {{out: {tmp_path / 'corpus.jsonl'}}}\n"
        "run: {batch_size: 200, workers: 2, task_runner: dask}\n"
    )
    summary = ingest(inputs=[str(pages)], config_path=str(config))
    assert summary["pages_read"] == 40
    with get_client(sync_client=True) as client:
        root = uuid.UUID(summary["run_id"])
        children = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[root]))
        )
        ids = [run.id for run in children] + [root]
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)))
    assert sum(1 for t in tasks if t.name.startswith("ingest-files-remote")) == 5
