"""The cross-process writer lock: one writer run per store at a time.

SQLite: an OS lock (fcntl.flock) on "<db>.lock", released by the kernel when the process
dies, so a SIGKILLed run never leaves a stale lock behind. PostgreSQL: a session advisory
lock held on a dedicated connection, released when that connection closes (or dies).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

from wiredesk.core.errors import StoreError
from wiredesk.storage.engine import advisory_key

_POLL_S = 0.05


@contextmanager
def file_lock(path: Path, *, timeout_s: float | None, where: str) -> Iterator[None]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"{where}: cannot create the lock file {path} ({exc.strerror or exc})") from None
    try:
        if timeout_s is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        else:
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreError(f"store {where} is locked by another writer (waited {timeout_s:g}s)") from None
                    time.sleep(_POLL_S)
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())  # who holds it, for a human looking
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def advisory_lock(engine: Engine, *, timeout_s: float | None, where: str) -> Iterator[None]:
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        key = advisory_key(conn, "writer")
        if timeout_s is None:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        else:
            deadline = time.monotonic() + timeout_s
            while not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one():
                if time.monotonic() >= deadline:
                    raise StoreError(f"store {where} is locked by another writer (waited {timeout_s:g}s)")
                time.sleep(_POLL_S)
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
