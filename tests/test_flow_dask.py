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
