"""What the CLI prints: rich tables for people, JSON for scripts, nothing with --quiet."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console as RichConsole
    from rich.table import Table

# rich is imported where something is printed with it: a `run --quiet` or `--json` never loads it
# (~45 modules, 40-80 ms of the command's start-up), and a terminal run loads it for its progress bar.


@cache
def _consoles() -> tuple[RichConsole, RichConsole]:
    from rich.console import Console as RichConsole

    # Piped output gets a fixed, roomy width so tables are not squeezed to 80 columns in logs.
    out = RichConsole(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)
    return out, RichConsole(stderr=True, highlight=False)


def _out() -> RichConsole:
    return _consoles()[0]


def _err() -> RichConsole:
    return _consoles()[1]


def _table(title: str, **options: Any) -> Table:
    from rich.table import Table

    return Table(title=title, **options)


class Console:
    def __init__(self, *, quiet: bool = False, as_json: bool = False) -> None:
        self.quiet = quiet
        self.as_json = as_json

    @contextmanager
    def status(self, what: str) -> Iterator[None]:
        """On a terminal: a progress bar per source, advanced per batch (fed by the flow's
        progress events), with a spinner line until the first one arrives."""
        if self.quiet or self.as_json or not sys.stderr.isatty():
            with nullcontext():
                yield
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from wiredesk.pipeline.report import PROGRESS_LISTENER

        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=_err(), transient=False) as progress:
            bars: dict[str, Any] = {"": progress.add_task(f"wiredesk: {what}", total=None)}

            def listen(description: str, done: int, total: int) -> None:
                if description not in bars:
                    if "" in bars:
                        progress.remove_task(bars.pop(""))
                    bars[description] = progress.add_task(description, total=total)
                progress.update(bars[description], completed=done, total=total)

            token = PROGRESS_LISTENER.set(listen)
            try:
                yield
            finally:
                PROGRESS_LISTENER.reset(token)

    def run_summary(self, summary: dict[str, Any]) -> None:
        if self.quiet:
            return
        if self.as_json:
            print(json.dumps(summary, default=str, indent=2))
            return
        table = _table(f"wiredesk run {summary['run_id']}", show_lines=False)
        for column in (
            "source",
            "status",
            "discovered",
            "fetched",
            "not modified",
            "skipped",
            "read",
            "stored",
            "exact dup",
            "near dup",
            "already seen",
            "changed",
            "failed",
            "seconds",
        ):
            table.add_column(column, justify="left" if column in ("source", "status", "skipped", "failed") else "right")
        for row in summary["sources"]:
            failed = str(row["failed"]) + (f" ({_reasons(row['failed_by_reason'])})" if row["failed"] else "")
            skipped = sum(row.get("skipped", {}).values())
            status = "[red]failed[/red]" if row.get("status") == "failed" else "ok"
            table.add_row(
                row["source"],
                status,
                str(row["discovered"]),
                str(row["fetched"]),
                str(row["not_modified"]),
                str(skipped) + (f" ({_reasons(row.get('skipped', {}))})" if skipped else ""),
                str(row["read"]),
                str(row["stored"]),
                str(row["exact_duplicates"]),
                str(row["near_duplicates"]),
                str(row["already_seen"]),
                str(row["changed"]),
                failed,
                f"{row['seconds']:.1f}",
            )
        _out().print(table)
        for row in summary["sources"]:
            if row.get("error"):
                _out().print(f"[red]source {row['source']} failed: {row['error']}[/red]")
        failed = summary["failed"]
        dry = summary.get("dry_run") is not None
        skipped = summary.get("skipped_by_reason") or {}
        _out().print(
            ("dry run (nothing stored): " if dry else "")
            + f"pages read {summary['pages_read']}, new articles {'' if dry else 'stored '}{summary['stored']}, "
            f"exact duplicates {summary['exact_duplicates']}, near duplicates {summary['near_duplicates']}, "
            f"already seen {summary['already_seen']}, not modified {summary.get('not_modified', 0)}, "
            f"skipped {sum(skipped.values())}"
            + (f" ({_reasons(skipped)})" if skipped else "")
            + f", failed {failed}"
            + (f" ({_reasons(summary['failed_by_reason'])})" if failed else "")
            + f"; wall time {summary['wall_seconds']:.1f} s"
            + f" (pipeline {summary.get('pipeline_seconds', summary['wall_seconds']):.1f} s)"
        )
        if summary.get("startup"):
            _out().print(startup_line(summary["startup"]))
        dry = summary.get("dry_run")
        if dry is not None:
            print_would_store(dry)
        if summary.get("failed_sources"):
            _out().print(
                f"[red]{len(summary['failed_sources'])} of {summary.get('sources_total', len(summary['sources']))} "
                f"sources failed: {', '.join(summary['failed_sources'])}[/red]"
            )
        export = summary.get("export")
        if export:
            _out().print(f"corpus: {export.get('total_records', export.get('records'))} records -> {export.get('out')}")


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def startup_line(startup: dict[str, Any]) -> str:
    """The run's start-up in one line: how long until its work began, and which Prefect ran it."""
    mode = startup.get("mode")
    if mode == "direct":
        how = (
            "no Prefect server running: the pipeline ran in this process, recorded in the store's run log "
            "(no flow run; --embedded-server for one)"
        )
    elif mode == "embedded":
        how = f"Prefect flow run on the embedded server this run started, ready after {_secs(startup.get('server_ready_seconds'))}"
    else:
        how = f"Prefect flow run on the running server {startup.get('api_url')} ({startup.get('found_by')})"
    return (
        f"start-up {_secs(startup.get('seconds'))} ({how}; imports {_secs(startup.get('imports_seconds'))}); "
        f"first page stored after {_secs(startup.get('first_page_seconds'))}"
    )


def print_would_store(dry: dict[str, Any]) -> None:
    """A dry run's list: what a real run would store or change, and what each copy copies."""
    rows = dry["would_store"]
    stored = sum(1 for r in rows if r.get("action", "store") == "store")
    title = f"dry run: nothing was stored; a run would store {stored} articles"
    if len(rows) > stored:
        title += f" and update {len(rows) - stored} stored ones"
    table = _table(title)
    for column in ("", "title", "url", "duplicate of"):
        table.add_column(column)
    for row in rows:
        of = ""
        if row["duplicate_of"]:
            of = str(row["duplicate_of_location"] or row["duplicate_of"])
            if row["similarity"] is not None:
                of += f" ({row['similarity']:.2f})"
        action = "" if row.get("action", "store") == "store" else "update"
        table.add_row(action, str(row["title"] or ""), str(row["url"] or row["path"] or ""), of)
    _out().print(table)
    if dry.get("note"):
        _out().print(f"note: {dry['note']}")


def _reasons(by_reason: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(by_reason.items()))


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(obj)
    return obj


def _outlet(article: Any) -> str:
    from wiredesk.core.hosts import host_key

    return host_key(article.url) or article.source


def cluster_row(summary: Any, members: Sequence[Any]) -> dict[str, Any]:
    """One line of ``wiredesk clusters``: the store's summary plus outlets and similarities."""
    sims = [m.similarity for m in members if m.duplicate_of is not None and m.similarity is not None]
    return _jsonable(summary) | {
        "members": [m.id for m in members],
        "outlets": sorted({_outlet(m.article) for m in members}),
        "min_similarity": min(sims) if sims else None,
        "mean_similarity": round(sum(sims) / len(sims), 4) if sims else None,
    }


def print_clusters(rows: Sequence[dict[str, Any]], *, as_json: bool, total: int | None = None) -> None:
    if as_json:
        print(json.dumps(list(rows), default=str, indent=2))
        return
    shown = f"{len(rows)} clusters" if total is None or total == len(rows) else f"{len(rows)} of {total} clusters"
    table = _table(shown)
    for column in ("cluster", "size", "representative", "similarity (min)", "title", "outlets"):
        table.add_column(column)
    for row in rows:
        sim = "" if row["min_similarity"] is None else f"{row['min_similarity']:.2f}"
        table.add_row(
            str(row["cluster_id"]),
            str(row["size"]),
            str(row["representative"]),
            sim,
            str(row.get("title") or "")[:60],
            ", ".join(row["outlets"])[:80],
        )
    _out().print(table)


def print_cluster(cluster_id: str, members: Sequence[Any], *, as_json: bool) -> None:
    rows = []
    for m in members:
        a = m.article
        rows.append(
            {
                "id": a.id,
                "representative": m.duplicate_of is None,
                "duplicate_of": m.duplicate_of,
                "similarity": m.similarity,
                "url": a.url,
                "path": a.path,
                "source": a.source,
                "title": a.title,
                "published": a.published,
                "words": len(a.text.split()),
            }
        )
    if as_json:
        print(json.dumps({"cluster_id": cluster_id, "members": rows}, default=str, indent=2))
        return
    table = _table(f"cluster {cluster_id}: {len(rows)} members")
    for column in ("id", "rep", "similarity", "published", "words", "where", "title"):
        table.add_column(column)
    for r in sorted(rows, key=lambda r: (not r["representative"], r["published"] or "")):
        sim = "" if r["similarity"] is None else f"{r['similarity']:.2f}"
        table.add_row(
            r["id"],
            "*" if r["representative"] else "",
            sim,
            str(r["published"] or ""),
            str(r["words"]),
            str(r["url"] or r["path"])[:90],
            str(r["title"] or "")[:50],
        )
    _out().print(table)


def print_stats(stats: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(stats, default=str, indent=2))
        return
    for key, value in stats.items():
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            table = _table(key.replace("_", " "))
            columns = sorted({c for v in value.values() for c in v})
            table.add_column("")
            for column in columns:
                table.add_column(str(column), justify="right")
            for name, row in value.items():
                table.add_row(str(name), *[str(row.get(c, "")) for c in columns])
            _out().print(table)
        elif isinstance(value, dict) and not value:
            _out().print(f"{key.replace('_', ' ')}: none")
        elif isinstance(value, dict):
            table = _table(key.replace("_", " "))
            table.add_column("")
            table.add_column("value", justify="right")
            for name, v in value.items():
                table.add_row(str(name), str(v))
            _out().print(table)
        else:
            _out().print(f"{key.replace('_', ' ')}: {value}")
