"""The dedup index: what the Deduplicator remembers between batches and runs.

One interface, several backends:
    open_index("<dir>")                  local: SQLite + memory-mapped sorted band segments
    open_index("memory://")              local, in memory (tests)
    open_index("redis://host:port/db")   shared by several workers
    open_index("postgresql://...")       shared by several workers

Writes are staged by ``Deduplicator.assign`` and made durable by ``commit(seq)``, which also
records ``last_seq``: the store sequence number up to which the index is complete.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from wiredesk.core.errors import DedupError
from wiredesk.dedup.hosts import HostState
from wiredesk.dedup.settings import DedupSettings


@dataclass(frozen=True, slots=True)
class DocInfo:
    article_id: str
    cluster_id: str
    content_hash: str
    host: str | None
    ts: float  # published (epoch seconds), else index time
    anchors: int = 0  # how many anchor keys the article was indexed under


@dataclass(frozen=True, slots=True)
class IndexEntry:
    info: DocInfo
    keys: np.ndarray | None  # LSH band keys + anchor keys; None for an exact copy (its text is indexed already)


@dataclass(slots=True)
class Staged:
    """One batch's index changes, waiting for the store to commit the batch."""

    entries: list[IndexEntry] = field(default_factory=list)
    moves: dict[str, str] = field(default_factory=dict)  # article id -> new cluster id
    hosts: dict[str, HostState] = field(default_factory=dict)  # hosts whose state changed


class Index(ABC):
    """Base of every backend. Not thread-safe: one Index per worker (process or thread)."""

    def __init__(self, settings: DedupSettings) -> None:
        self.settings = settings
        self._staged: Staged | None = None

    # --------------------------------------------------------------- reads
    @abstractmethod
    def last_seq(self) -> int: ...

    @abstractmethod
    def candidates(self, keys: np.ndarray) -> set[str]:
        """Ids of indexed articles sharing at least one LSH band key."""

    @abstractmethod
    def hits(self, keys: np.ndarray, *, max_postings: int) -> dict[str, int]:
        """Article id -> how many of ``keys`` it was indexed under; keys held by more than
        ``max_postings`` articles (common phrases, furniture) are skipped."""

    def probe(self, keys: np.ndarray, anchors: np.ndarray, *, max_postings: int) -> tuple[set[str], dict[str, int]]:
        """``candidates(keys)`` and ``hits(anchors)`` in one call (backends may do one pass)."""
        found = self.candidates(keys) if keys.size else set()
        return found, (self.hits(anchors, max_postings=max_postings) if anchors.size else {})

    @abstractmethod
    def docs(self, ids: Iterable[str]) -> dict[str, DocInfo]: ...

    @abstractmethod
    def exact(self, hashes: Iterable[str]) -> dict[str, list[str]]:
        """content hash -> ids of indexed articles with that hash (oldest first)."""

    @abstractmethod
    def members(self, cluster_ids: Iterable[str]) -> dict[str, list[str]]: ...

    @abstractmethod
    def hosts(self, names: Iterable[str]) -> dict[str, HostState]: ...

    @abstractmethod
    def __len__(self) -> int: ...

    # --------------------------------------------------------------- writes
    def begin(self) -> None:
        """Start a batch: drop uncommitted changes, take the shared lock if any."""
        self._staged = None
        self._lock()

    def stage(self, staged: Staged) -> None:
        self._staged = staged

    def commit(self, seq: int) -> None:
        """Make the staged batch durable and record ``seq`` as complete."""
        staged, self._staged = self._staged, None
        try:
            self._write(staged or Staged(), seq)
        finally:
            self._unlock()

    def abort(self) -> None:
        self._staged = None
        self._unlock()

    @abstractmethod
    def _write(self, staged: Staged, seq: int | None) -> None: ...

    def _lock(self) -> None:  # shared backends serialise batches across workers
        pass

    def _unlock(self) -> None:
        pass

    def close(self) -> None:
        self._staged = None
        self._unlock()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def first_ids(rows: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in rows:
        out.setdefault(key, []).append(value)
    return out


def check_params(found: str | None, settings: DedupSettings, where: str) -> None:
    expected = settings.signature_params()
    if found is not None and found != expected:
        raise DedupError(
            f"dedup index {where} was built with {found}, settings now give {expected}: "
            "rebuild it (delete it and re-run with a reindex)",
            reason="dedup-params",
        )
