"""The ingest flow under the session's Prefect test server: deployment runs with parameters,
run artifacts, a failing source among good ones, and two concurrent runs on one store."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.pipeline_helpers import syndicated_text_copy, write

pytest_plugins = ["tests.prefect_harness"]

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def seed_files() -> list[Path]:
    """The five seed pages: the bundled copy in samples/, else ../shared/data/seeds."""
    for folder in (REPO / "samples" / "seeds", REPO.parent / "shared" / "data" / "seeds"):
        files = sorted(folder.glob("*.txt"))
        if len(files) == 5:
            return files
    pytest.skip("the five seed pages are in neither samples/seeds nor ../shared/data/seeds")


def _copy(files: list[Path], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for file in files:
        shutil.copy(file, folder / file.name)
    return folder


def _config(tmp_path: Path, sources: dict[str, list[Path]], *, batch_size: int = 2) -> Path:
    """A small config: these sources (name -> paths), a tmp store and export, one extraction process."""
    lines = [
        f"store: {{url: {tmp_path / 'store.db'}}}",
        f"export: {{out: {tmp_path / 'corpus.jsonl'}}}",
        # These tests read each source's subflow run (the default is a task run per source:
        # tests/test_prefect_source_tasks.py).
        f"run: {{batch_size: {batch_size}, workers: 1, lock_timeout_s: 60, source_runs: subflow}}",
    ]
    lines.append("sources:" if sources else "sources: []")
    for name, paths in sources.items():
        lines += [f"  - name: {name}", f"    paths: {json.dumps([str(p) for p in paths])}"]
    path = tmp_path / "wiredesk.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _articles(store: Path) -> list[tuple[str, str, str, str | None]]:
    """(id, source, cluster_id, duplicate_of) of every stored article, read with plain sqlite3."""
    with sqlite3.connect(store) as conn:
        return sorted(conn.execute("SELECT id, source, cluster_id, duplicate_of FROM articles"))


def _flow_run(run_id: str):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(uuid.UUID(run_id))


def _child_runs(parent_id: str) -> dict[str, str]:
    """ingest-source subflow runs of a parent run: source name -> state name."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[uuid.UUID(parent_id)]))
        )
    return {run.name: run.state.name for run in runs}


def _artifacts(run_id: str) -> dict[str, object]:
    """The artifacts a flow run published: key -> data (tables decoded from JSON)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[uuid.UUID(run_id)]))
        )
    out: dict[str, object] = {}
    for artifact in found:
        data = artifact.data
        out[artifact.key] = json.loads(data) if artifact.type == "table" and isinstance(data, str) else data
    return out


@pytest.mark.prefect
def test_manual_deployment_run_with_parameters_runs_only_the_chosen_source(
    tmp_path: Path, seed_files: list[Path]
) -> None:
    from prefect.flow_engine import run_flow

    from wiredesk.config import load_config
    from wiredesk.flows.deployments import build_deployments, plan_deployments, trigger
    from wiredesk.flows.ingest import ingest

    alpha = _copy(seed_files[:2], tmp_path / "alpha")
    beta = _copy(seed_files[2:], tmp_path / "beta")
    cfg = _config(tmp_path, {"alpha": [alpha], "beta": [beta]})
    plans = plan_deployments(load_config(cfg, environ={}), config_path=cfg, only=["ingest/all"])
    build_deployments(plans)[0].apply()

    created = trigger("ingest/all", {"sources": ["beta"], "export": False}, queue=True)
    assert created.parameters["sources"] == ["beta"]
    # Execute the created flow run here, as a worker or `wiredesk serve` would in a subprocess.
    flow_run = _flow_run(created.flow_run_id)
    summary = run_flow(ingest, flow_run=flow_run, parameters=flow_run.parameters)

    assert _flow_run(created.flow_run_id).state.is_completed()
    assert [row["source"] for row in summary["sources"]] == ["beta"]
    assert _child_runs(created.flow_run_id) == {"beta": "Completed"}
    stored = _articles(tmp_path / "store.db")
    assert len(stored) == 3 and {source for _, source, _, _ in stored} == {"beta"}
    assert not (tmp_path / "corpus.jsonl").exists()  # export=False was passed too


@pytest.mark.prefect
def test_run_artifacts_have_the_right_counts(tmp_path: Path, seed_files: list[Path]) -> None:
    from wiredesk.flows.ingest import ingest

    originals = _copy(seed_files, tmp_path / "originals")
    copies = tmp_path / "copies"
    copies.mkdir()
    shutil.copy(seed_files[0], copies / "exact-copy.txt")
    write(copies / "wire-copy.txt", syndicated_text_copy(seed_files[1].read_text(encoding="utf-8")))
    (copies / "broken.txt.gz").write_bytes(b"not gzip at all")
    cfg = _config(tmp_path, {"originals": [originals], "copies": [copies]})

    summary = ingest(sources=["originals", "copies"], config_path=str(cfg))

    # 5 distinct seeds; the copies source adds one exact copy, one near copy, one unreadable file
    expected = {
        "originals": dict(discovered=5, read=5, extracted=5, stored=5, exact_duplicates=0, near_duplicates=0, failed=0),
        "copies": dict(discovered=3, read=3, extracted=2, stored=0, exact_duplicates=1, near_duplicates=1, failed=1),
    }
    artifacts = _artifacts(summary["run_id"])
    assert set(artifacts) >= {"ingest-sources", "ingest-summary"}
    table = {row["source"]: row for row in artifacts["ingest-sources"]}
    assert set(table) == set(expected)
    for source, counts in expected.items():
        assert {key: table[source][key] for key in counts} == counts, source
    assert table["copies"]["failed_by_reason"] == "corrupt-gzip: 1"
    assert table["originals"]["error"] == "-"

    markdown = artifacts["ingest-summary"]
    assert f"`{summary['run_id']}`" in markdown
    assert "pages read: **8**, new articles stored: **5**" in markdown
    assert "exact duplicates: 1, near duplicates: 1" in markdown
    assert "failed: 1 (corrupt-gzip: 1)" in markdown
    # the two clusters that grew in this run, each by one copy
    assert markdown.count("| 1 |") >= 2 and "Largest clusters grown in this run" in markdown
    # and the store agrees with the report
    stored = _articles(tmp_path / "store.db")
    assert len(stored) == 7 and len({cluster for _, _, cluster, _ in stored}) == 5
    # task runs per batch of pages, never per page: batch size 2 -> 3 batches of 5 files, 2 of 3
    assert _task_runs(summary["run_id"]) == {"originals": 3, "copies": 2, "(ingest)": 1}


def _task_runs(parent_id: str) -> dict[str, int]:
    """Task runs per subflow run name (source), plus the parent's own under "(ingest)"."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterParentFlowRunId

    with get_client(sync_client=True) as client:
        children = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[uuid.UUID(parent_id)]))
        )
        names = {run.id: run.name for run in children} | {uuid.UUID(parent_id): "(ingest)"}
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(names))))
    counts: dict[str, int] = {}
    for task in tasks:
        if task.flow_run_id in names and not task.name.startswith("ingest-source"):  # subflow stand-ins are not tasks
            counts[names[task.flow_run_id]] = counts.get(names[task.flow_run_id], 0) + 1
    return counts


@pytest.mark.prefect
def test_a_failing_source_leaves_the_others_completed(tmp_path: Path, seed_files: list[Path]) -> None:
    from wiredesk.flows.ingest import ingest

    good = _copy(seed_files, tmp_path / "good")
    gone = tmp_path / "removed-after-configuring"
    cfg = _config(tmp_path, {"broken": [gone], "good": [good]})

    state = ingest(sources=["broken", "good"], config_path=str(cfg), return_state=True)

    # the run finishes and reports, and ends Failed (--fail-on source, the default): an operator
    # sees it red in the UI, and `trigger --wait` exits 1 as `wiredesk run` does
    assert state.is_failed() and state.message == "1 of 2 sources failed: broken"
    summary = state.result(raise_on_failure=False)
    assert summary["failed_sources"] == ["broken"]
    rows = {row["source"]: row for row in summary["sources"]}
    assert "no such file or directory" in rows["broken"]["error"]
    assert rows["good"]["stored"] == 5 and rows["good"]["error"] is None
    assert _child_runs(summary["run_id"]) == {"broken": "Failed", "good": "Completed"}
    table = {row["source"]: row for row in _artifacts(summary["run_id"])["ingest-sources"]}
    assert "no such file or directory" in table["broken"]["error"] and table["good"]["stored"] == 5
    assert "**failed sources**: broken" in _artifacts(summary["run_id"])["ingest-summary"]
    assert len(_articles(tmp_path / "store.db")) == 5
    corpus = (tmp_path / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(corpus) == 5  # the export still ran


@pytest.mark.prefect
def test_two_concurrent_runs_on_one_store_leave_it_consistent(
    tmp_path: Path, seed_files: list[Path], prefect_api: str
) -> None:
    # Two processes, started together, each holding one copy of every story: whichever order
    # their batches interleave in, the store must end with 5 clusters of 2, one representative each.
    first = _copy(seed_files, tmp_path / "first")
    second = tmp_path / "second"
    second.mkdir()
    for index, seed in enumerate(seed_files):
        if index < 3:
            shutil.copy(seed, second / f"reprint-{index}.txt")  # exact copies under other paths
        else:
            write(second / f"wire-{index}.txt", syndicated_text_copy(seed.read_text(encoding="utf-8")))
    store = tmp_path / "store.db"
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "WIREDESK_CONFIG": str(_config(tmp_path, {}, batch_size=1)),
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "wiredesk.cli",
                "run",
                "--input",
                str(folder),
                "--store",
                str(store),
                "--no-export",
                "--json",
                "--workers",
                "1",
                "--batch-size",
                "1",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for folder in (first, second)
    ]
    outputs = [proc.communicate(timeout=240) for proc in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err[-2000:]
    summaries = [json.loads(out) for out, _ in outputs]

    articles = _articles(store)
    assert len(articles) == 10
    clusters: dict[str, list[str | None]] = {}
    for _, _, cluster, duplicate_of in articles:
        clusters.setdefault(cluster, []).append(duplicate_of)
    assert sorted(len(members) for members in clusters.values()) == [2] * 5
    assert all(members.count(None) == 1 for members in clusters.values())  # one representative each
    ids = {article_id for article_id, _, _, _ in articles}
    assert all(dup in ids for _, _, _, dup in articles if dup is not None)
    # the two runs' own reports add up to the same picture
    assert sum(s["stored"] for s in summaries) == 5
    assert sum(s["exact_duplicates"] + s["near_duplicates"] for s in summaries) == 5
    with sqlite3.connect(store) as conn:
        runs = dict(conn.execute("SELECT run_id, status FROM runs"))
    assert runs == {s["run_id"]: "completed" for s in summaries}
