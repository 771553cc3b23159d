"""Run reports as Prefect artifacts: a table with a row per source and a markdown summary.

The rows and the markdown are built by plain functions (``source_rows``, ``summary_markdown``)
from the same ``SourceTally`` objects and summary dict the CLI prints, so the UI and the
terminal never disagree; ``publish_run_artifacts`` only hands them to Prefect.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from wiredesk.pipeline.report import Progress, SourceTally

# One column per step a page goes through, in pipeline order; the UI shows them as given.
TABLE_COLUMNS = (
    "source",
    "status",
    "discovered",
    "fetched",
    "not_modified",
    "skipped",
    "skipped_by_reason",
    "read",
    "failed",
    "failed_by_reason",
    "extracted",
    "exact_duplicates",
    "near_duplicates",
    "already_seen",
    "changed",
    "stored",
    "seconds",
    "error",
)
SOURCES_KEY = "ingest-sources"
SUMMARY_KEY = "ingest-summary"
SOURCE_KEY_PREFIX = "ingest-source-"


def _reasons(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason}: {n}" for reason, n in sorted(counts.items())) or "-"


def source_row(tally: SourceTally) -> dict[str, Any]:
    """One source's counts as a flat row (counters as ``reason: n`` text: table cells are scalars)."""
    row = tally.as_row()
    flat = {key: row[key] for key in TABLE_COLUMNS if key in row}
    flat["skipped"] = sum(row["skipped"].values())
    flat["skipped_by_reason"] = _reasons(row["skipped"])
    flat["failed_by_reason"] = _reasons(row["failed_by_reason"])
    flat["error"] = row["error"] or "-"
    return {key: flat[key] for key in TABLE_COLUMNS}


def source_rows(tallies: Sequence[SourceTally]) -> list[dict[str, Any]]:
    return [source_row(tally) for tally in tallies]


def _cell(text: object) -> str:
    """Markdown table cells: one line, no column breaks (error messages may hold either)."""
    return str(text).replace("\n", " ").replace("|", "\\|")


def summary_markdown(summary: dict[str, Any], tallies: Sequence[SourceTally], *, top: int = 10) -> str:
    clusters: Counter[str] = Counter()
    host_seconds: Counter[str] = Counter()
    host_failures: Counter[str] = Counter()
    for tally in tallies:
        clusters.update(tally.clusters)
        host_seconds.update(tally.host_seconds)
        host_failures.update(tally.host_failures)
    lines = [
        f"# wiredesk ingest run `{summary['run_id']}`",
        "",
        f"- pages read: **{summary['pages_read']}**, new articles stored: **{summary['stored']}**",
        f"- exact duplicates: {summary['exact_duplicates']}, near duplicates: {summary['near_duplicates']}, "
        f"already seen: {summary['already_seen']}, changed: {summary['changed']}",
        f"- failed: {summary['failed']}" + (f" ({_reasons(summary['failed_by_reason'])})" if summary["failed"] else ""),
        f"- skipped: {_reasons(summary.get('skipped_by_reason') or {})}",
        f"- pipeline time: {summary.get('pipeline_seconds', summary['wall_seconds']):.1f} s",
    ]
    export = summary.get("export")
    if export:
        count = export.get("count", export.get("records"))
        lines.append(
            f"- corpus export: {count if count is not None else '?'} records -> "
            f"`{export.get('path') or export.get('out') or '?'}`"
        )
    if summary.get("failed_sources"):
        lines.append(f"- **failed sources**: {', '.join(summary['failed_sources'])}")
        lines += ["", "## Failed sources", "", "| source | error |", "|---|---|"]
        lines += [f"| {_cell(t.source)} | {_cell(t.failure)} |" for t in tallies if t.failure]
    lines += [
        "",
        "## Sources",
        "",
        "| source | status | discovered | fetched | not modified | skipped | failed | stored | exact | near |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {_cell(t.source)} | {'failed' if t.failure else 'ok'} | {t.discovered} | {t.fetched} | {t.not_modified} "
        f"| {_cell(_reasons(dict(t.skipped)))} | {_cell(_reasons(dict(t.failed)))} | {t.stored} | {t.exact} | {t.near} |"
        for t in tallies
    ]
    if clusters:
        lines += ["", "## Largest clusters grown in this run", "", "| cluster | copies added |", "|---|---|"]
        lines += [f"| `{cid}` | {n} |" for cid, n in clusters.most_common(top)]
    if host_seconds or host_failures:
        lines += ["", "## Slowest and failing hosts", "", "| host | fetch seconds | failures |", "|---|---|---|"]
        hosts = sorted(set(host_seconds) | set(host_failures), key=lambda h: (-host_failures[h], -host_seconds[h], h))
        lines += [f"| {_cell(h)} | {host_seconds[h]:.2f} | {host_failures[h]} |" for h in hosts[:top]]
    return "\n".join(lines) + "\n"


def publish_run_artifacts(summary: dict[str, Any], tallies: Sequence[SourceTally]) -> None:
    """The run's table and summary, attached to the current (ingest) flow run."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    create_table_artifact(
        key=SOURCES_KEY, table=source_rows(tallies), description="Per-source counts of this ingest run"
    )
    create_markdown_artifact(
        key=SUMMARY_KEY, markdown=summary_markdown(summary, tallies), description="Summary of this ingest run"
    )


def source_artifact_key(source: str) -> str:
    """Artifact keys allow lowercase letters, digits and dashes only."""
    slug = "".join(c if c.isalnum() else "-" for c in source.lower()).strip("-") or "source"
    return SOURCE_KEY_PREFIX + slug


def publish_source_artifact(tally: SourceTally) -> None:
    """One source's row, attached to the current (ingest-source) subflow run, so each source's
    history is one artifact key in the UI. Call it at the end of the subflow."""
    from prefect.artifacts import create_table_artifact

    create_table_artifact(
        key=source_artifact_key(tally.source),
        table=[source_row(tally)],
        description=f"Counts of source {tally.source} in this run",
    )


class RunProgress(Progress):
    """``Progress`` that also keeps a progress artifact of the current flow or task run up to
    date (one API call per batch). Outside a flow or task run it only tells the listener."""

    def __init__(self, total: int, *, description: str = "Pages processed") -> None:
        from prefect.artifacts import create_progress_artifact
        from prefect.context import FlowRunContext, TaskRunContext

        super().__init__(total, description=description)
        self._id = None
        if FlowRunContext.get() or TaskRunContext.get():
            self._id = create_progress_artifact(progress=0.0, description=description)

    def advance(self, pages: int) -> None:
        super().advance(pages)
        if self._id is not None:
            from prefect.artifacts import update_progress_artifact

            update_progress_artifact(artifact_id=self._id, progress=self.percent)


__all__ = [
    "RunProgress",
    "TABLE_COLUMNS",
    "publish_run_artifacts",
    "publish_source_artifact",
    "source_artifact_key",
    "source_row",
    "source_rows",
    "summary_markdown",
]
