"""Settings of the store. The lead maps the YAML config onto this; nothing here reads files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreSettings:
    # How long a writer waits for SQLite's write lock before giving up (a second process
    # may hold it for one batch; batches commit in well under a second).
    busy_timeout_s: float = 30.0
    # zlib-compress article text in the store. Measured (bench/store.py, 4.3 kB news bodies):
    # zlib halves the size per article (~3.1 kB vs ~6.0 kB on SQLite) but costs a third of
    # the insert rate and more than half the export rate on this 2-core machine; PostgreSQL
    # already compresses long text itself (TOAST). So: plain by default. Reading handles
    # both, so this can change on a live store.
    compress_text: bool = False
    compress_level: int = 3  # measured: level 6 is ~1.7x slower for 5% smaller text
    # SQLite: FULL fsyncs the WAL at every commit, so a committed batch survives a power
    # cut as well as SIGKILL; per-batch commits make its cost negligible.
    synchronous: Literal["NORMAL", "FULL"] = "FULL"
    # Bound parameters per statement when looking many ids / urls up at once.
    lookup_chunk: int = 500
    # Connection pool size for PostgreSQL (SQLite uses one connection per thread).
    pool_size: int = 5
