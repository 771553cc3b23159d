"""The fetch stage against a real nginx serving static sites the way generators emit them
(tests/realsite.py): slash redirects, gzip + ETags, robots.txt with wildcards and
Crawl-delay, sitemap index, RSS, listing pages of every kind, JSON-LD and OpenGraph.

nginx is the Debian package; scripts/services.sh installs it (as root). Missing, the tests
skip, or fail under WIREDESK_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from protego import Protego

from tests.realsite import CRAWL_DELAY, Nginx, Site, build_sites, free_ports, nginx_binary
from tests.sent_times import by_occurrence, record_sends, spacing_faults
from tests.services import services_required
from wiredesk.extractors import extract_page
from wiredesk.fetching import Fetcher, FetchOutcome, FetchSettings, MemoryFetchState, SourceSpec, canonicalize_url

AGENT = "wiredesk-test/1.0"


@pytest.fixture(scope="module")
def realsites(tmp_path_factory: pytest.TempPathFactory):
    if nginx_binary() is None:
        message = "nginx is not installed (scripts/services.sh installs it as root)"
        if services_required():
            pytest.fail(message + " and WIREDESK_REQUIRE_SERVICES=1", pytrace=False)
        pytest.skip(message)
    root = tmp_path_factory.mktemp("realsites")
    sites = build_sites(root / "www", free_ports(2))
    with Nginx(sites, root / "nginx") as server:
        yield sites, server


def settings() -> FetchSettings:
    # Production politeness except the 1 s default interval: robots.txt's Crawl-delay sets it.
    return FetchSettings(
        allow_private=("127.0.0.1",), per_host_min_interval=0.0, user_agent=AGENT, retries=0, total_timeout=20
    )


def crawl(state: MemoryFetchState, sites: dict[str, Site]) -> dict[str, list[FetchOutcome]]:
    """What wiredesk.pipeline.sources.run_web_source does for each site, minus extraction: discover, fetch, then the
    links of listing pages until there are none; pages are marked stored."""
    out: dict[str, list[FetchOutcome]] = {}
    with Fetcher(settings(), state, record_fetches=True) as fetcher:
        for name, site in sites.items():
            spec = SourceSpec(name=name, sites=(site.base + "/",))
            report = fetcher.discover_report(spec)
            outcomes = list(report.documents) + fetcher.fetch(report.items)
            while more := fetcher.more_links(name):
                outcomes += fetcher.fetch(more)
            state.mark_stored(o.record.url for o in outcomes if o.page is not None)
            out[name] = outcomes
    return out


@pytest.fixture(scope="module")
def first_run_sends() -> list[tuple[str, float]]:
    """(URL, when its headers were out) of every request of ``first_run`` (tests/sent_times.py)."""
    return []


@pytest.fixture(scope="module")
def first_run(realsites, first_run_sends):
    sites, server = realsites
    server.clear_log()
    state = MemoryFetchState()
    with pytest.MonkeyPatch.context() as patch:
        sends = record_sends(patch)
        outcomes = crawl(state, sites)
    first_run_sends.extend(sends)
    return state, outcomes, server.log()


def sent_by_occurrence(sends: list[tuple[str, float]], port: int) -> dict[tuple[str, int], float]:
    """The sends to ``port``, keyed as ``by_occurrence`` keys nginx's lines (path and query)."""
    from urllib.parse import urlsplit

    parts = [(urlsplit(url), at) for url, at in sends]
    return by_occurrence([(p.path + (f"?{p.query}" if p.query else ""), at) for p, at in parts if p.port == port])


def _article_urls(site: Site) -> set[str]:
    return {site.url(s.path) for s in site.stories}


def test_every_article_stored_once_with_its_own_url(realsites, first_run) -> None:
    sites, _ = realsites
    _, outcomes, _ = first_run
    for name, site in sites.items():
        pages = [o.page.url for o in outcomes[name] if o.page is not None]
        assert Counter(pages) == Counter(_article_urls(site)), name
        reasons = Counter(o.reason for o in outcomes[name] if o.page is None)
        assert not set(reasons) - {"not-article", "robots", None}, reasons


def test_listing_pages_are_followed_never_stored(realsites, first_run) -> None:
    sites, _ = realsites
    _, outcomes, _ = first_run
    for name, site in sites.items():
        listed = {o.record.url for o in outcomes[name] if o.skipped == "not-article"}
        # The home page is read by discovery (for its feeds and links); every other
        # listing was fetched as a candidate and recognised.
        expected = {canonicalize_url(site.url(p)) for p in site.listings if p != "/"}
        assert listed == expected, name


def test_robots_rules_and_crawl_delay_kept(realsites, first_run, first_run_sends) -> None:
    """Crawl-delay is checked on the gaps between the moments the fetcher's requests left, each
    paired with nginx's line for it (tests/sent_times.py): nginx's own stamps run late under load
    (this test failed once at load ~13 on them)."""
    sites, _ = realsites
    _, outcomes, log = first_run
    ours = [line for line in log if line.agent == AGENT]
    assert ours, "no requests reached nginx"
    for site in sites.values():
        robots = Protego.parse((site.root / "robots.txt").read_text())
        mine = [line for line in ours if line.port == site.port]
        violations = [line.uri for line in mine if not robots.can_fetch(site.url(line.uri), AGENT)]
        assert violations == []
        seen = by_occurrence([(line.uri, line.started) for line in mine])
        sent = sent_by_occurrence(first_run_sends, site.port)
        assert spacing_faults(seen, sent, CRAWL_DELAY, CRAWL_DELAY * 0.2) == [], site.name
    skipped = {o.record.url for o in outcomes["ledger"] if o.skipped == "robots"}
    assert {canonicalize_url(sites["ledger"].url(p)) for p in sites["ledger"].disallowed} == skipped


def test_author_and_date_as_the_page_states_them(realsites, first_run) -> None:
    sites, _ = realsites
    _, outcomes, _ = first_run
    truth = {site.url(s.path): s for site in sites.values() for s in site.stories}
    wrong = []
    for name in sites:
        for o in outcomes[name]:
            if o.page is None:
                continue
            story = truth[o.page.url]
            got = extract_page(o.page)
            published = datetime.fromisoformat(got.published) if got.published else None
            if got.author != story.author or published != story.published:
                wrong.append((o.page.url, got.author, got.published))
            if story.original is not None:
                assert got.names_original and got.original_url == sites["ledger"].url(story.original)
    assert wrong == []


def test_slash_redirect_costs_one_hop(realsites) -> None:
    sites, server = realsites
    story = sites["ledger"].stories[2]
    slashless = sites["ledger"].url(story.path.rstrip("/"))
    server.clear_log()
    with Fetcher(settings(), MemoryFetchState()) as fetcher:
        [outcome] = fetcher.fetch([slashless + "?utm_source=newsletter#comments"])
    assert outcome.reason is None and outcome.page is not None
    assert outcome.page.url == sites["ledger"].url(story.path)  # its own URL, tracking dropped
    assert outcome.record.url == canonicalize_url(slashless)  # the identity key
    assert outcome.record.detail == f"redirected to {sites['ledger'].url(story.path)}?utm_source=newsletter"
    uris = [line.uri for line in server.log() if line.uri != "/robots.txt"]
    assert uris == [story.path.rstrip("/") + "?utm_source=newsletter", story.path + "?utm_source=newsletter"]


def test_second_run_is_conditional_and_stores_nothing(realsites, first_run) -> None:
    sites, server = realsites
    state, _, _ = first_run
    server.clear_log()
    again = crawl(state, sites)
    log = [line for line in server.log() if line.agent == AGENT and line.status != 301]
    assert [o.page.url for outcomes in again.values() for o in outcomes if o.page is not None] == []
    assert not any(line.path == "/robots.txt" for line in log)  # cached for its lifetime
    articles = {s.path for site in sites.values() for s in site.stories}
    assert not any(line.path in articles for line in log)  # stored and unchanged: not asked
    # Home pages, feeds, sitemap indexes: asked conditionally, unchanged, so nothing below
    # them is asked at all (the home page's feed links come from the store's note).
    assert sorted(line.path for line in log) == sorted(["/", "/index.xml", "/sitemap.xml"] * len(sites))
    assert all(line.conditional and line.status == 304 for line in log), log


def test_pipeline_stores_articles_and_credited_originals_represent(realsites, tmp_path: Path) -> None:
    """The pipeline's own web steps (wiredesk.pipeline.sources, no Prefect) into a SQLite store: copies first, originals later, and still the originals
    represent their clusters; no listing page stored; robots.txt kept in the store."""
    from wiredesk.config import load_config
    from wiredesk.fetching import Fetcher
    from wiredesk.pipeline import batch as pipeline
    from wiredesk.pipeline import sources as web
    from wiredesk.pipeline.report import SourceTally

    sites, _ = realsites
    config = load_config(environ={}).with_overrides(
        store={"url": str(tmp_path / "w.db")},
        run={"workers": 1},
        fetch={"allow_private": ["127.0.0.1"], "per_host_min_interval": 0.0, "user_agent": AGENT},
    )
    with pipeline.open_stages(config, run_id="r1") as stages:
        stages.store.begin_run("r1", flow="test", params={})
        for name in ("wire", "ledger"):  # the copies arrive before their originals
            tally = SourceTally(source=name)
            with Fetcher(web.fetch_settings(stages), stages.store) as fetcher:
                spec = SourceSpec(name=name, sites=(sites[name].base + "/",))
                items = web.discover(fetcher, spec, tally)
                tally.merge(web.fetch_batch(stages, fetcher, items))
                while more := fetcher.more_links(name):
                    tally.merge(web.fetch_batch(stages, fetcher, more))
            assert tally.skipped["not-article"] == len(sites[name].listings) - 1, tally.skipped
        stored = {s.article.url: s for s in stages.store.iter_since(0)}
        assert set(stored) == _article_urls(sites["ledger"]) | _article_urls(sites["wire"])
        for story in sites["wire"].stories:
            if story.original is None:
                continue
            copy, original = stored[sites["wire"].url(story.path)], stored[sites["ledger"].url(story.original)]
            assert original.duplicate_of is None and copy.duplicate_of == original.id
            assert copy.cluster_id == original.cluster_id
        robots = stages.store.load_note("robots " + sites["ledger"].base)
        assert robots is not None and "Crawl-delay" in robots[0]


def test_a_run_crawls_both_sites_at_once_each_within_its_crawl_delay(
    realsites, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole run (wiredesk.pipeline.run_ingest, no Prefect) over the two sites as two sources:
    nginx saw both hosts' requests overlap in time, and each host's Crawl-delay kept (the gaps
    between the moments the fetcher's requests left, each paired with nginx's line for it: see
    tests/sent_times.py); every article is stored once, whichever source's copy arrived first."""
    import json

    from wiredesk.config import load_config
    from wiredesk.pipeline.run import run_ingest

    sites, server = realsites
    server.clear_log()
    fetch = {"allow_private": ["127.0.0.1"], "per_host_min_interval": 0.0, "user_agent": AGENT}
    config = tmp_path / "wiredesk.yaml"
    config.write_text(
        f"store: {{url: {tmp_path / 'w.db'}}}\nrun: {{workers: 1}}\nfetch: {json.dumps(fetch)}\nsources:\n"
        + "".join(f"  - {{name: {name}, sites: ['{site.base}/']}}\n" for name, site in sites.items())
    )
    sends = record_sends(monkeypatch)
    summary, _ = run_ingest(load_config(config, environ={}), export=False)
    log = [line for line in server.log() if line.agent == AGENT]
    rows = {row["source"]: row for row in summary["sources"]}
    spans = []
    for name, site in sites.items():
        row = rows[name]
        assert row["fetched"] == len(site.stories) and row["status"] == "ok", row
        assert row["skipped"].get("not-article") == len(site.listings) - 1, row
        mine = sorted((line for line in log if line.port == site.port), key=lambda line: line.started)
        seen = by_occurrence([(line.uri, line.started) for line in mine])
        sent = sent_by_occurrence(sends, site.port)
        assert spacing_faults(seen, sent, CRAWL_DELAY, CRAWL_DELAY * 0.2) == [], name
        spans.append((mine[0].started, mine[-1].at))
    assert max(start for start, _ in spans) < min(end for _, end in spans)  # the two hosts at once
    stories = sum(len(site.stories) for site in sites.values())
    copies = sum(1 for s in sites["wire"].stories if s.original is not None)
    assert summary["stored"] == stories - copies
    assert summary["near_duplicates"] + summary["exact_duplicates"] == copies
