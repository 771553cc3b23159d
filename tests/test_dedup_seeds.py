"""Issue 2, item 3 on the real seed pages: the five seeds (five articles on one topic) stay
apart; a syndicated copy of each (other site furniture, a wire dateline, trimmed ending,
straight quotes) joins its seed, within one batch and across runs."""

from __future__ import annotations

import json

from tests.conftest import TEST_DATA
from tests.test_dedup_core import Store, art
from wiredesk.dedup import Deduplicator, DedupSettings, open_index

SEEDS = TEST_DATA / "seeds"
OTHER_SITE_TOP = (
    "Home\nWorld\nPolitics\nBusiness\nSubscribe to our newsletter for the top stories of the "
    "day, delivered to your inbox every morning\nSign in\nSearch\n"
)
OTHER_SITE_BOTTOM = (
    "\nShare this article on Facebook Twitter and WhatsApp\nMore from the wire\nAbout us | "
    "Contact | Privacy policy | Terms of use\n(c) 2026 The Daily Example, all rights reserved"
)


def seeds() -> list[tuple[str, str, list[str]]]:
    labels = json.loads((SEEDS / "labels.json").read_text())
    out = []
    for name in sorted(labels):
        content = [line["text"] for line in labels[name] if line["label"] == "content"]
        out.append((name, (SEEDS / name).read_text(encoding="utf-8"), content))
    return out


def wire_copy(content: list[str]) -> str:
    paragraphs = content[: max(2, int(len(content) * 0.7))]  # the last paragraphs trimmed
    body = "\n".join(paragraphs)
    body = body.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'").replace("\u2018", "'")
    return OTHER_SITE_TOP + "WASHINGTON (Reuters) - " + body + OTHER_SITE_BOTTOM


def seed_articles():
    data = seeds()
    originals = [
        art(f"seed{k}", raw, url=f"https://seed{k}.example/story", published=f"2026-01-0{k + 1}T08:00:00Z")
        for k, (_, raw, _) in enumerate(data)
    ]
    copies = [
        art(
            f"copy{k}",
            wire_copy(content),
            url=f"https://wire{k}.example/story",
            published=f"2026-01-0{k + 1}T12:00:00Z",
        )
        for k, (_, _, content) in enumerate(data)
    ]
    return originals, copies


def check(store: Store) -> None:
    for k in range(5):
        seed, copy = store.rows[f"seed{k}"], store.rows[f"copy{k}"]
        assert seed.duplicate_of is None  # the original, published first, represents the cluster
        assert copy.cluster_id == seed.cluster_id and copy.duplicate_of == f"seed{k}"
        assert copy.similarity is not None and copy.similarity >= 0.7
    assert len({r.cluster_id for r in store.rows.values()}) == 5


def test_seeds_apart_copies_joined_in_one_batch():
    originals, copies = seed_articles()
    settings = DedupSettings()
    store = Store()
    with open_index("memory://", settings=settings) as index:
        dedup = Deduplicator(settings, index, store.lookup)
        batch = [a for pair in zip(copies, originals) for a in pair]  # copies first: order must not matter
        result = dedup.assign(batch)
        dedup.commit(store.write(batch, result))
    check(store)


def test_seeds_apart_copies_joined_across_runs(tmp_path):
    originals, copies = seed_articles()
    settings = DedupSettings()
    store = Store()
    for group in (originals, copies):
        with open_index(str(tmp_path / "seeds.dedup"), settings=settings) as index:
            dedup = Deduplicator(settings, index, store.lookup)
            result = dedup.assign(group)
            dedup.commit(store.write(group, result))
    check(store)
