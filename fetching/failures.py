"""The fetch failures, by class: transient ones are retried, permanent ones are not.

Kept apart from ``http`` so that the SSRF guard (which ``http`` uses) can raise them too.
"""

from __future__ import annotations

from wiredesk.core.errors import PermanentFetchError, TransientFetchError


class ConnectionFailed(TransientFetchError):
    reason = "connection"


class TimedOut(TransientFetchError):
    reason = "timeout"


class Truncated(TransientFetchError):
    reason = "truncated"


class ServerError(TransientFetchError):
    """5xx, and 429/503 with their Retry-After (seconds, None when absent)."""

    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__(message, reason=f"http-{status}")
        self.status = status
        self.retry_after = retry_after


class ClientError(PermanentFetchError):
    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message, reason=f"http-{status}")
        self.status = status


class TooLarge(PermanentFetchError):
    reason = "too-large"


class DecompressionBomb(PermanentFetchError):
    reason = "decompression-bomb"


class ContentTypeRefused(PermanentFetchError):
    reason = "content-type"


class BadContentEncoding(PermanentFetchError):
    reason = "content-encoding"
