"""Dedup stage: exact and near copies, briefs kept apart, representatives, cross-run memory."""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH

from wiredesk.core.records import Article, StoredArticle
from wiredesk.dedup import Deduplicator, DedupSettings, content_hash, normalize_text, open_index
from wiredesk.dedup.minhash import Signer
from wiredesk.dedup.text import shingle_hashes

WORDS = (
    "the a of to in and for on with by at from government minister said report market city "
    "police court election company officials people week year budget plan water energy school "
    "health river bridge council vote news team season player coach game law bill senate house "
    "border trade tax bank price oil gas farm storm fire train airport museum study data"
).split()


def story(rng: random.Random, paragraphs: int = 8, words: int = 60) -> str:
    return "\n".join(" ".join(rng.choice(WORDS) for _ in range(words)) + "." for _ in range(paragraphs))


class Store:
    """A real (in-memory) store: what the lead's store does with assignments and updates."""

    def __init__(self) -> None:
        self.rows: dict[str, StoredArticle] = {}
        self.seq = 0

    def lookup(self, ids):
        return {i: self.rows[i] for i in ids if i in self.rows}

    def write(self, articles, result) -> int:
        self.seq += 1
        for a, asg in zip(articles, result.assignments):
            self.rows[a.id] = StoredArticle(
                article=a,
                cluster_id=asg.cluster_id,
                duplicate_of=asg.duplicate_of,
                similarity=asg.similarity,
                seq=self.seq,
            )
        for u in result.updates:
            old = self.rows[u.article_id]
            self.rows[u.article_id] = StoredArticle(
                article=old.article,
                cluster_id=u.cluster_id,
                duplicate_of=u.duplicate_of,
                similarity=u.similarity,
                seq=self.seq,
            )
        return self.seq

    def since(self, seq: int):
        return sorted((r for r in self.rows.values() if r.seq > seq), key=lambda r: r.seq)


def art(aid: str, text: str, *, url: str | None = None, published: str | None = None, **kw) -> Article:
    return Article(
        id=aid,
        source="test",
        text=text,
        content_hash=content_hash(text),
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
        url=url,
        published=published,
        **kw,
    )


def run(dedup: Deduplicator, store: Store, articles):
    result = dedup.assign(articles)
    dedup.commit(store.write(articles, result))
    return result


def furniture(rng: random.Random) -> tuple[str, str]:
    head = " ".join(rng.choice(WORDS) for _ in range(40)) + " subscribe newsletter share facebook twitter"
    foot = "copyright all rights reserved " + " ".join(rng.choice(WORDS) for _ in range(60))
    return head, foot


def syndicate(text: str, rng: random.Random) -> str:
    """A wire copy: dateline, curly quotes, trailing paragraphs trimmed, a few words edited."""
    paras = text.split("\n")
    paras = paras[: max(1, int(len(paras) * 0.65))]
    words = " ".join(paras).split(" ")
    for _ in range(len(words) // 60):
        words[rng.randrange(len(words))] = "says"
    return "WASHINGTON (Reuters) \u2014 \u201c" + " ".join(words) + "\u201d Editing by Somebody"


@pytest.fixture
def env():
    settings = DedupSettings()
    index = open_index("memory://", settings=settings)
    store = Store()
    yield Deduplicator(settings, index, store.lookup), store
    index.close()


def test_normalize_and_hash_ignore_typography():
    a = "He said \u201cno\u201d \u2014 it\u2019s  over.\u00a0Done"
    b = 'he said "no" - it\'s over. done'
    assert normalize_text(a) == normalize_text(b)
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash(b + " more")


def test_signatures_match_datasketch_and_its_lsh_accepts_them():
    rng = random.Random(3)
    sh = shingle_hashes(normalize_text(story(rng)))
    signer = Signer(num_perm=128, seed=1)
    sig = signer.signature(sh)
    ref = MinHash(num_perm=128, seed=1, hashfunc=Signer.datasketch_hashfunc)
    for x in sh.tolist():  # datasketch's own per-item update loop
        ref.update(x)
    assert np.array_equal(ref.hashvalues, sig)
    lsh = MinHashLSH(threshold=0.3, num_perm=128)
    lsh.insert("doc", signer.to_datasketch(sig))
    assert lsh.query(ref) == ["doc"]


def test_exact_and_trimmed_copies_merge_distinct_stories_do_not(env):
    dedup, store = env
    rng = random.Random(1)
    s1, s2 = story(rng), story(rng)
    arts = [
        art("orig", s1, url="https://a.example/1", published="2026-01-01T10:00:00Z"),
        art("other", s2, url="https://b.example/2", published="2026-01-01T11:00:00Z"),
        art("copy", syndicate(s1, rng), url="https://c.example/3", published="2026-01-01T12:00:00Z"),
        art("same", s1.replace("the", "The"), url="https://d.example/4", published="2026-01-02T12:00:00Z"),
    ]
    res = run(dedup, store, arts)
    by = {a.article_id: a for a in res.assignments}
    assert by["orig"].kind == "new" and by["orig"].duplicate_of is None
    assert by["other"].kind == "new" and by["other"].cluster_id == "other"
    assert by["copy"].kind == "near" and by["copy"].duplicate_of == "orig"
    assert 0.7 <= by["copy"].similarity < 1.0
    assert by["same"].kind == "exact" and by["same"].similarity == 1.0
    assert by["copy"].cluster_id == by["same"].cluster_id == by["orig"].cluster_id == "orig"


def test_briefs_on_one_template_stay_apart(env):
    dedup, store = env
    rng = random.Random(2)
    head, foot = furniture(rng)
    briefs = [art(f"brief{i}", f"{head}\n{story(rng, 1, 70)}\n{foot}", url=f"https://t.example/b{i}") for i in range(5)]
    res = run(dedup, store, briefs)
    assert [a.kind for a in res.assignments] == ["new"] * 5
    # ... and the next run's briefs on that template too (furniture remembered across runs).
    later = [art(f"later{i}", f"{head}\n{story(rng, 1, 70)}\n{foot}", url=f"https://t.example/l{i}") for i in range(2)]
    res = run(dedup, store, later[:1])
    res2 = run(dedup, store, later[1:])
    assert res.assignments[0].kind == "new" and res2.assignments[0].kind == "new"


def test_copy_on_a_template_host_still_merges(env):
    """Furniture removal must not hide a real copy that sits among a host's template text."""
    dedup, store = env
    rng = random.Random(4)
    head, foot = furniture(rng)
    s1 = story(rng)
    first = [art(f"t{i}", f"{head}\n{story(rng)}\n{foot}", url=f"https://t.example/{i}") for i in range(3)]
    run(dedup, store, first + [art("orig", s1, url="https://o.example/x", published="2026-01-01T00:00:00Z")])
    res = run(
        dedup,
        store,
        [
            art(
                "copy",
                f"{head}\n{syndicate(s1, rng)}\n{foot}",
                url="https://t.example/c",
                published="2026-01-01T05:00:00Z",
            )
        ],
    )
    assert res.assignments[0].kind == "near" and res.assignments[0].duplicate_of == "orig"


def test_same_host_repost_merges(env):
    dedup, store = env
    rng = random.Random(5)
    head, foot = furniture(rng)
    others = [art(f"t{i}", f"{head}\n{story(rng)}\n{foot}", url=f"https://t.example/{i}") for i in range(3)]
    s1 = story(rng)
    run(dedup, store, others + [art("v1", f"{head}\n{s1}\n{foot}", url="https://t.example/v1")])
    res = run(
        dedup,
        store,
        [
            art(
                "v2",
                f"{head}\n{s1}\nUpdated with a new paragraph at the end of it all.\n{foot}",
                url="https://t.example/v2",
            )
        ],
    )
    assert res.assignments[0].kind == "near" and res.assignments[0].cluster_id == "v1"


def test_late_original_becomes_representative_and_copies_are_updated(env):
    dedup, store = env
    rng = random.Random(6)
    s1 = story(rng)
    run(
        dedup,
        store,
        [
            art(
                "copy1",
                syndicate(s1, rng),
                url="https://c.example/1",
                published="2026-01-02T00:00:00Z",
                names_original=True,
                original_url="https://o.example/story",
            )
        ],
    )
    res = run(dedup, store, [art("orig", s1, url="https://o.example/story", published="2026-01-01T00:00:00Z")])
    a = res.assignments[0]
    assert a.kind == "near" and a.duplicate_of is None and a.cluster_id == "copy1"
    assert [(u.article_id, u.duplicate_of, u.cluster_id) for u in res.updates] == [("copy1", "orig", "copy1")]
    assert store.rows["copy1"].duplicate_of == "orig"


def test_credited_original_beats_earlier_date(env):
    dedup, store = env
    rng = random.Random(7)
    s1 = story(rng)
    res = run(
        dedup,
        store,
        [
            art(
                "copy",
                syndicate(s1, rng),
                url="https://c.example/1",
                published="2026-01-01T00:00:00Z",
                canonical_url="https://o.example/story",
            ),
            art("orig", s1, url="https://o.example/story", published="2026-01-03T00:00:00Z"),
        ],
    )
    by = {a.article_id: a for a in res.assignments}
    assert by["orig"].duplicate_of is None and by["copy"].duplicate_of == "orig"


def test_cross_run_persistent_index_restart(tmp_path: Path):
    settings = DedupSettings()
    store = Store()
    rng = random.Random(8)
    s1 = story(rng)
    loc = str(tmp_path / "store.dedup")
    with open_index(loc, settings=settings) as index:
        run(Deduplicator(settings, index, store.lookup), store, [art("orig", s1, url="https://o.example/1")])
        assert index.last_seq() == 1
    with open_index(loc, settings=settings) as index:  # a new process: nothing rebuilt
        assert index.last_seq() == 1 and len(index) == 1
        res = run(
            Deduplicator(settings, index, store.lookup),
            store,
            [art("copy", syndicate(s1, rng), url="https://c.example/1")],
        )
        assert res.assignments[0].duplicate_of == "orig"


def test_reindex_catches_up_without_changing_verdicts(tmp_path: Path):
    settings = DedupSettings()
    store = Store()
    rng = random.Random(9)
    s1 = story(rng)
    loc = str(tmp_path / "x.dedup")
    with open_index(loc, settings=settings) as index:
        dedup = Deduplicator(settings, index, store.lookup)
        arts = [art("orig", s1, url="https://o.example/1"), art("copy", syndicate(s1, rng), url="https://c.example/1")]
        result = dedup.assign(arts)
        store.write(arts, result)  # the process dies before dedup.commit()
    with open_index(loc, settings=settings) as index:
        assert index.last_seq() == 0 and len(index) == 0
        dedup = Deduplicator(settings, index, store.lookup)
        dedup.reindex(store.since(index.last_seq()))
        assert index.last_seq() == 1 and len(index) == 2
        res = run(dedup, store, [art("copy2", syndicate(s1, rng), url="https://d.example/1")])
        assert res.assignments[0].cluster_id == "orig" and res.assignments[0].duplicate_of == "orig"
        assert store.rows["copy"].duplicate_of == "orig"


def test_window_limits_comparison(env):
    _, _ = env
    settings = DedupSettings(window_days=7)
    store = Store()
    rng = random.Random(10)
    s1 = story(rng)
    with open_index("memory://", settings=settings) as index:
        dedup = Deduplicator(settings, index, store.lookup)
        run(dedup, store, [art("old", s1, url="https://o.example/1", published="2025-01-01")])
        far = run(dedup, store, [art("far", s1 + " x", url="https://c.example/1", published="2025-03-01")])
        near = run(dedup, store, [art("near", s1 + " y", url="https://d.example/1", published="2025-01-03")])
    assert far.assignments[0].kind == "new"
    assert near.assignments[0].kind == "near" and near.assignments[0].duplicate_of == "old"


def test_lookup_is_the_truth(env):
    dedup, store = env
    rng = random.Random(11)
    s1 = story(rng)
    run(dedup, store, [art("orig", s1, url="https://o.example/1")])
    del store.rows["orig"]  # deleted from the store: the index entry must be ignored
    res = run(dedup, store, [art("copy", s1, url="https://c.example/1")])
    assert res.assignments[0].kind == "new"


def test_own_permutations_and_lsh_bands_equal_datasketch():
    from datasketch.lsh import _optimal_param

    from wiredesk.dedup.settings import lsh_bands

    for seed in (1, 42):
        a, b = MinHash(num_perm=128, seed=seed).permutations
        signer = Signer(num_perm=128, seed=seed)
        assert np.array_equal(a, signer._a) and np.array_equal(b, signer._b)
    for threshold in (0.3, 0.5, 0.8):
        assert lsh_bands(DedupSettings(lsh_threshold=threshold)) == _optimal_param(threshold, 128, 0.5, 0.5)


def test_batch_shingles_and_signatures_equal_per_text():
    from wiredesk.dedup.text import batch_shingles, shingle_sequence

    rng = random.Random(12)
    texts = [
        story(rng, 3),
        "",
        "tiny text",
        "\u201cCurly\u201d \u2014 quotes\u00a0and dashes \u00e9t\u00e9 ok go",
        "...",
    ]
    hashes, offsets = batch_shingles(texts)
    signer = Signer()
    sigs = signer.signatures(hashes, offsets)
    for k, text in enumerate(texts):
        assert np.array_equal(hashes[offsets[k] : offsets[k + 1]], shingle_sequence(text))
        assert np.array_equal(sigs[k], signer.signature(shingle_hashes(text)))
    assert offsets[2] == offsets[1]  # the empty text has no shingle
    assert offsets[3] - offsets[2] == 1  # a text shorter than one shingle is one shingle
    # Typography does not change shingles.
    assert np.array_equal(shingle_hashes(texts[3]), shingle_hashes(normalize_text(texts[3])))


def test_clean_copy_inside_a_page_full_of_site_text(env):
    """A page that kept sidebars (3x the story's length) still matches a clean copy: its
    Jaccard similarity is far below the LSH threshold, its containment is not."""
    dedup, store = env
    rng = random.Random(13)
    s1 = story(rng, 4)
    sidebar = story(rng, 12)
    res = run(
        dedup,
        store,
        [
            art(
                "big",
                f"{sidebar}\n{s1}\n{story(rng, 4)}",
                url="https://big.example/1",
                published="2026-01-01T00:00:00Z",
            )
        ],
    )
    res = run(
        dedup,
        store,
        [art("clean", syndicate(s1, rng), url="https://clean.example/1", published="2026-01-02T00:00:00Z")],
    )
    assert res.assignments[0].kind == "near" and res.assignments[0].duplicate_of == "big"


def test_template_pages_of_a_new_host_stay_apart_across_batches(env):
    """One page per batch from a host with a heavy template: no furniture counts yet when the
    second arrives, and still no merge; later, a real copy on that host is found."""
    dedup, store = env
    rng = random.Random(14)
    head, foot = furniture(rng)
    head, foot = head + " " + story(rng, 2), foot + " " + story(rng, 2)  # template >> brief
    res1 = run(dedup, store, [art("p1", f"{head}\n{story(rng, 1, 40)}\n{foot}", url="https://t.example/1")])
    res2 = run(dedup, store, [art("p2", f"{head}\n{story(rng, 1, 40)}\n{foot}", url="https://t.example/2")])
    assert res1.assignments[0].kind == res2.assignments[0].kind == "new"
    s1 = story(rng)
    run(dedup, store, [art("orig", s1, url="https://o.example/1", published="2026-01-01T00:00:00Z")])
    res3 = run(
        dedup,
        store,
        [
            art(
                "p3",
                f"{head}\n{syndicate(s1, rng)}\n{foot}",
                url="https://t.example/3",
                published="2026-01-02T00:00:00Z",
            )
        ],
    )
    assert res3.assignments[0].duplicate_of == "orig"


def test_furniture_only_pages_are_not_exact_copies(env):
    """Two pages whose extraction kept only the site's furniture have equal text; a third page
    of the host shows that text is furniture, so they are not copies of each other."""
    dedup, store = env
    rng = random.Random(15)
    head, foot = furniture(rng)
    junk = f"{head}\n{foot}"
    run(
        dedup,
        store,
        [
            art("j1", junk, url="https://t.example/1"),
            art("real", f"{head}\n{story(rng)}\n{foot}", url="https://t.example/2"),
        ],
    )
    res = run(dedup, store, [art("j2", junk, url="https://t.example/3")])
    assert res.assignments[0].kind == "new" and res.assignments[0].cluster_id == "j2"


def test_local_index_segments_flush_compact_and_reopen(tmp_path: Path, monkeypatch):
    """The on-disk band segments: delta flushes, merges, survives a restart, drops orphans."""
    import wiredesk.dedup.local as local

    monkeypatch.setattr(local, "FLUSH_ROWS", 300)
    monkeypatch.setattr(local, "DIRECT_SEGMENT_ROWS", 10_000)
    settings = DedupSettings()
    store = Store()
    rng = random.Random(16)
    stories = [story(rng, 6) for _ in range(12)]
    loc = tmp_path / "idx.dedup"
    with open_index(str(loc), settings=settings) as index:
        dedup = Deduplicator(settings, index, store.lookup)
        for k, s in enumerate(stories):
            run(dedup, store, [art(f"s{k}", s, url=f"https://h{k}.example/x")])
        assert len(index._segments) >= 1 and len(index._segments) <= 3
    orphan = loc / "seg-deadbeefdeadbeef.keys.npy"  # a crash between writing a segment and committing it
    orphan.write_bytes(b"orphan")
    os.utime(orphan, (time.time() - 3600, time.time() - 3600))
    with open_index(str(loc), settings=settings) as index:
        assert not (loc / "seg-deadbeefdeadbeef.keys.npy").exists()
        assert len(index) == 12 and index.last_seq() == 12
        dedup = Deduplicator(settings, index, store.lookup)
        res = run(
            dedup,
            store,
            [art(f"c{k}", syndicate(s, rng), url=f"https://c{k}.example/x") for k, s in enumerate(stories)],
        )
        assert [a.duplicate_of for a in res.assignments] == [f"s{k}" for k in range(12)]


def test_a_big_cluster_is_not_read_back_for_every_new_copy(env):
    """A story with many stored copies: a new copy is verified against a few of them and the
    cluster's representative, not against (or by reading) every member."""
    dedup, store = env
    rng = random.Random(17)
    s1 = story(rng)
    run(dedup, store, [art("orig", s1, url="https://o.example/0", published="2026-01-01T00:00:00Z")])
    run(
        dedup,
        store,
        [
            art(f"c{k}", syndicate(s1, rng), url=f"https://c{k}.example/x", published="2026-01-02T00:00:00Z")
            for k in range(30)
        ],
    )
    asked: list[str] = []
    real = store.lookup
    dedup.lookup = lambda ids: (asked.extend(ids), real(ids))[1]
    res = run(
        dedup, store, [art("late", syndicate(s1, rng), url="https://late.example/x", published="2026-01-03T00:00:00Z")]
    )
    assert res.assignments[0].duplicate_of == "orig" and res.assignments[0].cluster_id == "orig"
    assert len(set(asked)) <= dedup.settings.max_per_cluster + 1 and not res.updates


def test_a_teaser_left_in_a_page_does_not_pull_its_story_into_that_cluster(env):
    dedup, store = env
    rng = random.Random(18)
    s1, brief = story(rng, 12), story(rng, 1, 150)
    run(
        dedup,
        store,
        [
            art("orig", s1, url="https://o.example/1", published="2026-01-01T00:00:00Z"),
            # A copy of s1 whose extraction kept a teaser: the brief's text.
            art(
                "copy",
                f"LONDON (AP) - {s1}\nRelated: {brief}",
                url="https://c.example/1",
                published="2026-01-01T06:00:00Z",
            ),
        ],
    )
    assert store.rows["copy"].duplicate_of == "orig"
    res = run(dedup, store, [art("brief", brief, url="https://b.example/1", published="2026-01-02T00:00:00Z")])
    assert res.assignments[0].kind == "new" and res.assignments[0].cluster_id == "brief"


def test_an_undated_complete_original_beats_a_dated_trimmed_copy(env):
    """No date on one member is not "latest": the dates do not decide, completeness does."""
    dedup, store = env
    rng = random.Random(19)
    s1 = story(rng)
    res = run(
        dedup,
        store,
        [
            art("copy", syndicate(s1, rng), url="https://c.example/1", published="2026-01-01"),
            art("orig", s1, url="https://o.example/1"),
        ],
    )
    by = {a.article_id: a for a in res.assignments}
    assert by["orig"].duplicate_of is None and by["copy"].duplicate_of == "orig"


def test_fenced_segment_lookup_equals_a_binary_search(monkeypatch):
    import wiredesk.dedup.local as local

    monkeypatch.setattr(local, "FENCE", 4)  # small blocks: many keys straddle block edges
    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(1, 60))
        keys = np.sort(rng.integers(0, 12, size=n).astype(np.uint64))
        seg = local._Segment("t", keys, np.arange(n, dtype=np.int32), np.ascontiguousarray(keys[::4]))
        q = rng.integers(0, 14, size=10).astype(np.uint64)
        lo, hi = seg.lookup(q)
        assert np.array_equal(lo, np.searchsorted(keys, q, "left"))
        assert np.array_equal(hi, np.searchsorted(keys, q, "right"))


def test_two_processes_on_one_local_index_see_each_other(tmp_path: Path):
    """Two writers on one local index, one batch at a time (the store's writer lock): each
    batch starts from what the other committed, including flushed segments."""
    settings = DedupSettings()
    store = Store()
    rng = random.Random(20)
    loc = str(tmp_path / "shared.dedup")
    with open_index(loc, settings=settings) as a, open_index(loc, settings=settings) as b:
        da, db = Deduplicator(settings, a, store.lookup), Deduplicator(settings, b, store.lookup)
        stories = [story(rng) for _ in range(6)]
        for k, s in enumerate(stories):
            writer, reader = (da, db) if k % 2 == 0 else (db, da)
            run(writer, store, [art(f"s{k}", s, url=f"https://o{k}.example/x")])
            res = run(reader, store, [art(f"c{k}", syndicate(s, rng), url=f"https://c{k}.example/x")])
            assert res.assignments[0].duplicate_of == f"s{k}", k
            if k == 2:  # force a segment flush in one of them
                a._flush_delta()
        assert a.last_seq() == b.last_seq() == 12


def test_host_memory_keeps_furniture_learned_from_documents_that_left_the_sample():
    from wiredesk.dedup.hosts import FurnitureView, HostState, RecentDoc

    template = np.arange(100, 200, dtype=np.uint64)
    state = HostState(host="t.example")
    for k in range(6):  # six articles (clusters) on one template; the sample keeps three
        own = np.arange(1000 * (k + 1), 1000 * (k + 1) + 50, dtype=np.uint64)
        state.add(RecentDoc(f"a{k}", f"c{k}", np.union1d(template, own)), sample=3, max_furniture=1000)
    assert [r.article_id for r in state.recent] == ["a3", "a4", "a5"]
    assert np.array_equal(state.furniture, template)
    restored = HostState.from_bytes(state.to_bytes())
    new = np.union1d(template, np.arange(9000, 9050, dtype=np.uint64))
    assert np.array_equal(FurnitureView(restored, []).strip(new, ("g:new",)), np.arange(9000, 9050, dtype=np.uint64))
    # A re-post (same cluster) is not evidence: its story does not become furniture.
    story5 = np.arange(6000, 6050, dtype=np.uint64)  # a5's own text
    state.add(RecentDoc("a5b", "c5", np.union1d(template, story5)), sample=3, max_furniture=1000)
    for k in (6, 7):  # a5 leaves the sample while its re-post a5b is still in it
        state.add(
            RecentDoc(
                f"a{k}", f"c{k}", np.union1d(template, np.arange(1000 * (k + 1), 1000 * (k + 1) + 50, dtype=np.uint64))
            ),
            sample=3,
            max_furniture=1000,
        )
    assert [r.article_id for r in state.recent] == ["a5b", "a6", "a7"]
    assert not np.isin(story5, state.furniture).any()


def test_abort_forgets_the_batch(env):
    dedup, store = env
    rng = random.Random(21)
    s1 = story(rng)
    dedup.assign([art("lost", s1, url="https://o.example/1")])
    dedup.abort()  # the store write failed
    res = run(dedup, store, [art("again", s1, url="https://o.example/2")])
    assert res.assignments[0].kind == "new" and len(dedup.index) == 1
