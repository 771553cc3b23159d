"""The cross-process writer lock: one writer run per store at a time.

SQLite: an OS lock (fcntl.flock) on "<db>.lock", released by the kernel when the process
dies, so a SIGKILLed run never leaves a stale lock behind; the file itself is removed when the
lock is released (a killed process leaves an unlocked file, which the next writer takes over). PostgreSQL: a session advisory
lock held on a dedicated connection, released when that connection closes (or dies).
"""

from __future__ import annotations

import contextlib
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
    """Hold an exclusive flock on ``path``; the file is removed again on release.

    Removing a lock file is safe only with a check on the way in: a process that opened the
    file just before its holder removed it would lock a file nobody else can see. So after
    each flock we check that ``path`` still names the very file we locked, and start over
    if not; the holder removes the file while it still holds the lock.
    """
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        fd = _open(path, where)
        try:
            _flock(fd, deadline, timeout_s, where)
            if _still_named(fd, path):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # removed (or replaced) by the previous holder: lock the current file
    try:
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())  # who holds it, for a human looking
            yield
        finally:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _open(path: Path, where: str) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"{where}: cannot create the lock file {path} ({exc.strerror or exc})") from None


def _flock(fd: int, deadline: float | None, timeout_s: float | None, where: str) -> None:
    if deadline is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise StoreError(f"store {where} is locked by another writer (waited {timeout_s:g}s)") from None
            time.sleep(_POLL_S)


def _still_named(fd: int, path: Path) -> bool:
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


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
