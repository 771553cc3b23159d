"""``run.source_runs: task`` (the default): under Prefect each source of a run is an ``ingest-source`` task run of
the ingest flow run (no subflow), with the same per-source outcome: rows, states, artifacts,
the stored articles. Web sources from the hostile test server, the session's Prefect test server."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.fetchserver import FetchServer
from wiredesk.storage import open_store

pytest_plugins = ["tests.prefect_harness"]


def _runs_of(parent_id: str) -> tuple[dict[str, str], dict[str, str], set[str], set[str]]:
    """(child flow runs: name -> state, ingest-source task runs: name -> state, artifact keys,
    the names of the flow run's other task runs)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
        FlowRunFilterParentFlowRunId,
    )

    run_id = uuid.UUID(parent_id)
    with get_client(sync_client=True) as client:
        children = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[run_id]))
        )
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    sources = {t.name: t.state.name for t in tasks if t.task_key.startswith("_source_task")}
    others = {t.name for t in tasks if not t.task_key.startswith("_source_task")}
    return {r.name: r.state.name for r in children}, sources, {a.key for a in artifacts if a.key}, others


def _run_outlets(tmp_path: Path, outlets: int, run_options: str) -> tuple[list[dict[str, Any]], Any]:
    """The ingest flow over ``outlets`` web sources of the test server and a broken source (its
    folder removed after configuring): (the sources as configured, the flow run's final state)."""
    from wiredesk.flows.ingest import ingest

    gone = tmp_path / "removed-after-configuring"
    with FetchServer(hosts=outlets, pages=2) as server:
        sources = [
            {"name": f"outlet-{i}", "feeds": [f"{s.base}/feed.xml"], "sitemaps": [f"{s.base}/sitemap_index.xml"]}
            for i, s in enumerate(server.sites)
        ] + [{"name": "broken", "paths": [str(gone)]}]
        fetch = {"allow_private": ["127.0.0.1"], "per_host_min_interval": 0.1, "retries": 0}
        config = tmp_path / "wiredesk.yaml"
        config.write_text(
            f"store: {{url: {tmp_path / 'w.db'}}}\nexport: {{out: {tmp_path / 'corpus.jsonl'}}}\n"
            f"run: {{workers: 1, {run_options}}}\nfetch: {json.dumps(fetch)}\nsources:\n"
            + "".join(f"  - {json.dumps(source)}\n" for source in sources)
        )
        return sources, ingest(config_path=str(config), return_state=True)


@pytest.mark.prefect
def test_sources_as_task_runs_of_their_own_keep_their_rows_states_and_artifacts(tmp_path: Path) -> None:
    # source_runs not set: task runs are the default; one per source
    sources, state = _run_outlets(tmp_path, 3, "source_concurrency: 4, sources_per_task: 1")

    assert state.is_failed() and state.message == "1 of 4 sources failed: broken"
    summary = state.result(raise_on_failure=False)
    rows = {row["source"]: row for row in summary["sources"]}
    assert list(rows) == [s["name"] for s in sources]
    for i in range(3):
        assert (rows[f"outlet-{i}"]["fetched"], rows[f"outlet-{i}"]["stored"]) == (2, 2)
    assert "no such file or directory" in rows["broken"]["error"]
    children, tasks, keys, others = _runs_of(summary["run_id"])
    assert children == {}  # no subflow
    # a source's discovery and web batches run inside its task run, not as task runs of their own
    assert not [name for name in others if name.startswith(("discover-source", "fetch-batch"))], others
    assert tasks == {"outlet-0": "Completed", "outlet-1": "Completed", "outlet-2": "Completed", "broken": "Failed"}
    assert {f"ingest-source-outlet-{i}" for i in range(3)} | {"ingest-sources", "ingest-summary"} <= keys
    with open_store(str(tmp_path / "w.db")) as store:
        assert sorted(row.article.source for row in store.iter_since(0)) == sorted(
            f"outlet-{i}" for i in range(3) for _ in range(2)
        )


def _chunk_runs(parent_id: str) -> tuple[dict[str, Any], dict[str, list[str]], list[Any]]:
    """(ingest-sources task runs: id -> task run, task run id -> the sources whose line it logged,
    the flow run's artifacts)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=30)  # the run's log lines are sent in the background
    run_id = uuid.UUID(parent_id)
    with get_client(sync_client=True) as client:
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    chunks = {str(t.id): t for t in tasks if t.task_key.startswith("_chunk_task")}
    lines: dict[str, list[str]] = {}
    for entry in logs:
        if entry.message.startswith("source "):
            lines.setdefault(str(entry.task_run_id), []).append(entry.message.split()[1].rstrip(":"))
    return chunks, lines, artifacts


@pytest.mark.prefect
def test_sources_sharing_task_runs_keep_their_rows_failures_and_artifacts(tmp_path: Path) -> None:
    """``run.sources_per_task: 2``: sources that start together share an ``ingest-sources`` task
    run (each on its own thread); every source has its row, its log line in its task run and its
    row in its task run's table artifact; the broken source fails its task run only, the others stay
    complete."""
    sources, state = _run_outlets(tmp_path, 4, "source_concurrency: 5, sources_per_task: 2")

    assert state.is_failed() and state.message == "1 of 5 sources failed: broken"
    summary = state.result(raise_on_failure=False)
    rows = {row["source"]: row for row in summary["sources"]}
    assert list(rows) == [s["name"] for s in sources]
    for i in range(4):
        assert (rows[f"outlet-{i}"]["fetched"], rows[f"outlet-{i}"]["stored"]) == (2, 2)
    assert "no such file or directory" in rows["broken"]["error"]

    chunks, lines, artifacts = _chunk_runs(summary["run_id"])
    _, per_source, keys, others = _runs_of(summary["run_id"])
    assert per_source == {}  # no task run of one source
    assert not [name for name in others if name.startswith(("discover-source", "fetch-batch"))], others
    # every source's line is logged once, in an ingest-sources task run of at most 2 sources
    logged = [source for task_id, names in lines.items() for source in names]
    assert sorted(logged) == sorted(s["name"] for s in sources)
    assert set(lines) <= set(chunks) and all(len(names) <= 2 for names in lines.values())
    assert 3 <= len(chunks) <= 4 and any(len(names) == 2 for names in lines.values()), lines
    for task_id, names in lines.items():
        state_name = chunks[task_id].state.name
        assert state_name == ("Failed" if "broken" in names else "Completed"), (names, state_name)
        if "broken" in names:
            assert chunks[task_id].state.message.endswith("sources failed: broken")
    # a progress artifact per task run whose sources got to their batches, complete
    progress = [a for a in artifacts if a.type == "progress"]
    assert progress and all(float(a.data) == 100.0 for a in progress)
    assert {str(a.task_run_id) for a in progress} <= set(chunks)
    # each task run's table: its sources' rows (the failed one with its error); the run's table
    tables = {str(a.task_run_id): a.data for a in artifacts if a.type == "table" and a.task_run_id}
    assert set(tables) == set(lines)
    for task_id, names in lines.items():
        table = {
            row["source"]: row
            for row in (json.loads(tables[task_id]) if isinstance(tables[task_id], str) else tables[task_id])
        }
        assert sorted(table) == sorted(names)
        for name, row in table.items():
            assert row["error"] == "-" if name != "broken" else "no such file or directory" in row["error"]
            assert row["fetched"] == (0 if name == "broken" else 2)
    assert not [key for key in keys if key.startswith("ingest-source-")]  # no artifact per source
    assert {"ingest-sources", "ingest-summary"} <= keys
    with open_store(str(tmp_path / "w.db")) as store:
        assert sorted(row.article.source for row in store.iter_since(0)) == sorted(
            f"outlet-{i}" for i in range(4) for _ in range(2)
        )
