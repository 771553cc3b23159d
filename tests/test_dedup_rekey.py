"""A stored article whose text changes is re-keyed in every index backend: copies of the new
text find it, copies of the old text no longer do."""

from __future__ import annotations

import random
import uuid

import numpy as np
import pytest

from tests.services import require_postgres, require_redis
from tests.test_dedup_core import Store, art, run, story, syndicate
from wiredesk.dedup import Deduplicator, DedupSettings, open_index


@pytest.fixture(params=["local", "memory", "redis", "postgresql"])
def location(request, tmp_path):
    if request.param == "local":
        yield str(tmp_path / "index")
        return
    if request.param == "memory":
        yield "memory://"
        return
    base = require_redis() if request.param == "redis" else require_postgres()
    loc = f"{base}{'&' if '?' in base else '?'}prefix=wdrekey_{uuid.uuid4().hex[:10]}"
    yield loc
    with open_index(loc, settings=DedupSettings()) as index:
        index.drop()


def test_changed_article_is_rekeyed(location):
    settings = DedupSettings()
    store = Store()
    rng = random.Random(7)
    old_text, new_text = story(rng), story(rng)
    index = open_index(location, settings=settings)
    try:
        dedup = Deduplicator(settings, index, store.lookup)
        run(
            dedup,
            store,
            [art("a", old_text, url="https://a.example/1"), art("x", story(rng), url="https://x.example/")],
        )
        # The same article (same id) stored again with another text.
        changed = run(dedup, store, [art("a", new_text, url="https://a.example/1")])
        assert changed.assignments[0].kind == "new"
        assert len(index) == 2
        info = index.docs(["a"])["a"]
        assert info.content_hash == store.rows["a"].article.content_hash
        assert index.exact([info.content_hash]) == {info.content_hash: ["a"]}
        # The host's furniture memory holds the article once, with its new text.
        recent = index.hosts(["a.example"])["a.example"].recent
        assert [r.article_id for r in recent] == ["a"]
        assert np.array_equal(recent[0].shingles, np.unique(dedup.shingles(new_text)))
        # A later process (the same index in memory): copies of the new text join "a",
        # copies of the old text do not.
        if location != "memory://":
            index.close()
            index = open_index(location, settings=settings)
            dedup = Deduplicator(settings, index, store.lookup)
        new_copy = art("new-copy", syndicate(new_text, rng), url="https://b.example/1")
        old_copy = art("old-copy", syndicate(old_text, rng), url="https://c.example/1")
        old_exact = art("old-exact", old_text, url="https://d.example/1")
        res = run(dedup, store, [new_copy, old_copy, old_exact])
        verdicts = [(a.kind, a.duplicate_of, a.cluster_id) for a in res.assignments]
        assert verdicts[0] == ("near", "a", "a")
        # The two copies of the old text find each other, not "a".
        assert verdicts[1] == ("new", None, "old-copy") or verdicts[1][2] != "a"
        assert verdicts[2][2] != "a" and verdicts[2][1] != "a"
        assert "a" not in index.candidates(dedup.keys(dedup.shingles(old_text)))
        assert "a" in index.candidates(dedup.keys(dedup.shingles(new_text)))
    finally:
        index.close()


def test_reindex_rekeys_an_article_another_process_changed(tmp_path):
    settings = DedupSettings()
    store = Store()
    rng = random.Random(8)
    old_text, new_text = story(rng), story(rng)
    location = str(tmp_path / "index")
    with open_index(location, settings=settings) as index:
        run(Deduplicator(settings, index, store.lookup), store, [art("a", old_text, url="https://a.example/1")])
    # Another writer, with its own index, stored the changed text; ours catches up from the store.
    other = Deduplicator(settings, open_index("memory://", settings=settings), store.lookup)
    run(other, store, [art("a", new_text, url="https://a.example/1")])
    with open_index(location, settings=settings) as index:
        dedup = Deduplicator(settings, index, store.lookup)
        dedup.reindex(store.since(index.last_seq()))
        assert index.docs(["a"])["a"].content_hash == store.rows["a"].article.content_hash
        assert "a" not in index.candidates(dedup.keys(dedup.shingles(old_text)))
        assert "a" in index.candidates(dedup.keys(dedup.shingles(new_text)))


def test_a_representative_whose_text_changed_leaves_its_copies_a_new_one(tmp_path):
    """ "a" was the original of a story with two copies; its page now carries another story.
    The copies keep their cluster, with a representative among themselves; "a" gets a
    cluster of its own (not the story's id, which the copies still hold)."""
    settings = DedupSettings()
    store = Store()
    rng = random.Random(12)
    old_text, new_text = story(rng), story(rng)
    with open_index(str(tmp_path / "index"), settings=settings) as index:
        dedup = Deduplicator(settings, index, store.lookup)
        run(dedup, store, [art("a", old_text, url="https://a.example/1", published="2026-11-01")])
        run(
            dedup,
            store,
            [
                art("c1", syndicate(old_text, rng), url="https://c1.example/1", published="2026-11-02"),
                art("c2", old_text, url="https://c2.example/1", published="2026-11-03"),
            ],
        )
        assert {k: (r.cluster_id, r.duplicate_of) for k, r in store.rows.items()} == {
            "a": ("a", None),
            "c1": ("a", "a"),
            "c2": ("a", "a"),
        }
        res = run(dedup, store, [art("a", new_text, url="https://a.example/1", published="2026-11-05")])
        (mine,) = res.assignments
        assert mine.kind == "new" and mine.duplicate_of is None and mine.cluster_id != "a"
        rows = {k: (r.cluster_id, r.duplicate_of) for k, r in store.rows.items()}
        # The copies keep the story's cluster; the earliest of them (c1) now represents it.
        assert rows["a"] == (mine.cluster_id, None)
        assert rows["c1"] == ("a", None) and rows["c2"] == ("a", "c1")
        reps = ["c1"]
        assert sorted(index.members(["a"])["a"]) == ["c1", "c2"]
        assert index.members([mine.cluster_id])[mine.cluster_id] == ["a"]
        # A later copy of the old story joins the copies' cluster, not "a".
        again = run(dedup, store, [art("c3", syndicate(old_text, rng), url="https://c3.example/1")])
        assert again.assignments[0].cluster_id == "a" and again.assignments[0].duplicate_of == reps[0]


def test_local_flush_and_compaction_drop_a_rekeyed_articles_old_keys(tmp_path, monkeypatch):
    """In the local index the old keys of a re-keyed article first stay in the immutable
    segments, resolving to no document; the next flush or compaction leaves them out."""
    import wiredesk.dedup.local as local

    monkeypatch.setattr(local, "FLUSH_ROWS", 300)
    monkeypatch.setattr(local, "DIRECT_SEGMENT_ROWS", 10_000)
    settings = DedupSettings()
    store = Store()
    rng = random.Random(21)
    with open_index(str(tmp_path / "index"), settings=settings) as index:
        dedup = Deduplicator(settings, index, store.lookup)
        run(dedup, store, [art("a", story(rng), url="https://a.example/1")])
        old_row = index._db.execute("SELECT row FROM docs WHERE article_id = 'a'").fetchone()[0]
        run(dedup, store, [art("a", story(rng), url="https://a.example/1")])  # changed: re-keyed
        for k in range(12):  # enough keys for flushes and compactions
            run(dedup, store, [art(f"s{k}", story(rng), url=f"https://h{k}.example/x")])
        postings = np.concatenate([np.asarray(seg.rows) for seg in (*index._segments, *index._delta)])
        new_row = index._db.execute("SELECT row FROM docs WHERE article_id = 'a'").fetchone()[0]
        assert old_row not in postings and new_row in postings
        assert len(index) == 13
