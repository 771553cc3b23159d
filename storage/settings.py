"""Settings of the store. The lead maps the YAML config onto this; nothing here reads files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreSettings:
    # How long a writer waits for SQLite's write lock before giving up (a second process
    # may hold it for one batch; batches commit in well under a second).
    busy_timeout_s: float = 30.0
    # zlib-compress article text in the store (measured in bench/store.py: about a third
    # of the size per article, at a small cost in insert and export rate).
    compress_text: bool = True
    compress_level: int = 6
    # SQLite: FULL fsyncs the WAL at every commit, so a committed batch survives a power
    # cut as well as SIGKILL; per-batch commits make its cost negligible.
    synchronous: Literal["NORMAL", "FULL"] = "FULL"
    # Bound parameters per statement when looking many ids / urls up at once.
    lookup_chunk: int = 500
    # Connection pool size for PostgreSQL (SQLite uses one connection per thread).
    pool_size: int = 5
