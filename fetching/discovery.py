"""Feed discovery from a site's home page: <link rel="alternate"> with a feed type."""

from __future__ import annotations

from urllib.parse import urljoin

import lxml.html
from lxml import etree

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+xml",
        "application/x.atom+xml",
        "application/x-rss+xml",
    }
)


def feed_links(body: bytes, base_url: str) -> list[str]:
    """Absolute feed URLs a home page advertises, in page order, without repeats."""
    if not body.strip():
        return []
    try:
        doc = lxml.html.fromstring(body)
    except (etree.ParserError, ValueError):
        return []
    base = base_url
    for href in doc.xpath("//base/@href"):
        base = urljoin(base_url, str(href).strip())
        break
    found: list[str] = []
    for link in doc.xpath("//link[@href]"):
        rel = {token.lower() for token in (link.get("rel") or "").split()}
        kind = (link.get("type") or "").split(";", 1)[0].strip().lower()
        if "alternate" in rel and kind in FEED_TYPES:
            url = urljoin(base, link.get("href").strip())
            if url not in found:
                found.append(url)
    return found
