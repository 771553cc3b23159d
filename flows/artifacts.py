"""Run reports as Prefect artifacts: a table with a row per source and a markdown summary.

The rows and the markdown are built by plain functions (``source_rows``, ``summary_markdown``)
from the same ``SourceTally`` objects and summary dict the CLI prints, so the UI and the
terminal never disagree; ``publish_run_artifacts`` only hands them to Prefect.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
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
    """The run's table and summary, attached to the current (ingest) flow run (through the run's
    ``ArtifactSender`` when one is open: sent beside the sources' own, then waited for)."""
    from prefect.artifacts import MarkdownArtifact, TableArtifact

    _create(
        TableArtifact(key=SOURCES_KEY, table=source_rows(tallies), description="Per-source counts of this ingest run")
    )
    _create(
        MarkdownArtifact(
            key=SUMMARY_KEY, markdown=summary_markdown(summary, tallies), description="Summary of this ingest run"
        )
    )


def source_artifact_key(source: str) -> str:
    """Artifact keys allow lowercase letters, digits and dashes only."""
    slug = "".join(c if c.isalnum() else "-" for c in source.lower()).strip("-") or "source"
    return SOURCE_KEY_PREFIX + slug


def publish_source_artifact(tally: SourceTally) -> None:
    """One source's row, attached to the current (ingest-source) subflow run, so each source's
    history is one artifact key in the UI. Call it at the end of the subflow."""
    from prefect.artifacts import TableArtifact

    _create(
        TableArtifact(
            key=source_artifact_key(tally.source),
            table=[source_row(tally)],
            description=f"Counts of source {tally.source} in this run",
        )
    )


def publish_sources_artifact(tallies: Sequence[SourceTally]) -> None:
    """The rows of the sources of a shared ``ingest-sources`` task run, one table on it (no key:
    a task run's sources differ from run to run). Those sources have no ``ingest-source-NAME``
    artifact of their own: at 100 sources those were 100 calls at the run's end, 1.2-1.3 s of the
    command's tail at load 13-16 (their rows are in the run's ``ingest-sources`` table too)."""
    from prefect.artifacts import TableArtifact

    _create(TableArtifact(table=source_rows(tallies), description=f"Counts of this task run's {len(tallies)} sources"))


class RunProgress(Progress):
    """``Progress`` that also keeps a progress artifact of the current flow or task run up to
    date: one API call per batch, or, with the run's ``ArtifactSender`` open, its latest value
    whenever the sender gets to it (never waited for). Outside a flow or task run it only tells
    the listener."""

    def __init__(self, total: int, *, description: str = "Pages processed") -> None:
        from prefect.context import FlowRunContext, TaskRunContext

        super().__init__(total, description=description)
        self._id = None
        self._sent: _SentProgress | None = None
        if FlowRunContext.get() or TaskRunContext.get():
            sender = _SENDER.get()
            if sender is not None:
                self._sent = sender.progress(description, 0.0)
            else:
                from prefect.artifacts import create_progress_artifact

                self._id = create_progress_artifact(progress=0.0, description=description)

    def advance(self, pages: int) -> None:
        super().advance(pages)
        if self._sent is not None:
            self._sent.update(self.percent)
        elif self._id is not None:
            from prefect.artifacts import update_progress_artifact

            update_progress_artifact(artifact_id=self._id, progress=self.percent)


class SharedProgress:
    """One progress artifact for the sources of a shared ``ingest-sources`` task run: the pages
    done over the pages found by every source that began its batches (``part`` gives each source
    its ``Progress``, which still tells the CLI's listener its own). Made on the first ``part``,
    on the run (task run) of the context it is made in; sent through the run's ``ArtifactSender``
    when one is open, else at once."""

    def __init__(self, description: str) -> None:
        self.description = description
        self.total = 0
        self.done = 0
        self._lock = threading.Lock()
        self._sent: _SentProgress | None = None
        self._id: Any = None

    @property
    def percent(self) -> float:
        return 100.0 if self.total == 0 else round(100.0 * min(self.done, self.total) / self.total, 1)

    def part(self, total: int, description: str) -> Progress:
        with self._lock:
            first = self._sent is None and self._id is None
            self.total += max(0, total)
            percent = self.percent
        if first:
            sender = _SENDER.get()
            if sender is not None:
                self._sent = sender.progress(self.description, percent)
            else:
                from prefect.artifacts import create_progress_artifact

                self._id = create_progress_artifact(progress=percent, description=self.description)
        else:
            self._show()
        return _PartProgress(self, total, description)

    def _advance(self, pages: int) -> None:
        with self._lock:
            self.done += pages
        self._show()

    def _show(self) -> None:
        if self._sent is not None:
            self._sent.update(self.percent)
        elif self._id is not None:
            from prefect.artifacts import update_progress_artifact

            update_progress_artifact(artifact_id=self._id, progress=self.percent)


class _PartProgress(Progress):
    """One source's ``Progress`` inside a ``SharedProgress`` (its pages counted up to its total)."""

    def __init__(self, shared: SharedProgress, total: int, description: str) -> None:
        super().__init__(total, description=description)
        self._shared = shared

    def advance(self, pages: int) -> None:
        counted = min(self.done, self.total)
        super().advance(pages)
        self._shared._advance(min(self.done, self.total) - counted)


log = logging.getLogger(__name__)

_SENDER: ContextVar[ArtifactSender | None] = ContextVar("wiredesk_artifact_sender", default=None)


def _create(artifact: Any) -> None:
    """Create ``artifact`` (a Prefect ``Artifact`` model) on the current flow or task run: queued
    on the run's ``ArtifactSender`` when one is open, else at once."""
    sender = _SENDER.get()
    if sender is None:
        artifact.create()
    else:
        sender.create(artifact)


class _SentProgress:
    """One progress artifact as the sender sends it: created with the value it has when the
    sender first gets to it, then updated only to the latest value (values in between are
    skipped: only the last one is shown anyway)."""

    def __init__(self, sender: ArtifactSender, request: Any) -> None:
        self._sender = sender
        self.request = request  # the ArtifactCreate, its run ids taken in the caller's context
        self.latest = float(request.data)
        self.sent: float | None = None
        self.id: Any = None
        self.queued = True
        self.lock = threading.Lock()  # one send of this artifact at a time, in order

    def update(self, percent: float) -> None:
        with self._sender._cond:  # the sender's lock guards ``queued``
            self.latest = percent
            if self.queued:
                return
            self.queued = True
        self._sender._put(("progress", self))


class ArtifactSender:
    """A flow run's artifacts sent to the API by a few background threads, so that no source
    waits for the API: a source's progress artifact is created after its discovery and updated
    per batch, and its table artifact written when it ends; against a busy server each call took
    about a second (a 100-source crawl on a SQLite `prefect server start`: 302 calls, median
    0.95 s, up to 5.3 s), and the sources waited for them. Progress updates are coalesced (see
    ``_SentProgress``). ``close`` waits until everything queued was sent (the run's end).
    A failed call is logged and dropped: artifacts are bookkeeping, never the run's outcome."""

    def __init__(self, threads: int = 4) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._cond = threading.Condition()
        self._pending = 0
        self.failures = 0
        context = contextvars.copy_context()  # Prefect's settings (its API URL) as the flow run has them
        self._threads = [
            threading.Thread(target=context.copy().run, args=(self._work,), name=f"wiredesk-artifacts-{i}", daemon=True)
            for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def _put(self, item: Any) -> None:
        with self._cond:
            self._pending += 1
        self._queue.put(item)

    def create(self, artifact: Any) -> None:
        self._put(("create", _request(artifact)))

    def progress(self, description: str, percent: float) -> _SentProgress:
        from prefect.artifacts import ProgressArtifact

        sent = _SentProgress(self, _request(ProgressArtifact(progress=percent, description=description)))
        self._put(("progress", sent))
        return sent

    def _work(self) -> None:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            while (item := self._queue.get()) is not None:
                try:
                    self._send(client, item)
                except Exception as exc:  # noqa: BLE001 - bookkeeping only: never fail the run for it
                    self.failures += 1
                    log.warning("could not send an artifact to the Prefect API: %s", exc)
                finally:
                    with self._cond:
                        self._pending -= 1
                        self._cond.notify_all()

    def _send(self, client: Any, item: tuple[str, Any]) -> None:
        kind, what = item
        if kind == "create":
            client.create_artifact(artifact=what)
            return
        from prefect.client.schemas.actions import ArtifactUpdate

        with what.lock:
            with self._cond:
                what.queued = False
                value = what.latest
            if what.id is None:
                what.id = client.create_artifact(artifact=what.request.model_copy(update={"data": value})).id
            elif value != what.sent:
                client.update_artifact(artifact_id=what.id, artifact=ArtifactUpdate(data=value))
            what.sent = value

    def close(self, timeout_s: float = 60.0) -> bool:
        """Wait until everything queued is sent (at most ``timeout_s``), then stop the threads;
        whether all was sent."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            done = self._cond.wait_for(lambda: self._pending == 0, timeout=max(0.0, deadline - time.monotonic()))
        for _ in self._threads:
            self._queue.put(None)
        if not done:
            log.warning("%d artifacts were not sent to the Prefect API within %g s", self._pending, timeout_s)
        return done


def _request(artifact: Any) -> Any:
    """The API request for ``artifact``, with the current task and flow run's ids (taken here, in
    the caller's context: the sender's threads have none)."""
    from prefect.client.schemas.actions import ArtifactCreate
    from prefect.utilities.context import get_task_and_flow_run_ids

    task_run_id, flow_run_id = get_task_and_flow_run_ids()
    return ArtifactCreate(
        type=artifact.type,
        key=artifact.key,
        description=artifact.description,
        task_run_id=task_run_id,
        flow_run_id=flow_run_id,
        data=artifact.format(_sync=True),
    )


@contextmanager
def artifacts_sent_in_background(threads: int = 4) -> Iterator[ArtifactSender]:
    """Within the block, this context's artifacts (and those of the threads and task runs it
    starts, which copy it) go through one ``ArtifactSender``; at its end they are all sent."""
    sender = ArtifactSender(threads)
    token = _SENDER.set(sender)
    try:
        yield sender
    finally:
        _SENDER.reset(token)
        sender.close()


__all__ = [
    "ArtifactSender",
    "RunProgress",
    "SharedProgress",
    "artifacts_sent_in_background",
    "TABLE_COLUMNS",
    "publish_run_artifacts",
    "publish_source_artifact",
    "publish_sources_artifact",
    "source_artifact_key",
    "source_row",
    "source_rows",
    "summary_markdown",
]
