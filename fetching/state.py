"""FetchState: what the fetcher remembers between runs, keyed by canonical URL.

The store implements the same protocol on its tables; MemoryFetchState is the reference
implementation whose semantics the store copies.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Protocol, runtime_checkable

from wiredesk.core.records import FetchRecord


@runtime_checkable
class FetchState(Protocol):
    def get(self, urls: Sequence[str]) -> Mapping[str, FetchRecord]:
        """Latest record per canonical URL; URLs never seen are absent from the mapping."""
        ...

    def record(self, records: Sequence[FetchRecord]) -> None:
        """Upsert each record as the latest state of its URL and append it to the log."""
        ...


@runtime_checkable
class RetryingFetchState(FetchState, Protocol):
    """Optional extension: lets discovery bring back failed URLs that no feed lists any more
    (a feed answering 304 lists nothing), so they are retried with their back-off."""

    def due(self, source: str, now: datetime, limit: int) -> Sequence[FetchRecord]:
        """Up to ``limit`` latest records of ``source`` with ``failures > 0``, not
        ``gave_up``, not ``stored``, and ``next_attempt_at`` missing or ``<= now``."""
        ...


@runtime_checkable
class SiteNotes(Protocol):
    """Optional extension (the store and MemoryFetchState have it): what the fetcher keeps
    about a site between runs, until it expires. Keys and texts are the fetcher's own:
    ``robots <origin>`` (robots.txt, kept for its lifetime: a run every few minutes must
    not ask for it every time), ``home <url>`` (a home page's feed links, so the home
    page can be asked conditionally and a 304 still leads to its feeds)."""

    def load_note(self, key: str) -> tuple[str, datetime] | None:
        """(text, expiry) of ``key``, expired or not; None if never saved."""
        ...

    def save_note(self, key: str, text: str, expires_at: datetime) -> None: ...


class MemoryFetchState:
    """In-memory FetchState, for tests and one-off runs.

    Semantics the persistent store must copy:
    - ``get(urls)`` returns ``{url: latest record}`` for the URLs it knows; unknown URLs are
      simply absent (no None values). Keys are the canonical URLs exactly as given.
    - ``record(records)`` replaces the latest record of each URL wholesale (last write wins,
      in sequence order if a URL appears twice) and appends every record, unchanged, to an
      append-only log (the fetch history reports are built from).
    - The fetcher reads ``stored``, ``gave_up``, ``next_attempt_at``, ``etag`` and
      ``last_modified`` from the latest record; it carries ``stored`` forward and never sets
      it itself. Whoever saves the article sets it: ``record([replace(rec, stored=True)])``,
      or ``mark_stored`` here (in place, no log entry).
    - Who calls ``record``: see ``Fetcher.fetch`` (the caller, after storing) and
      ``Fetcher.discover_report`` (the fetcher, for feeds and sitemaps).
    - Thread-safe: one lock around every call.
    """

    def __init__(self, records: Iterable[FetchRecord] = ()) -> None:
        self._latest: dict[str, FetchRecord] = {}
        self.log: list[FetchRecord] = []
        self._notes: dict[str, tuple[str, datetime]] = {}
        self._lock = threading.Lock()
        self.record(list(records))

    def get(self, urls: Sequence[str]) -> Mapping[str, FetchRecord]:
        with self._lock:
            return {url: self._latest[url] for url in urls if url in self._latest}

    def record(self, records: Sequence[FetchRecord]) -> None:
        with self._lock:
            for rec in records:
                self._latest[rec.url] = rec
                self.log.append(rec)

    def due(self, source: str, now: datetime, limit: int) -> Sequence[FetchRecord]:
        with self._lock:
            found = [
                r
                for r in self._latest.values()
                if r.source == source
                and r.failures > 0
                and not r.gave_up
                and not r.stored
                and (r.next_attempt_at is None or r.next_attempt_at <= now)
            ]
        return found[:limit]

    def load_note(self, key: str) -> tuple[str, datetime] | None:
        with self._lock:
            return self._notes.get(key)

    def save_note(self, key: str, text: str, expires_at: datetime) -> None:
        with self._lock:
            self._notes[key] = (text, expires_at)

    def mark_stored(self, urls: Iterable[str]) -> None:
        with self._lock:
            for url in urls:
                if url in self._latest:
                    self._latest[url] = replace(self._latest[url], stored=True)

    def latest(self) -> dict[str, FetchRecord]:
        with self._lock:
            return dict(self._latest)
