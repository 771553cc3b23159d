"""fetching: wiredesk's discovery + fetch stage.

Discovers article URLs (RSS/Atom feeds, sitemaps, plain URL lists, feed and sitemap
discovery from home pages and robots.txt) and fetches them politely (robots.txt with
Crawl-delay, per-host concurrency and interval, global concurrency, Retry-After) and
safely (SSRF guard on every hop, timeouts, size and decompression caps, redirect limits,
safe XML), incrementally (canonical URLs, conditional GET, back-off across runs).

Imports only ``wiredesk.core.records``, ``wiredesk.core.errors``, third-party libraries and itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wiredesk.core.lazy import lazy_names

if TYPE_CHECKING:
    from wiredesk.core.records import FetchRecord

    from .fetcher import Fetcher
    from .models import Discovered, DiscoveryReport, FetchOutcome, SourceSpec
    from .settings import DEFAULT_USER_AGENT, FetchSettings
    from .state import FetchState, MemoryFetchState, RetryingFetchState, SiteNotes
    from .urls import canonicalize_url, request_url

# Each name is imported from its module on first use (PEP 562): a run of page files on disk
# reads them with ``fetching.files`` and never loads the fetcher (httpx, feedparser; ~0.4 s).
_WHERE = {
    "FetchRecord": "wiredesk.core.records",
    "Fetcher": ".fetcher",
    "Discovered": ".models",
    "DiscoveryReport": ".models",
    "FetchOutcome": ".models",
    "SourceSpec": ".models",
    "DEFAULT_USER_AGENT": ".settings",
    "FetchSettings": ".settings",
    "FetchState": ".state",
    "MemoryFetchState": ".state",
    "RetryingFetchState": ".state",
    "SiteNotes": ".state",
    "canonicalize_url": ".urls",
    "request_url": ".urls",
}


__all__ = [
    "DEFAULT_USER_AGENT",
    "Discovered",
    "DiscoveryReport",
    "FetchOutcome",
    "FetchRecord",
    "FetchSettings",
    "FetchState",
    "Fetcher",
    "MemoryFetchState",
    "SiteNotes",
    "RetryingFetchState",
    "SourceSpec",
    "canonicalize_url",
    "request_url",
]

__getattr__, __dir__ = lazy_names(__name__, _WHERE, __all__)
