"""How a fetch becomes a FetchRecord (success, failure with back-off, policy skip), the
"has it changed?" rule, and the content checks that refuse non-pages. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from wiredesk.core.errors import FetchError, PermanentFetchError
from wiredesk.core.records import FetchRecord, utcnow

from .engine import Attempted, HostClosed
from .failures import ContentTypeRefused
from .feeds import Entry
from .http import Response
from .models import Discovered, FetchOutcome
from .settings import FetchSettings
from .urls import request_url

# Failures only feeds and sitemaps have: such a record is never retried as an article.
DOCUMENT_REASONS = frozenset({"bad-feed", "xml-bomb"})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"text/plain"})
_BINARY_PREFIXES = (
    "image/",
    "audio/",
    "video/",
    "font/",
    "application/pdf",
    "application/zip",
    "application/octet-stream+",
)


def success_record(url: str, source: str, prev: FetchRecord | None, resp: Response, result: Attempted) -> FetchRecord:
    etag = resp.headers.get("etag")
    last_modified = resp.headers.get("last-modified")
    if resp.status == 304 and prev is not None:  # a 304 may omit the validators
        etag = etag or prev.etag
        last_modified = last_modified or prev.last_modified
    return FetchRecord(
        url=url,
        source=source,
        status=resp.status,
        reason=None,
        detail="",
        etag=etag,
        last_modified=last_modified,
        attempts=result.attempts,
        failures=0,
        next_attempt_at=None,
        gave_up=False,
        stored=prev.stored if prev is not None else False,
        bytes=resp.raw_bytes,
        duration_ms=round(result.duration_ms, 3),
    )


def failure_record(
    url: str,
    source: str,
    prev: FetchRecord | None,
    exc: FetchError,
    status: int | None,
    attempts: int,
    nbytes: int,
    duration_ms: float,
    s: FetchSettings,
    retry_at: float | None,
    *,
    may_give_up: bool,
) -> FetchRecord:
    failures = (prev.failures if prev is not None else 0) + 1
    delay = min(s.failure_backoff * 2 ** (failures - 1), s.max_failure_backoff)
    if retry_at is not None:
        delay = max(delay, retry_at)  # never come back before the server asked us to
    now = utcnow()
    return FetchRecord(
        url=url,
        source=source,
        status=status,
        reason=exc.reason,
        detail=exc.message[:500],
        etag=prev.etag if prev is not None else None,
        last_modified=prev.last_modified if prev is not None else None,
        attempts=attempts,
        failures=failures,
        next_attempt_at=now + timedelta(seconds=delay),
        gave_up=may_give_up and failures >= s.give_up_after,
        stored=prev.stored if prev is not None else False,
        bytes=nbytes,
        duration_ms=round(duration_ms, 3),
        fetched_at=now,
    )


def policy_record(url: str, source: str, prev: FetchRecord | None, reason: str, detail: str) -> FetchRecord:
    """A URL refused by policy before any request: no attempt, no failure counted."""
    if prev is not None:
        return replace(
            prev,
            reason=reason,
            detail=detail,
            status=None,
            attempts=0,
            bytes=0,
            duration_ms=0.0,
            source=prev.source or source,
            fetched_at=utcnow(),
        )
    return FetchRecord(url=url, source=source, reason=reason, detail=detail)


def skip(url: str, source: str, prev: FetchRecord | None, reason: str, detail: str) -> FetchOutcome:
    return FetchOutcome(policy_record(url, source, prev, reason, detail), skipped=reason)


def host_closed(
    url: str, source: str, prev: FetchRecord | None, closed: HostClosed, s: FetchSettings, *, may_give_up: bool
) -> FetchOutcome:
    """Skipped because its host is closed (down, or asked us to wait): no request, but a
    failed fetch all the same. It backs off at least until the host opens again, counts
    towards giving up, and is brought back by ``RetryingFetchState.due`` like any failure."""
    rec = failure_record(url, source, prev, closed, None, 0, 0, 0.0, s, closed.seconds, may_give_up=may_give_up)
    return FetchOutcome(rec, skipped=closed.reason)


def changes_state(outcome: FetchOutcome) -> bool:
    # stored / backoff / gave-up / duplicate leave the record as it was: nothing to write.
    return outcome.skipped not in ("stored", "backoff", "gave-up", "duplicate")


def changed(lastmod: str | None, fetched_at: datetime) -> bool:
    """Does the source say the page changed after we fetched it?"""
    when = parse_when(lastmod)
    return when is not None and when > fetched_at


def parse_when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def merge_duplicates(urls: Sequence[Discovered], canon: Sequence[str]) -> dict[str, Discovered]:
    """One Discovered per canonical URL: the first one, with the newest lastmod any copy
    gave (a feed and a sitemap may disagree; "changed" must win) and the first published."""
    merged: dict[str, Discovered] = {}
    for d, url in zip(urls, canon):
        seen = merged.get(url)
        merged[url] = d if seen is None else merge(seen, d)
    return merged


def merge(first: Discovered, other: Discovered) -> Discovered:
    newer = parse_when(other.lastmod)
    known = parse_when(first.lastmod)
    lastmod = other.lastmod if newer is not None and (known is None or newer > known) else first.lastmod
    return replace(first, published=first.published or other.published, lastmod=lastmod)


def plain(url: str) -> Entry:
    return Entry(url)


def discovered(entry: Entry, source: str) -> Discovered:
    """A feed or sitemap entry as a URL to fetch: requested as found (fragment dropped).
    An entry whose link has a fragment is not the article's own entry (a comment feed's
    ``post/#comment-3``): its dates are the comment's, so it gives none."""
    url = request_url(entry.url)
    if url != entry.url.strip():
        return Discovered(url, source)
    return Discovered(url, source, entry.published, entry.lastmod)


def not_article(outcome: FetchOutcome, why: str) -> FetchOutcome:
    """A listing page: fetched (its validators kept for the next run's conditional
    request), its links followed, never an article."""
    record = replace(outcome.record, detail=f"not an article ({why})"[:500])
    return replace(outcome, record=record, skipped="not-article", page=None)


# mod_deflate / mod_brotli append the coding to the ETag of the compressed variant; the
# application behind them compares If-None-Match verbatim with the ETag it made.
_CODING_SUFFIX = re.compile(r'^(W/)?"(.*)-(gzip|br|deflate|zstd)"$')


def validator_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    """Conditional-request headers for a resource that sent these validators, and
    If-Modified-Since whenever there was a Last-Modified (a server may ignore one of them).

    An ETag with a coding suffix (``"abc-gzip"``) is sent without it: the server compares
    with the tag it made before compression. Apache's core does so for static files (and
    mod_deflate strips the suffix from a tag it recognises), and an application behind it
    compares the header verbatim: WordPress's feeds answer 304 only to exactly ``"abc"``
    (with a matching If-Modified-Since), so a list ``"abc-gzip", "abc"`` never matches there
    (measured on the Debian WordPress 6.1, bench/realsite.py).
    """
    headers: dict[str, str] = {}
    if etag:
        tag = etag.strip()
        suffixed = _CODING_SUFFIX.match(tag)
        if suffixed:
            tag = f'{suffixed.group(1) or ""}"{suffixed.group(2)}"'
        headers["If-None-Match"] = tag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


# ---- content checks -----------------------------------------------------------------------


def accept_page(head: Response) -> None:
    media = head.media_type
    if media and media not in HTML_TYPES and media not in TEXT_TYPES:
        raise ContentTypeRefused(f"content type {media!r} is not HTML or text: {head.url}")


def accept_doc(head: Response) -> None:
    if head.media_type.startswith(_BINARY_PREFIXES):
        raise ContentTypeRefused(f"content type {head.media_type!r} is not a feed: {head.url}")


def check_page_body(resp: Response) -> None:
    if not resp.body.strip():
        raise PermanentFetchError(f"empty body: {resp.url}", reason="empty")
    if not resp.media_type and b"\x00" in resp.body[:4096]:
        # No Content-Type and NUL bytes: binary, whatever the URL looks like.
        raise ContentTypeRefused(f"untyped binary body: {resp.url}")
