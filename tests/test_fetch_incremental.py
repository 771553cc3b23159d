"""Incremental fetching across runs: stored URLs are skipped, everything else is asked with
validators and answered 304, changed pages come back, failures back off and are given up."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.fetchserver import FetchServer, article_html, make_settings
from wiredesk.core.records import FetchRecord, utcnow
from wiredesk.fetching import Discovered, Fetcher, MemoryFetchState, SourceSpec

PAGES = 6


@pytest.fixture()
def server():
    with FetchServer(hosts=1, pages=PAGES) as srv:
        yield srv


def spec(server: FetchServer) -> SourceSpec:
    base = server.base(0)
    return SourceSpec(
        name="inc",
        feeds=(base + "/feed.xml",),
        sitemaps=(base + "/sitemap_index.xml",),
        urls=tuple(f"{base}/article/{n}" for n in range(PAGES)),
    )


def test_second_run_on_unchanged_site_sends_only_conditional_requests(server) -> None:
    state = MemoryFetchState()
    with Fetcher(make_settings(), state, record_fetches=True) as fetcher:
        first = fetcher.fetch(fetcher.discover(spec(server)))
    assert len(first) == PAGES and all(o.page is not None for o in first)
    # The store saved articles from half of the pages (the others failed extraction, say).
    state.mark_stored([o.record.url for o in first[: PAGES // 2]])
    stored_before = {u for u, r in state.latest().items() if r.stored}
    server.clear()

    with Fetcher(make_settings(), state, record_fetches=True) as fetcher:  # a new run: new client, new caches
        second = fetcher.fetch(fetcher.discover(spec(server)))

    requests = [s for s in server.requests() if s.path != "/robots.txt"]
    assert requests, "the second run asked nothing at all"
    for s in requests:
        assert "if-none-match" in s.headers and "if-modified-since" in s.headers, s.path
        assert s.status == 304, s.path
    assert sorted(o.skipped or str(o.record.status) for o in second) == ["304"] * (PAGES - PAGES // 2) + ["stored"] * (
        PAGES // 2
    )
    assert all(o.page is None for o in second)
    assert {u for u, r in state.latest().items() if r.stored} == stored_before
    for o in second:  # validators survive a 304 that does not repeat them
        assert o.record.etag and o.record.last_modified


def test_changed_page_is_refetched_when_the_source_says_so(server) -> None:
    state = MemoryFetchState()
    url = server.base(0) + "/article/1"
    later = (utcnow() + timedelta(minutes=5)).isoformat()
    with Fetcher(make_settings(), state, record_fetches=True) as fetcher:
        [first] = fetcher.fetch([Discovered(url, "inc")])
        state.mark_stored([url])
        [same] = fetcher.fetch([Discovered(url, "inc", None, "2020-01-01")])
        assert same.skipped == "stored"
        server.changed.add("/article/1")
        # The feed copy says nothing, the sitemap copy says "changed": changed wins, once.
        again, dup = fetcher.fetch([Discovered(url, "inc"), Discovered(url + "?utm_source=x", "inc", None, later)])
    assert dup.skipped == "duplicate" and dup.page is None
    assert again.page is not None and again.page.body == article_html(0, 1, changed=True)
    last = server.requests("/article/1")[-1]
    assert last.headers.get("if-none-match") == first.record.etag  # still a conditional GET
    assert last.status == 200 and len(server.requests("/article/1")) == 2
    assert again.record.etag != first.record.etag
    assert again.record.stored  # carried forward; the store saves the new version over it


def test_failures_back_off_then_give_up(server) -> None:
    state = MemoryFetchState()
    url = server.base(0) + "/missing"
    quick = make_settings(failure_backoff=0.0, give_up_after=3)
    reasons = []
    for _ in range(4):
        with Fetcher(quick, state, record_fetches=True) as fetcher:
            [o] = fetcher.fetch([Discovered(url, "inc")])
        reasons.append(o.skipped or o.record.reason)
    assert reasons == ["http-404", "http-404", "http-404", "gave-up"]
    assert len(server.requests("/missing")) == 3
    rec = state.get([url])[url]
    assert rec.gave_up and rec.failures == 3 and rec.reason == "http-404"

    slow = make_settings(failure_backoff=600.0)
    state2 = MemoryFetchState()
    with Fetcher(slow, state2, record_fetches=True) as fetcher:
        fetcher.fetch([Discovered(url, "inc")])
        [o] = fetcher.fetch([Discovered(url, "inc")])
    assert o.skipped == "backoff"
    first_retry = state2.get([url])[url].next_attempt_at - state2.log[0].fetched_at
    assert timedelta(seconds=590) < first_retry < timedelta(seconds=610)


def test_backoff_grows_and_success_resets_it(server) -> None:
    url = server.base(0) + "/article/2"
    failed = MemoryFetchState(
        [
            FetchRecord(
                url=url, source="inc", failures=2, reason="timeout", next_attempt_at=utcnow() - timedelta(seconds=1)
            )
        ]
    )
    with Fetcher(make_settings(), failed, record_fetches=True) as fetcher:
        [o] = fetcher.fetch([Discovered(url, "inc")])
    assert o.page is not None and o.record.failures == 0 and o.record.next_attempt_at is None
    # A 404 after two failures: back-off doubles twice.
    missing = server.base(0) + "/missing"
    state = MemoryFetchState([FetchRecord(url=missing, source="inc", failures=2, reason="http-404")])
    with Fetcher(make_settings(failure_backoff=100.0), state, record_fetches=True) as fetcher:
        [o] = fetcher.fetch([Discovered(missing, "inc")])
    delay = o.record.next_attempt_at - o.record.fetched_at
    assert o.record.failures == 3 and timedelta(seconds=399) < delay < timedelta(seconds=401)


def test_async_api_in_a_running_loop(server) -> None:
    async def main() -> list[str]:
        async with Fetcher(make_settings(), MemoryFetchState()) as fetcher:
            found = await fetcher.adiscover(SourceSpec(name="a", feeds=(server.base(0) + "/feed.xml",)))
            outcomes = await fetcher.afetch(found)
        return [o.page.url for o in outcomes if o.page is not None]  # tracking parameters dropped

    urls = asyncio.run(main())
    assert sorted(urls) == sorted(f"{server.base(0)}/article/{n}" for n in range(PAGES // 2))


def test_sync_fetcher_refuses_use_after_close(server) -> None:
    fetcher = Fetcher(make_settings(), MemoryFetchState())
    fetcher.fetch([Discovered(server.base(0) + "/article/0", "x")])
    fetcher.close()
    with pytest.raises(RuntimeError):
        fetcher.fetch([Discovered(server.base(0) + "/article/0", "x")])


def test_pipeline_mode_a_crash_before_storing_costs_a_refetch_not_the_article(server) -> None:
    """Default mode: fetch() writes nothing; the caller records after storing. A run that
    dies between fetch and store left no ETag behind, so the next run gets the page again."""
    state = MemoryFetchState()
    url = server.base(0) + "/article/4"
    with Fetcher(make_settings(), state) as fetcher:
        [o] = fetcher.fetch([Discovered(url, "inc")])
    assert o.page is not None and state.get([url]) == {}  # nothing written: "crash" here
    with Fetcher(make_settings(), state) as fetcher:
        [again] = fetcher.fetch([Discovered(url, "inc")])
        assert again.page is not None and again.page.body == o.page.body
        assert "if-none-match" not in server.requests("/article/4")[-1].headers
        state.record([replace(again.record, stored=True)])  # the store saved the article
        [third] = fetcher.fetch([Discovered(url, "inc")])
    assert third.skipped == "stored" and len(server.requests("/article/4")) == 2


def test_feed_validators_only_survive_a_clean_run(server) -> None:
    """A run that dies after discovery must not leave the feed's ETag behind: the next run
    would get a 304 and never see the URLs the dead run did not finish."""
    feed = SourceSpec(name="inc", feeds=(server.base(0) + "/feed.xml",))
    state = MemoryFetchState()
    with pytest.raises(RuntimeError):
        with Fetcher(make_settings(), state) as fetcher:
            assert len(fetcher.discover(feed)) == PAGES // 2
            raise RuntimeError("the run dies before fetching")
    assert state.get([server.base(0) + "/feed.xml"]) == {}
    with Fetcher(make_settings(), state) as fetcher:
        assert len(fetcher.discover(feed)) == PAGES // 2  # all found again
    assert "if-none-match" not in server.requests("/feed.xml")[-1].headers
    assert state.get([server.base(0) + "/feed.xml"])[server.base(0) + "/feed.xml"].etag
    with Fetcher(make_settings(), state) as fetcher:
        assert fetcher.discover(feed) == []  # clean run before: a conditional 304
    assert server.requests("/feed.xml")[-1].status == 304


def test_failed_urls_come_back_when_their_back_off_is_over(server) -> None:
    """A URL that failed is retried in a later run even though its feed answers 304 (lists
    nothing), once its back-off is over; then given up, with the reason kept."""
    base = server.base(0)
    feed_xml = base + "/feed.xml"
    state = MemoryFetchState()
    spec = SourceSpec(name="retry", feeds=(feed_xml,), urls=(base + "/missing",))
    quick = make_settings(failure_backoff=0.0, give_up_after=2)
    with Fetcher(quick, state, record_fetches=True) as fetcher:
        first = fetcher.fetch(fetcher.discover(spec))
    assert sorted(o.reason or "ok" for o in first).count("http-404") == 1
    # Next run: the URL list is gone from the config; the feed answers 304.
    later = SourceSpec(name="retry", feeds=(feed_xml,))
    with Fetcher(quick, state, record_fetches=True) as fetcher:
        found = fetcher.discover(later)
        assert [d.url for d in found] == [base + "/missing"]
        [o] = fetcher.fetch(found)
    assert server.requests("/feed.xml")[-1].status == 304
    assert o.reason == "http-404" and o.record.gave_up
    with Fetcher(quick, state, record_fetches=True) as fetcher:
        assert fetcher.discover(later) == []  # given up: not brought back
    assert len(server.requests("/missing")) == 2


def test_explicit_close_commits_and_can_run_inside_a_loop(server) -> None:
    state = MemoryFetchState()
    feed = server.base(0) + "/feed.xml"
    fetcher = Fetcher(make_settings(), state)
    assert fetcher.discover(SourceSpec(name="c", feeds=(feed,)))

    async def close_inside() -> None:  # sync close() called where a loop already runs
        fetcher.close()

    asyncio.run(close_inside())
    assert state.get([feed])[feed].etag  # a clean close commits the discovery records
