"""The records that flow between stages. Frozen: a stage returns new records,
it never mutates the ones it was given.

    RawPage  --extractors-->  Extracted  --(flows: + identity)-->  Article
    Article  --dedup-->  Assignment  --storage-->  stored row / export record
    anything dropped  -->  Failure (with a stable reason code)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

PageKind = Literal["html", "text"]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class RawPage:
    """A page as read from disk or fetched from the web: undecoded bytes plus provenance."""

    source: str
    body: bytes
    kind: PageKind
    path: str | None = None  # absolute path for pages read from disk
    url: str | None = None  # canonical URL when known (fetched, manifest, feed)
    fetched_at: datetime = field(default_factory=utcnow)
    published: str | None = None  # ISO 8601 hint from a manifest, feed or sitemap
    encoding: str | None = None  # charset from the HTTP Content-Type header, if any
    # A file's identity: "<source>:<input root's name>/<path below it>" (fetching.files), so
    # a moved data folder keeps it. None for fetched pages, and for files stored before keys.
    key: str | None = None

    @property
    def location(self) -> str:
        """What identifies this page across runs: its file key (or, in stores written before
        keys, its path) when read from disk (a URL from a manifest or the page itself is
        metadata and may change), else its fetched URL."""
        return self.key or self.path or self.url or ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Extracted:
    """What an extractor got out of one page."""

    text: str  # cleaned article text, one paragraph per line
    title: str | None = None
    author: str | None = None
    published: str | None = None  # ISO 8601 (date or datetime)
    language: str | None = None  # ISO 639-1 when known
    canonical_url: str | None = None  # rel=canonical / og:url found in the page
    original_url: str | None = None  # a page this one names as the original (syndication credit)
    names_original: bool = False  # the page credits another outlet as the original
    method: str = ""  # which extractor path produced the text (for reports)


@dataclass(frozen=True, slots=True)
class NotArticle:
    """What extraction returns in place of an ``Extracted`` for a page that a page-type check
    given with it (``extract_many(check=...)``) found to be a listing (home, section, tag,
    author page...): never an article, counted as skipped ``not-article``."""

    why: str  # which signal decided (fetching.pagetype)


@dataclass(frozen=True, slots=True, kw_only=True)
class Article:
    """An extracted article with its identity, ready for dedup and storage."""

    id: str
    source: str
    text: str
    content_hash: str
    fetched_at: datetime
    url: str | None = None
    path: str | None = None
    title: str | None = None
    author: str | None = None
    published: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    original_url: str | None = None
    names_original: bool = False
    key: str | None = None  # RawPage.key: a file's identity below its input root

    @property
    def location(self) -> str:
        """Same rule as ``RawPage.location``: the file key, else the path, else the fetched URL."""
        return self.key or self.path or self.url or ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignment:
    """The dedup stage's verdict on one article.

    ``kind`` is ``new`` (first of its cluster so far), ``exact`` (same normalised
    text as a stored article) or ``near`` (verified near copy). ``duplicate_of``
    is the cluster representative's id (None for the representative itself).
    """

    article_id: str
    cluster_id: str
    kind: Literal["new", "exact", "near"]
    duplicate_of: str | None = None
    similarity: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """A page that was dropped, with why. ``reason`` is a stable kebab-case code."""

    location: str
    source: str
    reason: str
    detail: str = ""
    stage: str = ""  # read / fetch / extract / dedup / store


def article_id_for(location: str) -> str:
    """Stable id of an article: derived from where it lives, so re-runs find it again."""
    return hashlib.sha256(location.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredArticle:
    """An article as the store holds it, with its dedup verdict.

    The dedup stage reads these (through a lookup callable the store provides)
    to verify candidates and to pick cluster representatives.
    """

    article: Article
    cluster_id: str
    duplicate_of: str | None = None
    similarity: float | None = None
    seq: int = 0  # monotonically increasing insertion/update sequence number in the store

    @property
    def id(self) -> str:
        return self.article.id


# The export record: a stable contract (README "Record fields"). Fields may be
# added, never renamed.
EXPORT_FIELDS: tuple[str, ...] = (
    "id",
    "url",
    "path",
    "source",
    "title",
    "author",
    "published",
    "language",
    "text",
    "content_hash",
    "cluster_id",
    "duplicate_of",
    "similarity",
    "fetched_at",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchRecord:
    """What wiredesk remembers about one canonical URL between runs.

    The fetcher reads it to send conditional requests (ETag / Last-Modified), to skip URLs
    already stored, and to back off from failing URLs; it writes a new one after every
    attempt. The store persists it (latest state per URL, plus an append-only log).
    """

    url: str  # canonical URL
    source: str = ""
    status: int | None = None  # last HTTP status (None: no response)
    reason: str | None = None  # last failure reason code (None: last attempt succeeded)
    detail: str = ""
    etag: str | None = None
    last_modified: str | None = None
    attempts: int = 0  # HTTP attempts made by the last fetch (retries included)
    failures: int = 0  # consecutive failed fetches across runs (0 after a success)
    next_attempt_at: datetime | None = None  # back-off: do not retry before this
    gave_up: bool = False  # too many failures: not retried again
    stored: bool = False  # an article from this URL is in the store
    bytes: int = 0
    duration_ms: float = 0.0
    fetched_at: datetime = field(default_factory=utcnow)
