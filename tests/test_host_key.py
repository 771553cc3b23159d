"""One host key for every stage: two outlets on one address, different ports, stay two sites."""

from __future__ import annotations

import random

import pytest

from tests.test_dedup_core import Store, art, furniture, run, story, syndicate
from wiredesk.core.hosts import host_key
from wiredesk.core.records import RawPage
from wiredesk.dedup import Deduplicator, DedupSettings, host_of, open_index
from wiredesk.extractors import profile_host
from wiredesk.extractors.metadata import host_of as meta_host
from wiredesk.extractors.metadata import same_site

PORTS = (23001, 23002, 23003)


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://www.Example.com/a", "example.com"),
        ("http://example.com:80/a", "example.com"),
        ("https://example.com:443/a", "example.com"),
        ("http://example.com:443/a", "example.com:443"),
        ("http://127.0.0.2:23001/story", "127.0.0.2:23001"),
        ("http://[::1]:23002/x", "[::1]:23002"),
        ("https://example.com./", "example.com"),
        ("example.com:8080", "example.com:8080"),
        ("http://user:pw@example.com:8080/", "example.com:8080"),
        ("http://example.com:99999/", None),
        ("not a url", None),
        ("", None),
        (None, None),
    ],
)
def test_host_key(url, key):
    assert host_key(url) == key


def test_every_stage_uses_the_same_key():
    url_a, url_b = "http://127.0.0.2:23001/story/1", "http://127.0.0.2:23002/story/1"
    a = art("a", "text", url=url_a)
    page = RawPage(source="mockweb", body=b"", kind="html", url=url_a)
    assert host_of(a) == meta_host(url_a) == profile_host(page) == host_key(url_a) == "127.0.0.2:23001"
    assert not same_site(meta_host(url_a), meta_host(url_b))
    assert same_site(meta_host("http://m.x.example:8080/"), meta_host("http://x.example:8080/"))


def test_two_outlets_on_one_address_share_a_story_and_not_their_furniture():
    """Three outlets served from 127.0.0.2 on three ports, each with its own template, run
    their own stories and then wire copies of five shared ones. Keyed by address alone they
    looked like one site re-posting its own story, and every shared story split in three."""
    rng = random.Random(3)
    outlets = {port: furniture(rng) for port in PORTS}
    arts, truth = [], []
    for port, (head, foot) in outlets.items():
        for k in range(3):
            arts.append(art(f"own{k}-{port}", f"{head}\n{story(rng)}\n{foot}", url=f"http://127.0.0.2:{port}/own/{k}"))
            truth.append(f"own{k}-{port}")
    for k in range(5):
        text = story(rng)
        for j, (port, (head, foot)) in enumerate(outlets.items()):
            body = text if j == 0 else syndicate(text, rng)
            arts.append(art(f"s{k}-{port}", f"{head}\n{body}\n{foot}", url=f"http://127.0.0.2:{port}/story/{k}"))
            truth.append(f"story{k}")
    settings = DedupSettings()
    store = Store()
    with open_index("memory://", settings=settings) as index:
        dedup = Deduplicator(settings, index, store.lookup)
        for i in range(0, len(arts), 4):
            run(dedup, store, arts[i : i + 4])
    got: dict[str, set[str]] = {}
    for a, t in zip(arts, truth):
        got.setdefault(t, set()).add(store.rows[a.id].cluster_id)
    assert all(len(ids) == 1 for ids in got.values()), {t: ids for t, ids in got.items() if len(ids) > 1}
    assert len({store.rows[a.id].cluster_id for a in arts}) == len(got) == 9 + 5


def _outlet_page(port: int, title: str, paragraphs: list[str]) -> str:
    name = f"The Port {port} Courier"
    nav = "".join(f"<a href='/{s}'>{s.title()} at {name}</a> " for s in ("world", "business", "sports", "culture"))
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title} | {name}</title></head><body>"
        f"<header><div class='masthead'>{name}: news from the harbour district since 1921</div><nav>{nav}</nav></header>"
        f"<main><article><h1>{title}</h1>{body}</article></main>"
        f"<div class='promo'>Subscribe to {name} for unlimited reading, delivered every morning.</div>"
        f"<footer><p>Copyright 2026 {name}. All rights reserved.</p><p>Contact the {name} newsroom</p></footer>"
        "</body></html>"
    )


def test_outlets_on_one_address_through_the_pipeline(samples_dir, tmp_path):
    """The same three outlets as HTML pages through extraction (per-host profiles), dedup and
    the store: each outlet's profile is its own, and each shared story is one cluster."""
    from datetime import UTC, datetime

    from tests.pipeline_helpers import story_paragraphs
    from wiredesk.config import load_config
    from wiredesk.pipeline import batch as pipeline
    from wiredesk.pipeline.report import SourceTally
    from wiredesk.storage import open_store

    rng = random.Random(9)
    seeds = [story_paragraphs(p.read_text("utf-8")) for p in sorted((samples_dir / "seeds").glob("*.txt"))]
    pages, truth = [], {}
    for port in PORTS:
        for k in range(4):
            paras = [" ".join(rng.choice(story(rng).split()) for _ in range(40)).capitalize() + "." for _ in range(6)]
            url = f"http://127.0.0.2:{port}/own/{k}"
            pages.append((url, _outlet_page(port, f"Local item {k}", paras)))
            truth[url] = url
    for k, paras in enumerate(seeds):
        for j, port in enumerate(PORTS):
            copy = paras if j == 0 else ["(Wire) " + paras[0], *paras[1 : max(3, int(len(paras) * 0.75))]]
            url = f"http://127.0.0.2:{port}/story/{k}"
            pages.append((url, _outlet_page(port, f"Story {k}", copy)))
            truth[url] = f"story{k}"
    store_url = str(tmp_path / "db" / "wiredesk.db")
    config = load_config(environ={}).with_overrides(store={"url": store_url}, run={"workers": 1})
    when = datetime(2026, 11, 20, tzinfo=UTC)
    with pipeline.open_stages(config, run_id="r1") as stages:
        stages.store.begin_run("r1", flow="test", params={})
        for i in range(0, len(pages), 3):
            batch = [
                RawPage(source="mockweb", body=html.encode(), kind="html", url=url, fetched_at=when)
                for url, html in pages[i : i + 3]
            ]
            pipeline.ingest_pages(stages, batch, tally=SourceTally(source="mockweb"), named_source=True)
    with open_store(store_url) as st:
        rows = {r.article.url: r for r in st.iter_since(0)}
        profiles = st.load_profiles([f"127.0.0.2:{p}" for p in PORTS] + ["127.0.0.2"])
    assert sorted(profiles) == [f"127.0.0.2:{p}" for p in PORTS]
    got: dict[str, set[str]] = {}
    for url, want in truth.items():
        got.setdefault(want, set()).add(rows[url].cluster_id)
    assert all(len(ids) == 1 for ids in got.values()), {t: ids for t, ids in got.items() if len(ids) > 1}
    assert len({r.cluster_id for r in rows.values()}) == len(got) == 3 * 4 + len(seeds)
