"""Counting what a run did, per source, with a reason for every dropped page."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from wiredesk.core.errors import ConfigError

# Who else wants per-batch progress (the CLI's progress bars): called with (description, done,
# total). A context variable, so it reaches the flow's tasks run in this process and nothing else.
PROGRESS_LISTENER: ContextVar[Callable[[str, int, int], None] | None] = ContextVar("wiredesk_progress", default=None)


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
            "error": self.error,
        }


def summarise(
    run_id: str, tallies: list[SourceTally], *, wall_seconds: float, export: dict[str, Any] | None
) -> dict[str, Any]:
    """The run summary the CLI prints and the flow returns (JSON-serialisable)."""
    total = SourceTally(source="(all)")
    for tally in tallies:
        total.merge(tally)
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
        "failed_sources": [t.source for t in tallies if t.error],
        "wall_seconds": round(wall_seconds, 3),
        "export": export,
    }
