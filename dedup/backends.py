"""Open a dedup index by its location: a folder (local), redis://, or postgresql://.

Apart from ``index`` (the interface) so that the backends, which subclass it, and this
chooser among them import one way.
"""

from __future__ import annotations

from wiredesk.core.errors import DedupError
from wiredesk.dedup.index import Index
from wiredesk.dedup.settings import DedupSettings


def open_index(location: str, *, settings: DedupSettings) -> Index:
    """Open (creating if needed) the index at ``location``; see the module docstring."""
    if location.startswith("memory://"):
        from wiredesk.dedup.local import LocalIndex

        return LocalIndex(None, settings=settings)
    if location.startswith(("redis://", "rediss://", "unix://")):
        from wiredesk.dedup.redis_index import RedisIndex

        return RedisIndex(location, settings=settings)
    if location.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from wiredesk.dedup.pg_index import PgIndex

        return PgIndex(location, settings=settings)
    if "://" in location and not location.startswith("file://"):
        raise DedupError(f"dedup index: unsupported location {location!r}", reason="dedup-location")
    from wiredesk.dedup.local import LocalIndex

    return LocalIndex(location.removeprefix("file://"), settings=settings)
