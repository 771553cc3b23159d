"""Which member of a cluster represents it.

Default policy ``credited-earliest-longest``:
1. the page the others name as the original: another member's ``original_url`` or
   ``canonical_url`` points at it;
2. not a page that points elsewhere itself (its canonical or original URL is another page);
3. the earliest ``published`` (a member without a date is given the benefit of the doubt:
   it ties with the earliest known date, so the next rules decide);
4. not a page that says it is a copy without naming which page (``names_original`` with no
   URL: "Source link", "Read the original article on X" where X is often the outlet itself;
   on syndication-dev 4% of originals carry such a line, so it only breaks date ties);
5. the most complete text (``text_len``: the caller passes its article shingles, site
   furniture removed); 6. the one seen first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from wiredesk.core.hosts import host_key
from wiredesk.core.records import Article


@dataclass(frozen=True, slots=True)
class Member:
    article: Article
    order: int  # stored members first (by store seq), then batch members in input order
    text_len: int  # how complete the text is (article shingles)


def url_key(url: str | None) -> str | None:
    """Scheme-, www-, query- and trailing-slash-insensitive form of a URL for comparison."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = host_key(url.strip())  # the port is part of the site (two outlets on one address)
    if not host:
        return None
    return host + (parts.path.rstrip("/") or "")


def published_ts(value: str | None) -> float | None:
    """Epoch seconds of an ISO 8601 date or datetime (naive ones taken as UTC)."""
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _self_keys(a: Article) -> set[str]:
    return {k for k in (url_key(a.url), url_key(a.canonical_url) if not a.names_original else None) if k}


def choose(members: list[Member], policy: str) -> Member:
    if policy == "first-seen":
        return min(members, key=lambda m: m.order)
    credited: set[str] = set()
    if policy == "credited-earliest-longest":
        for m in members:
            mine = _self_keys(m.article)
            for target in (m.article.original_url, m.article.canonical_url):
                k = url_key(target)
                if k and k not in mine:
                    credited.add(k)

    dates = [t for m in members if (t := published_ts(m.article.published)) is not None]
    earliest = min(dates) if dates else math.inf

    def date(m: Member) -> float:
        ts = published_ts(m.article.published)
        return ts if ts is not None else earliest

    def key(m: Member) -> tuple:
        a = m.article
        named = bool(_self_keys(a) & credited)
        own = url_key(a.url)
        points_elsewhere = own is not None and any(
            k not in (None, own) for k in (url_key(a.canonical_url), url_key(a.original_url))
        )
        return (not named, points_elsewhere, date(m), a.names_original, -m.text_len, m.order)

    if policy == "earliest-longest":
        return min(members, key=lambda m: (date(m), -m.text_len, m.order))
    return min(members, key=key)
