"""Per-host pacing through a PostgreSQL store: workers on several machines that share the
store (and no Redis) book their request starts to one host in one table, on the database's
clock. One atomic upsert per request start; the row lock serialises concurrent bookings.

Implements the fetch stage's ``HostPacer`` protocol (``reserve``) without importing it.
"""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from wiredesk.storage.targets import resolve

_CREATE = text(
    "CREATE TABLE IF NOT EXISTS wiredesk_host_pacing (host text PRIMARY KEY, next_start double precision NOT NULL)"
)
_RESERVE = text(
    """
    INSERT INTO wiredesk_host_pacing AS p (host, next_start)
    VALUES (:host, extract(epoch FROM clock_timestamp()) + :interval)
    ON CONFLICT (host) DO UPDATE
        SET next_start = GREATEST(extract(epoch FROM clock_timestamp()), p.next_start) + :interval
    RETURNING next_start - :interval - extract(epoch FROM clock_timestamp())
    """
)


class PgPacer:
    def __init__(self, url: str) -> None:
        target = resolve(url)
        if target.is_sqlite:
            raise ValueError("PgPacer needs a postgresql:// store")
        self._engine = create_engine(target.url, pool_size=1, max_overflow=1, pool_pre_ping=True)
        for attempt in range(3):
            try:
                with self._engine.begin() as conn:
                    conn.execute(_CREATE)
                break
            except DBAPIError:  # two workers creating the table at once: one wins
                if attempt == 2:
                    raise

    def reserve(self, host: str, interval: float) -> float:
        with self._engine.begin() as conn:
            wait = conn.execute(_RESERVE, {"host": host.lower(), "interval": float(interval)}).scalar_one()
        return max(0.0, float(wait))

    def close(self) -> None:
        self._engine.dispose()
