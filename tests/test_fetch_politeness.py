"""Politeness as the server saw it: per-host concurrency, per-host start intervals,
global concurrency, robots.txt Crawl-delay, and Retry-After holding the whole host."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.fetchserver import FetchServer, Seen, make_settings
from tests.sent_times import by_occurrence, record_sends, spacing_faults
from wiredesk.fetching import Discovered, Fetcher, MemoryFetchState

# Timer slack on the gaps between the moments the fetcher's requests left (tests/sent_times.py:
# the server's arrival stamps run up to 0.2 s late on a loaded machine, so they are not what is
# checked), never an overrun.
JITTER = 0.05


def max_overlap(seen: list[Seen]) -> int:
    events = sorted([(s.start, 1) for s in seen] + [(s.end, -1) for s in seen], key=lambda e: (e[0], e[1]))
    active = peak = 0
    for _, step in events:
        active += step
        peak = max(peak, active)
    return peak


def spacing(
    server: FetchServer, sends: list[tuple[str, float]], site: int, interval: float, prefix: str = "/"
) -> list[str]:
    """What breaks ``interval`` between the requests to host ``site`` whose path starts with
    ``prefix``: the gaps between their headers-out moments, each paired with the server's stamp."""
    port = server.sites[site].server_address[1]
    seen = by_occurrence([(s.path, s.start) for s in server.requests(port=port) if s.path.startswith(prefix)])
    parts = [(urlsplit(url), at) for url, at in sends]
    sent = by_occurrence(
        [
            (p.path + (f"?{p.query}" if p.query else ""), at)
            for p, at in parts
            if p.port == port and p.path.startswith(prefix)
        ]
    )
    return spacing_faults(seen, sent, interval, JITTER)


@pytest.fixture()
def server():
    with FetchServer(hosts=3, pages=4) as srv:
        yield srv


def test_per_host_and_global_concurrency(server: FetchServer) -> None:
    """Each limit reached, never exceeded. The pages are held until the server has seen 2 at once
    on their host and 4 in all (tests/fetchserver.py ``hold_until``; a fetcher that never gets there
    is answered after 5 s and fails here), so that "reached" does not depend on a loaded machine
    running the fetcher's next request within a fixed sleep. A held page must not time out
    (a retry would be a ninth request): the read timeout is above the hold's bound."""
    server.hold_until(per_host=2, overall=4, bound_s=5.0)
    urls = [Discovered(f"{server.base(h)}/hold/60/{n}", "p") for n in range(8) for h in range(3)]
    settings = make_settings(per_host_concurrency=2, global_concurrency=4, read_timeout=10.0, total_timeout=20.0)
    with Fetcher(settings, MemoryFetchState()) as fetcher:
        outcomes = fetcher.fetch(urls)
    assert all(o.page is not None for o in outcomes)
    pages = [s for s in server.requests() if s.path.startswith("/hold/")]
    for site in server.sites:
        mine = [s for s in pages if s.port == site.server_address[1]]
        assert len(mine) == 8, [(s.path, s.status, s.start, s.end) for s in mine]
        assert max_overlap(mine) == 2  # reached, never exceeded
        assert max(s.active for s in mine) <= 2
    assert max_overlap(pages) == 4


def test_min_interval_between_request_starts(server: FetchServer, monkeypatch: pytest.MonkeyPatch) -> None:
    sends = record_sends(monkeypatch)
    urls = [Discovered(f"{server.base(h)}/article/{n}", "p") for n in range(3) for h in range(2)]
    with Fetcher(make_settings(per_host_concurrency=2, per_host_min_interval=0.25), MemoryFetchState()) as fetcher:
        fetcher.fetch(urls)
    for h, site in enumerate(server.sites[:2]):
        assert len(server.requests(port=site.server_address[1])) == 4  # robots.txt counts too
        assert spacing(server, sends, h, 0.25) == []


def test_crawl_delay_from_robots(server: FetchServer, monkeypatch: pytest.MonkeyPatch) -> None:
    server.robots_delay = 0.25
    sends = record_sends(monkeypatch)
    urls = [Discovered(f"{server.base(0)}/article/{n}", "p") for n in range(4)]
    with Fetcher(make_settings(per_host_concurrency=4), MemoryFetchState()) as fetcher:
        fetcher.fetch(urls)
    articles = [s for s in server.requests() if s.path.startswith("/article/")]
    assert len(articles) == 4 and spacing(server, sends, 0, 0.25, "/article/") == []


def test_retry_after_holds_every_request_to_that_host(server: FetchServer) -> None:
    base = server.base(1)
    urls = [Discovered(base + "/flaky/503/hold", "p")] + [Discovered(f"{base}/article/{n}", "p") for n in range(3)]
    with Fetcher(make_settings(per_host_concurrency=1), MemoryFetchState()) as fetcher:
        outcomes = fetcher.fetch(urls)
    assert all(o.page is not None for o in outcomes)
    log = server.requests(port=server.sites[1].server_address[1])
    refused = next(s for s in log if s.status == 503)
    after = [s for s in log if s.start > refused.start]
    assert len(after) == 4  # the retry and three articles
    assert all(s.start - refused.end >= 1.0 - JITTER for s in after)


@pytest.mark.parametrize("status, allowed", [(503, False), (404, True), (401, True)])
def test_robots_txt_status_rules(server: FetchServer, status: int, allowed: bool) -> None:
    """RFC 9309: robots.txt answering 4xx means no rules; 5xx means the host is off limits."""
    server.robots_status = status
    urls = [Discovered(f"{server.base(2)}/article/{n}", "p") for n in range(2)]
    with Fetcher(make_settings(), MemoryFetchState()) as fetcher:
        outcomes = fetcher.fetch(urls)
        again = fetcher.fetch(urls[:1])  # the answer is cached per host, not asked again
    assert [o.page is not None for o in outcomes] == [allowed, allowed]
    if not allowed:
        assert {o.skipped for o in outcomes + again} == {"robots-unreachable"}  # not "the site forbids us"
        assert "unreachable or 5xx" in outcomes[0].record.detail
    # Asked once, plus one retry of a 5xx (retries=1); then cached for the host.
    assert len(server.requests("/robots.txt")) == (1 if allowed else 2)
    assert len([s for s in server.requests() if s.path.startswith("/article/")]) == (3 if allowed else 0)


def test_one_failed_robots_txt_answer_is_retried(server: FetchServer) -> None:
    server.robots_status, server.robots_fail_once = 503, True
    with Fetcher(make_settings(), MemoryFetchState()) as fetcher:
        [o] = fetcher.fetch([Discovered(server.base(0) + "/article/1", "p")])
    assert o.page is not None
    assert [s.status for s in server.requests("/robots.txt")] == [503, 200]
