"""Counting what a run did, per source, with a reason for every dropped page."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from wiredesk.core.errors import ConfigError

# Skips that are no failure: the page is already stored and unchanged, or listed twice.
# Skips that say "nothing new here", not "something stopped us": a source whose pages are all
# such skips ran fine (stored before, listed twice, a listing page, an archive done earlier).
BENIGN_SKIPS = frozenset({"stored", "duplicate", "duplicate-location", "not-article", "archive-done"})
# --fail-on: when a run counts as failed (exit status 1, and a Failed flow run).
FAIL_ON = ("none", "source", "any")

# Who else wants per-batch progress (the CLI's progress bars): called with (description, done,
# total). A context variable, so it reaches the flow's tasks run in this process and nothing else.
PROGRESS_LISTENER: ContextVar[Callable[[str, int, int], None] | None] = ContextVar("wiredesk_progress", default=None)
# When this run reached its milestones (``time.monotonic()``), for the CLI's start-up report: a dict the
# caller owns, filled by ``mark`` in the run's own thread or its in-process task runs; None: not asked.
RUN_CLOCK: ContextVar[dict[str, float] | None] = ContextVar("wiredesk_run_clock", default=None)


def mark(event: str) -> None:
    """Note the first time this run reached ``event`` (``pipeline``: its work began; ``first_page``: its
    first batch of pages was stored), if someone is listening."""
    clock = RUN_CLOCK.get()
    if clock is not None and event not in clock:
        import time

        clock[event] = time.monotonic()


def parse_when(value: str) -> datetime | None:
    """An ISO 8601 date or datetime as an aware UTC datetime (naive ones taken as UTC)."""
    text = value.strip().replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        try:
            when = datetime.combine(date.fromisoformat(text), datetime.min.time())
        except ValueError:
            return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def check_since(value: str | None) -> datetime | None:
    """``--since``: an ISO 8601 date or datetime, else a one-line error."""
    if value is None:
        return None
    when = parse_when(value)
    if when is None:
        raise ConfigError(
            f"--since: not an ISO 8601 date or datetime: {value!r} (e.g. 2026-11-01 or 2026-11-01T06:00:00Z)"
        )
    return when


def is_since(published: str | None, since: str) -> bool:
    """Was ``published`` on or after ``since``? Unknown or unreadable dates are kept."""
    threshold = check_since(since)
    when = parse_when(published) if published else None
    return when is None or threshold is None or when >= threshold


class Progress:
    """Per-batch progress of one source: percent of its discovered pages done.

    Tells the ``PROGRESS_LISTENER`` of this context (the CLI's progress bars), if any; the
    Prefect flows extend it to update a progress artifact too. Call ``advance`` once per batch.
    """

    def __init__(self, total: int, *, description: str = "Pages processed") -> None:
        self.total = max(0, total)
        self.done = 0
        self.description = description
        self._listener = PROGRESS_LISTENER.get()
        if self._listener is not None:
            self._listener(description, 0, self.total)

    @property
    def percent(self) -> float:
        return 100.0 if self.total == 0 else round(100.0 * min(self.done, self.total) / self.total, 1)

    def advance(self, pages: int) -> None:
        self.done += pages
        if self._listener is not None:
            self._listener(self.description, self.done, self.total)


@dataclass(slots=True)
class SourceTally:
    """What happened to one source's pages in one run (mutable: the run fills it in)."""

    source: str
    discovered: int = 0  # URLs or files found
    fetched: int = 0  # HTTP 200 responses (web sources)
    not_modified: int = 0  # 304 answers to conditional requests
    skipped: Counter[str] = field(default_factory=Counter)  # not requested: stored, backoff, robots...
    read: int = 0  # pages that reached extraction (files read + pages fetched)
    extracted: int = 0
    already_seen: int = 0  # same location, same content as stored before
    changed: int = 0  # same location, new content: the stored article was updated
    stored: int = 0  # new distinct articles (cluster representatives when stored)
    exact: int = 0  # exact duplicates of stored articles or of earlier pages in the run
    near: int = 0  # verified near duplicates (syndicated copies)
    failed: Counter[str] = field(default_factory=Counter)  # reason -> count
    seconds: float = 0.0
    error: str | None = None  # the source as a whole failed (e.g. its feed is unreachable)
    clusters: Counter[str] = field(default_factory=Counter)  # cluster_id -> copies added
    host_seconds: Counter[str] = field(default_factory=Counter)  # fetch time per host
    host_failures: Counter[str] = field(default_factory=Counter)

    def merge(self, other: SourceTally) -> None:
        for name in (
            "discovered",
            "fetched",
            "not_modified",
            "read",
            "extracted",
            "already_seen",
            "changed",
            "stored",
            "exact",
            "near",
            "seconds",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("skipped", "failed", "clusters", "host_seconds", "host_failures"):
            getattr(self, name).update(getattr(other, name))
        self.error = self.error or other.error

    @property
    def yielded(self) -> int:
        """Pages with a good outcome: extracted, stored, recognised as copies or as already seen,
        or confirmed unchanged (304, or a stored page its feed says did not change)."""
        good = self.extracted + self.stored + self.exact + self.near + self.already_seen + self.changed
        good += self.not_modified  # (a dry run extracts and stores nothing: extracted counts)
        return good + sum(n for reason, n in self.skipped.items() if reason in BENIGN_SKIPS)

    @property
    def problems(self) -> int:
        """Failed requests and pages, and pages refused by policy (robots, SSRF, back-off...)."""
        refused = sum(n for reason, n in self.skipped.items() if reason not in BENIGN_SKIPS)
        return sum(self.failed.values()) + refused

    @property
    def failure(self) -> str | None:
        """Why the source counts as failed, or None. A source fails when it raised, or when it
        yielded nothing because of failures (a dead host, a 404 feed, every page refused by
        robots.txt); a source with nothing new and nothing wrong (an empty feed) has not failed."""
        if self.error:
            return self.error
        if self.yielded == 0 and self.problems > 0:
            reasons = Counter(self.failed) + Counter({r: n for r, n in self.skipped.items() if r not in BENIGN_SKIPS})
            listed = ", ".join(f"{reason} {n}" for reason, n in sorted(reasons.items()))
            return f"nothing ingested: {self.problems} failed or refused ({listed})"
        return None

    def as_row(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "discovered": self.discovered,
            "fetched": self.fetched,
            "not_modified": self.not_modified,
            "skipped": dict(self.skipped),
            "read": self.read,
            "extracted": self.extracted,
            "stored": self.stored,
            "exact_duplicates": self.exact,
            "near_duplicates": self.near,
            "already_seen": self.already_seen,
            "changed": self.changed,
            "failed": sum(self.failed.values()),
            "failed_by_reason": dict(self.failed),
            "seconds": round(self.seconds, 3),
            "status": "failed" if self.failure else "ok",
            "error": self.failure,
        }


def summarise(
    run_id: str, tallies: list[SourceTally], *, wall_seconds: float, export: dict[str, Any] | None
) -> dict[str, Any]:
    """The run summary the CLI prints and the flow returns (JSON-serialisable)."""
    total = SourceTally(source="(all)")
    for tally in tallies:
        total.merge(tally)
    failed_sources = [t.source for t in tallies if t.failure]
    return {
        "run_id": run_id,
        "pages_read": total.read,
        "stored": total.stored,
        "exact_duplicates": total.exact,
        "near_duplicates": total.near,
        "already_seen": total.already_seen,
        "changed": total.changed,
        "not_modified": total.not_modified,
        "not_articles": total.skipped["not-article"],  # listing pages: followed, never stored
        "failed": sum(total.failed.values()),
        "failed_by_reason": dict(sorted(total.failed.items())),
        "sources": [t.as_row() for t in tallies],
        "skipped_by_reason": dict(sorted(total.skipped.items())),
        "failed_sources": failed_sources,
        "sources_failed": len(failed_sources),
        "sources_total": len(tallies),
        # The pipeline's own time; a command adds its total wall time (Prefect start-up and
        # all) with ``with_command_time``.
        "pipeline_seconds": round(wall_seconds, 3),
        "wall_seconds": round(wall_seconds, 3),
        "export": export,
    }


def with_command_time(summary: dict[str, Any], started: float, *, now: float | None = None) -> dict[str, Any]:
    """The summary with ``wall_seconds`` measured from the command's start (``time.monotonic()``
    then): Prefect's start-up, the run and the export, as the user waited for them."""
    import time

    wall = (time.monotonic() if now is None else now) - started
    return summary | {"wall_seconds": round(max(wall, summary.get("pipeline_seconds", 0.0)), 3)}


def check_fail_on(value: str) -> str:
    if value not in FAIL_ON:
        raise ConfigError(f"--fail-on must be one of {', '.join(FAIL_ON)} (got {value!r})")
    return value


def run_failed(summary: dict[str, Any], fail_on: str = "source") -> str | None:
    """Why the run counts as failed under ``fail_on`` (None: it did not).

    ``source`` (the default): any source failed entirely (it raised, or yielded nothing because
    of failures); ``any``: that, or any page or request failed or was refused; ``none``: never.
    """
    check_fail_on(fail_on)
    if fail_on == "none":
        return None
    failed = summary.get("failed_sources") or []
    if failed:
        total = summary.get("sources_total", len(summary.get("sources", [])))
        return f"{len(failed)} of {total} sources failed: {', '.join(failed)}"
    if fail_on == "any":
        refused = sum(n for r, n in (summary.get("skipped_by_reason") or {}).items() if r not in BENIGN_SKIPS)
        if summary.get("failed") or refused:
            return f"{summary.get('failed', 0)} pages failed and {refused} were refused (--fail-on any)"
    return None
