"""Run reports as Prefect artifacts: a table per source and a markdown summary."""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.report import SourceTally

TABLE_COLUMNS = ("source", "discovered", "fetched", "not_modified", "failed", "extracted", "exact_duplicates",
                 "near_duplicates", "already_seen", "stored")


def source_rows(tallies: Sequence[SourceTally]) -> list[dict[str, Any]]:
    rows = []
    for tally in tallies:
        row = tally.as_row()
        rows.append({key: row[key] for key in TABLE_COLUMNS} | {
            "failed_by_reason": ", ".join(f"{k}: {v}" for k, v in sorted(row["failed_by_reason"].items())) or "-",
            "error": row["error"] or "-",
        })
    return rows


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
        f"- failed: {summary['failed']}" + (
            " (" + ", ".join(f"{k}: {v}" for k, v in summary["failed_by_reason"].items()) + ")" if summary["failed"] else ""),
        f"- wall time: {summary['wall_seconds']:.1f} s",
    ]
    if summary.get("failed_sources"):
        lines.append(f"- **failed sources**: {', '.join(summary['failed_sources'])}")
    if clusters:
        lines += ["", "## Largest clusters grown in this run", "", "| cluster | copies added |", "|---|---|"]
        lines += [f"| `{cid}` | {n} |" for cid, n in clusters.most_common(top)]
    if host_seconds or host_failures:
        lines += ["", "## Slowest and failing hosts", "", "| host | fetch seconds | failures |", "|---|---|---|"]
        hosts = sorted(set(host_seconds) | set(host_failures), key=lambda h: (-host_failures[h], -host_seconds[h]))
        lines += [f"| {h} | {host_seconds[h]:.2f} | {host_failures[h]} |" for h in hosts[:top]]
    return "\n".join(lines) + "\n"


def publish_run_artifacts(summary: dict[str, Any], tallies: Sequence[SourceTally]) -> None:
    create_table_artifact(key="ingest-sources", table=source_rows(tallies),
                          description="Per-source counts of this ingest run")
    create_markdown_artifact(key="ingest-summary", markdown=summary_markdown(summary, tallies),
                             description="Summary of this ingest run")
