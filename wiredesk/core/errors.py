"""The one exception hierarchy of wiredesk. Callers decide retries by class.

    WiredeskError
    ├── ConfigError            bad configuration or argument (one-line message)
    ├── InputError             a page that cannot be read or decoded  (.reason)
    ├── ExtractionError        a page with no article text in it      (.reason)
    ├── FetchError             a fetch that failed                    (.reason)
    │   ├── TransientFetchError    worth retrying (5xx, timeouts, resets, 429/503)
    │   └── PermanentFetchError    not worth retrying (4xx, refused by policy, too big, ...)
    ├── StoreError             the store cannot be opened or written
    │   ├── StoreVersionError      the store's schema is newer than this code
    │   └── NoStoreError           no store where the user pointed: missing file or folder,
    │                              not a wiredesk store, an unusable URL (a usage error)
    └── DedupError             the dedup index cannot be used

Every error that drops a page carries ``reason``: a short, stable, kebab-case
code (``binary``, ``empty``, ``oversized``, ``no-content``, ``robots``, ...)
that reports count by, plus a human message.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class WiredeskError(Exception):
    """Base of every error wiredesk raises on purpose."""

    reason: str = "error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.reason


class ConfigError(WiredeskError):
    reason = "config"


class InputError(WiredeskError):
    reason = "unreadable"


class ExtractionError(WiredeskError):
    reason = "no-content"


class FetchError(WiredeskError):
    reason = "fetch"


class TransientFetchError(FetchError):
    reason = "transient"


class PermanentFetchError(FetchError):
    reason = "permanent"


class StoreError(WiredeskError):
    reason = "store"


class StoreVersionError(StoreError):
    reason = "store-version"


class NoStoreError(StoreError):
    reason = "no-store"


class DedupError(WiredeskError):
    reason = "dedup"


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`` (did you mean 'url'?)`` for a misspelt name, else ``""``: for error messages."""
    close = difflib.get_close_matches(word, sorted(set(known)), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
