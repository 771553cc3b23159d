"""Discovery against the test server: home-page feed links, robots.txt Sitemap lines,
sitemap indexes (with a cycle), Google News .xml.gz, and bad feeds failing alone."""

from __future__ import annotations

import pytest

from tests.fetchserver import PUBLISHED, FetchServer, make_settings
from wiredesk.fetching import Fetcher, MemoryFetchState, SourceSpec, canonicalize_url

PAGES = 8


@pytest.fixture(scope="module")
def server():
    with FetchServer(hosts=2, pages=PAGES) as srv:
        yield srv


def test_site_discovery_finds_feed_and_sitemaps(server: FetchServer) -> None:
    base = server.base(0)
    with Fetcher(make_settings(), MemoryFetchState()) as fetcher:
        report = fetcher.discover_report(SourceSpec(name="site0", sites=(base + "/",)))
    urls = [canonicalize_url(d.url) for d in report.items]
    assert sorted(urls) == sorted(f"{base}/article/{n}" for n in range(PAGES))
    assert len(urls) == len(set(urls))  # one per identity key (utm_source dropped from the key)
    # Requested as found: the feed's tracking parameter stays, only the key drops it.
    assert any("utm_source=rss" in d.url for d in report.items)
    by_url = {canonicalize_url(d.url): d for d in report.items}
    assert all(by_url[f"{base}/article/{n}"].published for n in range(PAGES // 2))  # feed pubDate
    assert by_url[f"{base}/article/{PAGES - 1}"].lastmod == "2026-11-01"  # sitemap lastmod
    assert {d.source for d in report.items} == {"site0"}
    fetched = sorted(o.record.url.removeprefix(base) for o in report.documents)
    assert fetched == [
        "/",
        "/feed.xml",
        "/sitemap-1.xml",
        "/sitemap-news.xml.gz",
        "/sitemap_index.xml",
    ]  # the index's self-reference was not re-read
    assert all(o.reason is None for o in report.documents)
    assert len(server.requests("/robots.txt", port=server.sites[0].server_address[1])) == 1


def test_news_sitemap_publication_date(server: FetchServer) -> None:
    base = server.base(1)
    with Fetcher(make_settings(), MemoryFetchState()) as fetcher:
        found = fetcher.discover(SourceSpec(name="news", sitemaps=(base + "/sitemap-news.xml.gz",)))
    assert [(d.url, d.published) for d in found] == [(base + "/article/0", PUBLISHED)]


def test_bad_feeds_fail_alone(server: FetchServer) -> None:
    base = server.base(1)
    bad = {
        "/bad-feed.xml": "bad-feed",
        "/bomb-feed.xml": "xml-bomb",
        "/xxe-feed.xml": "xml-bomb",
        "/missing": "http-404",
        "/doc.pdf": "content-type",
    }
    state = MemoryFetchState()
    spec = SourceSpec(
        name="mixed",
        feeds=tuple(base + p for p in bad) + (base + "/feed.xml",),
        urls=(base + "/article/99?utm_campaign=x",),
    )
    with Fetcher(make_settings(), state) as fetcher:
        report = fetcher.discover_report(spec)
    reasons = {o.record.url.removeprefix(base): o.reason for o in report.documents}
    assert reasons == {**bad, "/feed.xml": None}
    # The good feed's entries and the plain URL are all there.
    assert sorted(canonicalize_url(d.url) for d in report.items) == sorted(
        [f"{base}/article/{n}" for n in range(PAGES // 2)] + [f"{base}/article/99"]
    )
    for path, reason in bad.items():
        rec = state.get([base + path])[base + path]
        assert rec.reason == reason and rec.failures == 1 and not rec.gave_up


def test_evil_feed_links_are_listed_but_never_requested(server: FetchServer) -> None:
    base = server.base(1)
    with Fetcher(make_settings(), MemoryFetchState()) as fetcher:
        found = fetcher.discover(SourceSpec(name="evil", feeds=(base + "/evil-feed.xml",)))
        outcomes = fetcher.fetch(found)
    reasons = sorted(o.reason or "ok" for o in outcomes)
    assert reasons == ["ok", "scheme", "ssrf", "ssrf"]
    assert [t.connections for t in server.traps] == [[], []]


def test_feed_backoff_skips_a_failed_feed_on_the_next_run(server: FetchServer) -> None:
    base = server.base(0)
    state = MemoryFetchState()
    spec = SourceSpec(name="b", feeds=(base + "/bomb-feed.xml",))
    with Fetcher(make_settings(), state) as fetcher:
        fetcher.discover(spec)
    before = len(server.requests("/bomb-feed.xml"))
    with Fetcher(make_settings(), state) as fetcher:
        report = fetcher.discover_report(spec)
    assert [o.skipped for o in report.documents] == ["backoff"]
    assert len(server.requests("/bomb-feed.xml")) == before


def test_discovery_limits_hold(server: FetchServer) -> None:
    base = server.base(0)
    settings = make_settings(max_sitemaps=2, max_urls_per_source=3)
    with Fetcher(settings, MemoryFetchState()) as fetcher:
        report = fetcher.discover_report(
            SourceSpec(name="lim", sitemaps=(base + "/sitemap_index.xml",), feeds=(base + "/feed.xml",))
        )
    assert len(report.items) == 3
    sitemaps = [o for o in report.documents if "sitemap" in o.record.url]
    assert len(sitemaps) == 2  # the index and its first child, no more
    depth0 = make_settings(max_sitemap_depth=0)
    with Fetcher(depth0, MemoryFetchState()) as fetcher:
        report = fetcher.discover_report(SourceSpec(name="d0", sitemaps=(base + "/sitemap_index.xml",)))
    assert report.items == () and len(report.documents) == 1
