"""Safe parsing of feeds (RSS/Atom via feedparser) and sitemaps (urlset, sitemap index,
Google News, gzipped, plain text).

Every XML document is made safe first (``safexml.sanitize``: DOCTYPE removed, any entity
declaration refused as ``xml-bomb``, HTML named entities mapped to characters) and must then
pass a strict defusedxml parse with DTDs and entities forbidden; only those bytes reach
feedparser or ElementTree. A document that is not well-formed is ``bad-feed``: an error for
that document only.
"""

from __future__ import annotations

import calendar
import io
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET
import feedparser

from .failures import DecompressionBomb
from .safexml import BadFeed, XmlBomb, sanitize

__all__ = ["BadFeed", "Entry", "Sitemap", "XmlBomb", "parse_feed", "parse_sitemap", "safe_tree"]


@dataclass(frozen=True, slots=True)
class Entry:
    url: str
    published: str | None = None
    lastmod: str | None = None


@dataclass(frozen=True, slots=True)
class Sitemap:
    entries: tuple[Entry, ...] = ()  # article URLs
    children: tuple[Entry, ...] = ()  # nested sitemaps of an index


def safe_tree(body: bytes, where: str) -> Element:
    """Parse sanitized ``body`` strictly: a DTD, an entity or an external reference is refused."""
    try:
        return SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise XmlBomb(f"{type(exc).__name__} in {where}") from None
    except ParseError as exc:
        raise BadFeed(f"not well-formed XML ({exc}): {where}") from None


def parse_feed(body: bytes, url: str) -> list[Entry]:
    if not body.strip():
        raise BadFeed(f"empty feed: {url}")
    body = sanitize(body, url)
    safe_tree(body, url)  # well-formed, no DTD, no entity: nothing feedparser could expand
    # A stream, never a string: feedparser fetches strings that look like URLs.
    parsed = feedparser.parse(
        io.BytesIO(body), response_headers={"content-location": url}, sanitize_html=False, resolve_relative_uris=False
    )
    if parsed.get("version", "") == "" and not parsed.entries:
        raise BadFeed(f"not a feed ({parsed.get('bozo_exception', 'unknown format')}): {url}")
    entries: list[Entry] = []
    for item in parsed.entries:
        link = item.get("link") or _first_alternate(item)
        if not link:
            continue
        # dict.get: FeedParserDict.get aliases updated/published and warns about it.
        published = _iso(dict.get(item, "published_parsed")) or _iso(dict.get(item, "updated_parsed"))
        lastmod = _iso(dict.get(item, "updated_parsed")) or published
        entries.append(Entry(urljoin(url, link.strip()), published, lastmod))
    return entries


def _first_alternate(item: feedparser.FeedParserDict) -> str | None:
    for link in item.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return str(link["href"])
    return None


def _iso(parsed: time.struct_time | None) -> str | None:
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC).isoformat()
    except (OverflowError, ValueError, OSError):
        return None


def gunzip_capped(body: bytes, max_bytes: int, where: str) -> bytes:
    z = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = z.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise BadFeed(f"corrupt gzip ({exc}): {where}") from None
    if len(out) > max_bytes or z.unconsumed_tail:
        raise DecompressionBomb(f"gzip inflates past cap {max_bytes} bytes: {where}")
    if not z.eof:
        raise BadFeed(f"truncated gzip: {where}")
    return out


def parse_sitemap(body: bytes, url: str, *, max_bytes: int) -> Sitemap:
    if body[:2] == b"\x1f\x8b":  # .xml.gz served as-is (no Content-Encoding)
        body = gunzip_capped(body, max_bytes, url)
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise BadFeed(f"empty sitemap: {url}")
    if not stripped.startswith(b"<"):
        return _text_sitemap(stripped, url)
    root = safe_tree(sanitize(body, url), url)
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise BadFeed(f"root <{kind}> is not a sitemap: {url}")
    found: list[Entry] = []
    for node in root:
        if _local(node.tag) not in ("url", "sitemap"):
            continue
        loc = lastmod = published = None
        for child in node.iter():
            name = _local(child.tag)
            text = (child.text or "").strip()
            if name == "loc" and loc is None and text:
                loc = text
            elif name == "lastmod" and text:
                lastmod = text
            elif name == "publication_date" and text:  # Google News <news:publication_date>
                published = text
        if loc:
            found.append(Entry(urljoin(url, loc), published, lastmod))
    if kind == "sitemapindex":
        return Sitemap(children=tuple(found))
    return Sitemap(entries=tuple(found))


def _text_sitemap(body: bytes, url: str) -> Sitemap:
    lines = [ln.strip() for ln in body.decode("utf-8", "replace").splitlines() if ln.strip()]
    if not all(ln.startswith(("http://", "https://")) for ln in lines):
        raise BadFeed(f"neither XML nor a plain list of URLs: {url}")
    return Sitemap(entries=tuple(Entry(ln) for ln in lines))


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""
