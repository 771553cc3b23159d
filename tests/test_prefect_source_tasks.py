"""``run.source_runs: task`` (the default): under Prefect each source of a run is an ``ingest-source`` task run of
the ingest flow run (no subflow), with the same per-source outcome: rows, states, artifacts,
the stored articles. Web sources from the hostile test server, the session's Prefect test server."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

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


@pytest.mark.prefect
def test_sources_as_task_runs_keep_their_rows_states_and_artifacts(tmp_path: Path) -> None:
    from wiredesk.flows.ingest import ingest

    gone = tmp_path / "removed-after-configuring"
    with FetchServer(hosts=3, pages=2) as server:
        sources = [
            {"name": f"outlet-{i}", "feeds": [f"{s.base}/feed.xml"], "sitemaps": [f"{s.base}/sitemap_index.xml"]}
            for i, s in enumerate(server.sites)
        ] + [{"name": "broken", "paths": [str(gone)]}]
        fetch = {"allow_private": ["127.0.0.1"], "per_host_min_interval": 0.1, "retries": 0}
        config = tmp_path / "wiredesk.yaml"
        config.write_text(
            f"store: {{url: {tmp_path / 'w.db'}}}\nexport: {{out: {tmp_path / 'corpus.jsonl'}}}\n"
            # source_runs not set: a task run per source is the default
            f"run: {{workers: 1, source_concurrency: 4}}\nfetch: {json.dumps(fetch)}\nsources:\n"
            + "".join(f"  - {json.dumps(source)}\n" for source in sources)
        )
        state = ingest(config_path=str(config), return_state=True)

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
