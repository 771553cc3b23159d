"""Unit tests of the fetch stage's pure parts: canonical URLs, robots.txt, the SSRF guard's
address rules, feed and sitemap parsing, the capped decoder, settings validation."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import zlib

import pytest

from wiredesk.core.errors import ConfigError, PermanentFetchError
from wiredesk.fetching import FetchSettings, canonicalize_url
from wiredesk.fetching.failures import BadContentEncoding, DecompressionBomb
from wiredesk.fetching.feeds import BadFeed, XmlBomb, parse_feed, parse_sitemap
from wiredesk.fetching.http import _Decoder, retry_after_seconds
from wiredesk.fetching.politeness import Politeness
from wiredesk.fetching.robots import parse_robots
from wiredesk.fetching.ssrf import SchemeRefused, SsrfGuard, SsrfRefused
from wiredesk.fetching.urls import host_key


@pytest.mark.parametrize(
    "url, expected",
    [
        ("HTTP://Example.COM:80/a/b/?utm_source=x&b=2&a=1#frag", "http://example.com/a/b?a=1&b=2"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com:443/x/", "https://example.com/x"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("https://example.com/a/./b/../c/", "https://example.com/a/c"),
        ("https://example.com/%7euser/a%2fb?q=a%20b&fbclid=1&gclid=2", "https://example.com/~user/a%2Fb?q=a%20b"),
        ("https://user:secret@example.com/x", "https://example.com/x"),
        ("https://example.com/?utm_campaign=y", "https://example.com/"),
        ("http://bücher.de/é", "http://xn--bcher-kva.de/%C3%A9"),
        ("  https://example.com/story?id=7&page=  ", "https://example.com/story?id=7&page="),
        ("https://example.com/story?print", "https://example.com/story?print"),
        ("https://example.com/s?q=a+b&x=%2f&utm_term=z", "https://example.com/s?q=a+b&x=%2F"),
    ],
)
def test_canonicalize_url(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected
    assert canonicalize_url(expected) == expected  # idempotent


def test_canonicalize_leaves_other_schemes_for_the_fetcher_to_refuse() -> None:
    assert canonicalize_url("file:///etc/passwd") == "file:///etc/passwd"
    assert canonicalize_url("javascript:alert(1)") == "javascript:alert(1)"


def test_host_key_distinguishes_ports() -> None:
    assert host_key("http://127.0.0.1:8001/a") != host_key("http://127.0.0.1:8002/a")
    assert host_key("https://Example.com/a") == "example.com:443"


ROBOTS = """
User-agent: *
Disallow: /

User-agent: WireDesk/0.1
User-agent: otherbot
Disallow: /private/
Disallow: /*.pdf$
Allow: /private/open
Crawl-delay: 2.5
Sitemap: https://example.com/sitemap.xml

User-agent: wiredesk
Disallow: /drafts
"""


def test_robots_specific_group_longest_match_and_merge() -> None:
    rules = parse_robots(ROBOTS, "wiredesk")
    allowed = {
        p: rules.allowed("https://example.com" + p)
        for p in ["/", "/news/1", "/private/x", "/private/open/1", "/a.pdf", "/a.pdf?x=1", "/drafts/2", "/robots.txt"]
    }
    assert allowed == {
        "/": True,
        "/news/1": True,
        "/private/x": False,
        "/private/open/1": True,
        "/a.pdf": False,
        "/a.pdf?x=1": True,
        "/drafts/2": False,
        "/robots.txt": True,
    }
    assert rules.crawl_delay == 2.5
    assert rules.sitemaps == ("https://example.com/sitemap.xml",)


def test_robots_falls_back_to_star_group_and_allow_wins_ties() -> None:
    rules = parse_robots("User-agent: *\nDisallow: /a\nAllow: /a\nDisallow: /b/", "wiredesk")
    assert rules.allowed("http://h/a") and not rules.allowed("http://h/b/c")
    assert parse_robots("User-agent: *\nDisallow:\n", "wiredesk").allowed("http://h/x")
    assert not parse_robots("User-agent: *\nDisallow: /\n", "wiredesk").allowed("http://h/x")


def test_ssrf_guard_refuses_non_public_addresses_unless_allowed() -> None:
    guard = SsrfGuard(["127.0.0.1"])

    async def check(url: str) -> str:
        try:
            await guard.check_url(url)
            return "ok"
        except PermanentFetchError as exc:
            return exc.reason

    # Only loopback addresses are ever probed; numeric spellings of them too.
    cases = {
        "http://127.0.0.1:8000/": "ok",
        "http://127.0.0.2/": "ssrf",
        "http://[::1]/": "ssrf",
        "http://[::ffff:127.0.0.3]/": "ssrf",
        "http://2130706434/": "ssrf",  # 127.0.0.2 as one integer
        "http://0x7f.0.0.3/": "ssrf",
        "http://0.0.0.0/": "ssrf",
        "file:///etc/passwd": "scheme",
        "gopher://127.0.0.1/": "scheme",
        "http:///nohost": "scheme",
    }
    assert {u: asyncio.run(check(u)) for u in cases} == cases
    with pytest.raises(SsrfRefused):  # resolves (from /etc/hosts) to loopback
        asyncio.run(SsrfGuard().check_url("http://localhost:8000/"))
    # Only loopback literals here: a probe must never name a real private or public address.
    assert guard.address_allowed(ipaddress.ip_address("127.0.0.1"))
    assert not guard.address_allowed(ipaddress.ip_address("::ffff:127.0.0.2"))


def test_ssrf_guard_allows_cidrs_and_hostnames() -> None:
    assert asyncio.run(SsrfGuard(["127.0.0.0/8"]).resolve("127.0.0.3", 80))
    assert asyncio.run(SsrfGuard(["localhost"]).resolve("localhost", 80))
    with pytest.raises(SsrfRefused):
        asyncio.run(SsrfGuard(["127.0.0.2/32"]).resolve("127.0.0.3", 80))
    with pytest.raises(SchemeRefused):
        asyncio.run(SsrfGuard().check_url("ftp://example.com/"))


RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>a</title><link>/story/a?utm_source=rss</link><pubDate>Sat, 21 Nov 2026 10:00:00 GMT</pubDate></item>
<item><title>b&nbsp;c</title><link>https://other.example/b</link></item>
<item><title>no link</title></item></channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>t</title><entry><title>x</title><link rel="alternate" href="https://ex.com/x"/>
<updated>2026-11-21T12:00:00Z</updated><published>2026-11-20T08:00:00Z</published></entry></feed>"""


def test_parse_feed_rss_and_atom() -> None:
    entries = parse_feed(RSS, "https://ex.com/feed.xml")
    assert [e.url for e in entries] == ["https://ex.com/story/a?utm_source=rss", "https://other.example/b"]
    assert entries[0].published == "2026-11-21T10:00:00+00:00"
    atom = parse_feed(ATOM, "https://ex.com/atom")
    assert atom[0].url == "https://ex.com/x"
    assert atom[0].published == "2026-11-20T08:00:00+00:00"
    assert atom[0].lastmod == "2026-11-21T12:00:00+00:00"


@pytest.mark.parametrize(
    "body, error",
    [
        (
            b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY a 'x'><!ENTITY b '&a;&a;'>]><rss><channel>"
            b"<item><link>&b;</link></item></channel></rss>",
            XmlBomb,
        ),
        (b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><rss/>", XmlBomb),
        (RSS[: len(RSS) // 2], BadFeed),
        (b"<html><body>not a feed</body></html>", BadFeed),
        (b"", BadFeed),
    ],
)
def test_parse_feed_refuses_bombs_and_garbage(body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_feed(body, "https://ex.com/feed")


SITEMAP = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
 xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://ex.com/a</loc><lastmod>2026-11-20</lastmod></url>
<url><loc>https://ex.com/b</loc><news:news><news:publication_date>2026-11-21T09:00:00Z</news:publication_date></news:news></url>
</urlset>"""


def test_parse_sitemap_kinds() -> None:
    plain = parse_sitemap(SITEMAP, "https://ex.com/s.xml", max_bytes=10**6)
    assert [(e.url, e.published, e.lastmod) for e in plain.entries] == [
        ("https://ex.com/a", None, "2026-11-20"),
        ("https://ex.com/b", "2026-11-21T09:00:00Z", None),
    ]
    gz = parse_sitemap(gzip.compress(SITEMAP), "https://ex.com/s.xml.gz", max_bytes=10**6)
    assert gz == plain
    index = parse_sitemap(
        b"<sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        b"<sitemap><loc>/s1.xml</loc></sitemap></sitemapindex>",
        "https://ex.com/index.xml",
        max_bytes=10**6,
    )
    assert [c.url for c in index.children] == ["https://ex.com/s1.xml"] and not index.entries
    text = parse_sitemap(b"https://ex.com/a\nhttps://ex.com/b\n", "https://ex.com/s.txt", max_bytes=100)
    assert [e.url for e in text.entries] == ["https://ex.com/a", "https://ex.com/b"]


def test_parse_sitemap_refuses_bombs() -> None:
    with pytest.raises(DecompressionBomb):
        parse_sitemap(gzip.compress(b" " * 2_000_000), "https://ex.com/s.xml.gz", max_bytes=1_000_000)
    with pytest.raises(XmlBomb):
        parse_sitemap(b"<!DOCTYPE u [<!ENTITY a 'x'>]><urlset>&a;</urlset>", "u", max_bytes=10**6)
    with pytest.raises(BadFeed):
        parse_sitemap(b"<html/>", "u", max_bytes=10**6)


def test_decoder_caps_inflation_and_rejects_garbage() -> None:
    ok = _Decoder("gzip", 1000, "u")
    ok.feed(gzip.compress(b"a" * 1000))
    assert ok.finish() == b"a" * 1000
    raw = zlib.compressobj(wbits=-15)
    deflated = raw.compress(b"b" * 500) + raw.flush()
    d = _Decoder("deflate", 1000, "u")
    d.feed(deflated)
    assert d.finish() == b"b" * 500
    bomb = _Decoder("gzip", 1000, "u")
    with pytest.raises(DecompressionBomb):
        bomb.feed(gzip.compress(b"\0" * 100_000))
    with pytest.raises(BadContentEncoding):
        _Decoder("br", 1000, "u")
    with pytest.raises(BadContentEncoding):
        _Decoder("gzip", 1000, "u").feed(b"\x1f\x8bnot gzip at all")


def test_retry_after_forms() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Sun, 22 Nov 2026 16:00:10 GMT", now=1_795_363_200.0) == 10.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_crawl_delay_is_clamped() -> None:
    async def run() -> tuple[float, float]:
        p = Politeness(per_host_concurrency=2, min_interval=1.0, global_concurrency=4, max_crawl_delay=30.0)
        p.apply_crawl_delay("a:80", 3600)
        p.apply_crawl_delay("b:80", 0.2)  # never below our own minimum
        return p.gate("a:80").interval, p.gate("b:80").interval

    assert asyncio.run(run()) == (30.0, 1.0)


def test_settings_validation() -> None:
    assert FetchSettings(allow_private=["127.0.0.1", "127.0.0.0/8", "intranet.local"]).allow_private == (
        "127.0.0.1",
        "127.0.0.0/8",
        "intranet.local",
    )
    for bad in [
        dict(per_host_concurrency=0),
        dict(max_bytes=0),
        dict(allow_private="127.0.0.1"),
        dict(allow_private=("127.0.0.0/33",)),
        dict(user_agent=" "),
        dict(per_host_min_interval=-1),
    ]:
        with pytest.raises(ConfigError):
            FetchSettings(**bad)  # type: ignore[arg-type]
