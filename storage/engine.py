"""Engines and transactions, one code path for SQLite and PostgreSQL.

SQLite: WAL, a busy timeout, foreign keys on, and write transactions opened with
``BEGIN IMMEDIATE`` (a deferred transaction that later tries to write can fail with
"database is locked" no matter the timeout; taking the write lock up front makes a second
writer wait instead). Reads use plain deferred ``BEGIN`` and never block the writer.
PostgreSQL: psycopg 3, snapshot reads at REPEATABLE READ.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text

from wiredesk.storage.settings import StoreSettings
from wiredesk.storage.targets import Target

_WRITE = "wiredesk_write"


def make_engine(target: Target, settings: StoreSettings) -> Engine:
    if not target.is_sqlite:
        return create_engine(
            target.url,
            pool_size=settings.pool_size,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 10},
        )
    engine = create_engine(target.url, connect_args={"timeout": settings.busy_timeout_s})
    busy_ms = int(settings.busy_timeout_s * 1000)
    synchronous = settings.synchronous

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        # Let us issue BEGIN ourselves (pysqlite's own transaction handling defers it).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        _set_wal(cur, settings.busy_timeout_s)
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")

    return engine


def _set_wal(cur: Any, timeout_s: float) -> None:
    """Switch to WAL. On a fresh file two processes opening at once can get "database is
    locked" here without SQLite's busy handler ever waiting, so retry until the timeout
    (the mode is persistent: once one process has set it, the others find it set)."""
    deadline = time.monotonic() + timeout_s
    delay = 0.01
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


@contextmanager
def write_tx(engine: Engine) -> Iterator[Connection]:
    """One write transaction: committed on normal exit, rolled back on any exception."""
    with engine.connect() as conn:
        conn = conn.execution_options(**{_WRITE: True})
        with conn.begin():
            yield conn


@contextmanager
def read_tx(engine: Engine, *, snapshot: bool = False) -> Iterator[Connection]:
    """A read transaction; ``snapshot`` gives one consistent view across several queries."""
    with engine.connect() as conn:
        if snapshot and engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def advisory_key(conn: Connection, purpose: str) -> int:
    """A 63-bit key for pg advisory locks, unique per database + schema + purpose."""
    where = conn.execute(text("SELECT current_database() || '.' || current_schema()")).scalar_one()
    digest = hashlib.sha256(f"wiredesk:{where}:{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF
