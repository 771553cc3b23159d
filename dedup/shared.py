"""Helpers shared by the Redis and PostgreSQL indexes: location parsing and the lock wait."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from wiredesk.core.errors import DedupError

DEFAULT_PREFIX = "wiredesk_dedup"


def split_prefix(location: str) -> tuple[str, str]:
    """``...?prefix=NAME`` -> (location without it, NAME); the prefix namespaces one index."""
    parts = urlsplit(location)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = DEFAULT_PREFIX
    rest = []
    for k, v in query:
        if k == "prefix":
            prefix = v
        else:
            rest.append((k, v))
    if not prefix.replace("_", "").isalnum():
        raise DedupError(f"dedup index prefix {prefix!r}: letters, digits and _ only", reason="dedup-location")
    return urlunsplit(parts._replace(query=urlencode(rest))), prefix


def wait_for(acquire: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    """Poll ``acquire`` until it succeeds or ``timeout_s`` passes (then DedupError)."""
    deadline = time.monotonic() + timeout_s
    delay = 0.005
    while not acquire():
        if time.monotonic() >= deadline:
            raise DedupError(
                f"dedup index: {what} still locked by another worker after {timeout_s:g}s", reason="dedup-locked"
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def mask(location: str) -> str:
    parts = urlsplit(location)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return location
