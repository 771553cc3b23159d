"""Run-report artifacts: the rows and markdown (plain functions), and what lands in Prefect."""

from __future__ import annotations

import json
import uuid
from collections import Counter

import pytest

from wiredesk.flows.artifacts import (
    TABLE_COLUMNS,
    RunProgress,
    artifacts_sent_in_background,
    publish_run_artifacts,
    publish_source_artifact,
    source_artifact_key,
    source_row,
    summary_markdown,
)
from wiredesk.pipeline.report import SourceTally, summarise

pytest_plugins = ["tests.prefect_harness"]


def _tallies() -> list[SourceTally]:
    wire = SourceTally(
        source="Wire News",
        discovered=12,
        fetched=9,
        not_modified=2,
        read=9,
        extracted=8,
        stored=5,
        exact=2,
        near=1,
        skipped=Counter({"robots": 1}),
        failed=Counter({"no-content": 1, "http-404": 1}),
        clusters=Counter({"c-big": 3, "c-small": 1}),
        host_seconds=Counter({"slow.example": 4.5, "fast.example": 0.2, "bad.example": 0.1}),
        host_failures=Counter({"bad.example": 2}),
    )
    broken = SourceTally(source="broken", error="FetchError: feed | unreachable\nsecond line")
    return [wire, broken]


def test_rows_are_flat_and_in_pipeline_order() -> None:
    row = source_row(_tallies()[0])
    assert tuple(row) == TABLE_COLUMNS
    assert (
        row["discovered"],
        row["fetched"],
        row["not_modified"],
        row["skipped"],
        row["read"],
        row["failed"],
        row["extracted"],
        row["exact_duplicates"],
        row["near_duplicates"],
        row["stored"],
    ) == (12, 9, 2, 1, 9, 2, 8, 2, 1, 5)
    assert row["failed_by_reason"] == "http-404: 1, no-content: 1" and row["error"] == "-"
    assert all(isinstance(value, (str, int, float)) for value in row.values())


def test_markdown_names_largest_clusters_worst_hosts_and_failed_sources() -> None:
    tallies = _tallies()
    summary = summarise("run-1", tallies, wall_seconds=3.25, export={"count": 5, "path": "/tmp/c.jsonl"})
    text = summary_markdown(summary, tallies, top=2)
    assert "pages read: **9**, new articles stored: **5**" in text
    assert "failed: 2 (http-404: 1, no-content: 1)" in text
    assert "corpus export: 5 records -> `/tmp/c.jsonl`" in text
    assert text.index("`c-big` | 3") < text.index("`c-small` | 1")
    hosts = [line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| ") and ".example" in line]
    assert hosts == ["bad.example", "slow.example"]  # failing first, then slowest; top=2 drops the fast one
    assert "| broken | FetchError: feed \\| unreachable second line |" in text  # one table row, pipe escaped
    assert "**failed sources**: broken" in text
    assert source_artifact_key("Wire News") == "ingest-source-wire-news"


def test_progress_outside_a_run_only_counts() -> None:
    progress = RunProgress(total=8)
    progress.advance(3)
    assert progress.percent == 37.5 and progress._id is None
    progress.advance(10)
    assert progress.percent == 100.0
    assert RunProgress(total=0).percent == 100.0


@pytest.mark.prefect
def test_source_artifact_and_progress_land_on_the_current_run() -> None:
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.runtime import flow_run

    @flow(name=f"artifact-check-{uuid.uuid4().hex[:6]}", persist_result=False)
    def report() -> str:
        progress = RunProgress(total=4)
        for _ in range(2):
            progress.advance(2)
        publish_source_artifact(_tallies()[0])
        return flow_run.get_id()

    run_id = report()
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[uuid.UUID(run_id)]))
        )
    by_type = {artifact.type: artifact for artifact in found}
    assert set(by_type) == {"table", "progress"}
    assert by_type["table"].key == "ingest-source-wire-news"
    rows = json.loads(by_type["table"].data) if isinstance(by_type["table"].data, str) else by_type["table"].data
    assert rows == [source_row(_tallies()[0])]
    assert float(by_type["progress"].data) == 100.0


def _artifacts_of(run_id: str) -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        return client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[uuid.UUID(run_id)]))
        )


@pytest.mark.prefect
def test_artifacts_sent_in_the_background_land_on_their_own_task_runs() -> None:
    """With the run's sender open, sources (task runs on threads of their own, as a crawl runs them)
    only queue their artifacts; when the block ends every one was sent, each on its own task run, a
    progress artifact once with its last value, and the run's table and summary on the flow run."""
    from concurrent.futures import ThreadPoolExecutor
    from contextvars import copy_context

    from prefect import flow, task
    from prefect.runtime import flow_run, task_run

    tallies = _tallies()

    @task(name="artifact-source", task_run_name="{index}", persist_result=False)
    def source(index: int) -> str:
        progress = RunProgress(total=4)
        for _ in range(4):
            progress.advance(1)
        publish_source_artifact(tallies[index])
        return task_run.get_id()

    @flow(name=f"artifact-sender-{uuid.uuid4().hex[:6]}", persist_result=False)
    def report() -> tuple[str, list[str]]:
        with artifacts_sent_in_background(threads=2) as sender:
            with ThreadPoolExecutor(2) as pool:
                runs = [pool.submit(copy_context().run, source, i) for i in range(len(tallies))]
                task_ids = [run.result() for run in runs]
            summary = summarise("r", tallies, wall_seconds=1.0, export=None)
            publish_run_artifacts(summary, tallies)
        assert sender.failures == 0
        return flow_run.get_id(), task_ids

    run_id, task_ids = report()
    found = _artifacts_of(run_id)
    by_task: dict[str, list] = {}
    for artifact in found:
        by_task.setdefault(str(artifact.task_run_id), []).append(artifact)
    for index, task_id in enumerate(task_ids):
        mine = {artifact.type: artifact for artifact in by_task[task_id]}
        assert len(by_task[task_id]) == 2 and set(mine) == {"table", "progress"}
        assert float(mine["progress"].data) == 100.0
        assert mine["table"].key == source_artifact_key(tallies[index].source)
        rows = json.loads(mine["table"].data) if isinstance(mine["table"].data, str) else mine["table"].data
        assert rows == [source_row(tallies[index])]
    on_flow = {artifact.key for artifact in by_task.get("None", [])}
    assert on_flow == {"ingest-sources", "ingest-summary"}


@pytest.mark.prefect
def test_an_artifact_the_api_refuses_is_logged_and_does_not_fail_the_run(caplog: pytest.LogCaptureFixture) -> None:
    from prefect import flow
    from prefect.client.schemas.actions import ArtifactCreate

    @flow(name=f"artifact-refused-{uuid.uuid4().hex[:6]}", persist_result=False)
    def report() -> int:
        with artifacts_sent_in_background(threads=1) as sender:
            # a key the client would not let through: the API answers 422
            bad = ArtifactCreate.model_construct(key="Not A Key!", type="table", data="[]", description=None)
            sender._put(("create", bad))
            publish_source_artifact(_tallies()[0])
        return sender.failures

    assert report() == 1
    assert "could not send an artifact to the Prefect API" in caplog.text
