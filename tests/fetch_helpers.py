"""Shared bits of the fetch tests: loose-but-safe settings for the local test server."""

from __future__ import annotations

from typing import Any

from fetching import FetchSettings


def make_settings(**overrides: Any) -> FetchSettings:
    """Small timeouts and caps so every fault resolves in well under a second; only
    127.0.0.1 is allow-listed (the traps on 127.0.0.2 / .3 must stay refused)."""
    values: dict[str, Any] = dict(
        allow_private=("127.0.0.1",),
        per_host_concurrency=4,
        per_host_min_interval=0.0,
        global_concurrency=16,
        connect_timeout=1.0,
        read_timeout=0.3,
        total_timeout=3.0,
        max_bytes=1_000_000,
        retries=1,
        retry_backoff=0.01,
        max_retry_after=2.0,
        failure_backoff=3600.0,
    )
    values.update(overrides)
    return FetchSettings(**values)
