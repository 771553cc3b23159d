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
