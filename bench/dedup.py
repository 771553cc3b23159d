#!/usr/bin/env python3
"""Signature and LSH speed, in one process on the same 600-word documents.

    .venv/bin/python bench/dedup.py [--docs 2000] [--loop-docs 60] [--seed 0]

Signatures and LSH are both datasketch vs wiredesk, same process, same documents, with the ratio.

Rows (all start from the article text; docs/s, and the ratio to the first row):
  datasketch update loop   MinHash.update() per shingle (the anchor)
  datasketch bulk          MinHash.bulk() over the same shingle strings
  wiredesk per document    shingle_hashes() + Signer.signature(), one text at a time
  wiredesk batch           batch_shingles() + Signer.signatures(), 256 texts per call
Then: the wiredesk signatures equal datasketch's own MinHash fed the same shingle hashes,
and datasketch's MinHashLSH accepts them; LSH query+insert throughput (batches of 200, as
the pipeline commits them) of datasketch's MinHashLSH and of wiredesk's index (memory:// and
a local directory, with and without the anchor keys) with the same signatures.
Timings are per process CPU on a shared machine: compare ratios, not absolute numbers.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import numpy as np  # noqa: E402
from datasketch import MinHash, MinHashLSH  # noqa: E402

from wiredesk.dedup import DedupSettings, open_index  # noqa: E402
from wiredesk.dedup.index import DocInfo, IndexEntry, Staged  # noqa: E402
from wiredesk.dedup.minhash import Signer, anchor_keys, band_keys_many  # noqa: E402
from wiredesk.dedup.settings import lsh_bands  # noqa: E402
from wiredesk.dedup.text import batch_shingles, shingle_hashes  # noqa: E402


def make_docs(n: int, words: int, seed: int) -> list[str]:
    """Synthetic news-like texts: a 5,000-word Zipf vocabulary, punctuation, some curly quotes."""
    rng = random.Random(seed)
    vocab = [f"w{i}x" if i % 7 else f"wörd{i}" for i in range(5000)]
    weights = [1.0 / (i + 1) for i in range(len(vocab))]
    docs = []
    for _ in range(n):
        toks = rng.choices(vocab, weights, k=words)
        for k in range(0, words, 23):
            toks[k] = toks[k].capitalize() + "."
        toks[5] = "\u201c" + toks[5] + "\u201d"
        docs.append(" ".join(toks))
    return docs


def ds_shingles(text: str, n: int = 5) -> list[bytes]:
    toks = text.lower().split()
    return [" ".join(toks[i : i + n]).encode("utf-8") for i in range(len(toks) - n + 1)]


def rate(fn, items, *, min_time: float = 1.0) -> float:
    """Items per second of fn(items), repeated until min_time has passed."""
    done, t0 = 0, time.process_time()
    while True:
        fn(items)
        done += len(items)
        el = time.process_time() - t0
        if el >= min_time:
            return done / el


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--loop-docs", type=int, default=60)
    ap.add_argument("--words", type=int, default=600)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    docs = make_docs(a.docs, a.words, a.seed)
    signer = Signer(num_perm=128, seed=1)

    def ds_loop(texts):
        for t in texts:
            m = MinHash(num_perm=128, seed=1)
            for s in ds_shingles(t):
                m.update(s)

    def ds_bulk(texts):
        MinHash.bulk([ds_shingles(t) for t in texts], num_perm=128, seed=1)

    def wd_single(texts):
        for t in texts:
            signer.signature(shingle_hashes(t))

    def wd_batch(texts):
        for i in range(0, len(texts), 256):
            h, off = batch_shingles(texts[i : i + 256])
            signer.signatures(h, off)

    rows = [
        ("datasketch update loop", rate(ds_loop, docs[: a.loop_docs])),
        ("datasketch bulk", rate(ds_bulk, docs[: max(a.loop_docs, 200)])),
        ("wiredesk per document", rate(wd_single, docs)),
        ("wiredesk batch", rate(wd_batch, docs)),
    ]
    anchor, bulk = rows[0][1], rows[1][1]
    print(f"{a.words}-word documents, num_perm=128 (process CPU time)")
    print(f"  {'signatures':<24} {'docs/s':>10}  {'/ds loop':>8}  {'/ds bulk':>8}")
    for name, r in rows:
        print(f"  {name:<24} {r:>10,.0f}  {r / anchor:>7.1f}x  {r / bulk:>7.1f}x")

    # Compatibility: equal to datasketch's own MinHash over our shingle hashes; LSH accepts them.
    h, off = batch_shingles(docs[:50])
    sigs = signer.signatures(h, off)
    equal = 0
    for k in range(50):
        ref = MinHash(num_perm=128, seed=1, hashfunc=Signer.datasketch_hashfunc)
        ref.update_batch(h[off[k] : off[k + 1]].tolist())
        equal += bool(np.array_equal(ref.hashvalues, sigs[k]))
    lsh = MinHashLSH(threshold=0.3, num_perm=128)
    for k in range(50):
        lsh.insert(k, signer.to_datasketch(sigs[k]))
    found = sum(k in lsh.query(signer.to_datasketch(sigs[k])) for k in range(50))
    print(
        f"  signatures equal to datasketch MinHash(hashfunc=low 32 bits): {equal}/50; "
        f"MinHashLSH finds each inserted one: {found}/50"
    )

    # LSH query + insert throughput, same signatures.
    h, off = batch_shingles(docs)
    sigs = signer.signatures(h, off)
    lean = [signer.to_datasketch(s) for s in sigs]

    settings = DedupSettings()
    bands, rws = lsh_bands(settings)

    def ds_lsh(_):
        index = MinHashLSH(num_perm=128, params=(bands, rws))  # the same bands x rows as ours
        for k, m in enumerate(lean):
            index.query(m)
            index.insert(k, m)

    keys = band_keys_many(sigs, bands, rws)
    anchors = [
        anchor_keys(np.unique(h[off[k] : off[k + 1]]), rate=settings.anchor_rate, cap=settings.max_anchors)
        for k in range(len(docs))
    ]
    when = datetime(2026, 1, 1, tzinfo=UTC).timestamp()

    def wd_lsh(location: str, with_anchors: bool):
        def go(_):
            with open_index(location, settings=settings) as index:
                for start in range(0, len(keys), 200):  # batches, as the pipeline commits them
                    entries = []
                    index.begin()
                    for k in range(start, min(start + 200, len(keys))):
                        kk = keys[k]
                        if with_anchors:  # what Deduplicator.assign asks per article
                            index.probe(kk, anchors[k], max_postings=settings.anchor_postings)
                            kk = np.concatenate([kk, anchors[k]])
                        else:
                            index.candidates(kk)
                        entries.append(IndexEntry(DocInfo(f"a{k}", f"a{k}", f"h{k}", None, when, anchors[k].size), kk))
                    index.stage(Staged(entries=entries))
                    index.commit(start + 1)
            if location != "memory://":
                shutil.rmtree(location, ignore_errors=True)

        return go

    r_ds = rate(ds_lsh, lean)
    print(f"  LSH query+insert ({bands} bands x {rws} rows), docs/s:")
    print(f"    datasketch MinHashLSH (in memory)             {r_ds:>10,.0f}")
    with tempfile.TemporaryDirectory() as tmp:
        for label, loc, anchored in (
            ("wiredesk memory://, bands only", "memory://", False),
            ("wiredesk memory://, bands + anchors", "memory://", True),
            ("wiredesk local dir (SQLite + segments), both", f"{tmp}/idx.dedup", True),
        ):
            r = rate(wd_lsh(loc, anchored), lean)
            print(f"    {label:<45} {r:>10,.0f}  ({r / r_ds:.2f}x datasketch)")

    # The whole stage: Deduplicator.assign + commit, batches of 200, a quarter near copies.
    from wiredesk.core.records import Article, StoredArticle
    from wiredesk.dedup import Deduplicator, content_hash

    rng = random.Random(a.seed + 1)
    texts = list(docs)
    for k in range(0, len(texts), 4):
        words = texts[rng.randrange(len(texts))].split()
        texts[k] = "WASHINGTON (Reuters) - " + " ".join(words[: int(len(words) * 0.8)])
    fetched = datetime(2026, 1, 1, tzinfo=UTC)
    arts = [
        Article(
            id=f"a{k}",
            source="bench",
            text=t,
            content_hash=content_hash(t),
            fetched_at=fetched,
            url=f"https://h{k % 50}.example/{k}",
        )
        for k, t in enumerate(texts)
    ]

    def stage(_):
        rows: dict[str, StoredArticle] = {}
        with open_index("memory://", settings=settings) as index:
            dd = Deduplicator(settings, index, lambda ids: {i: rows[i] for i in ids if i in rows})
            for start in range(0, len(arts), 200):
                chunk = arts[start : start + 200]
                res = dd.assign(chunk)
                for art, asg in zip(chunk, res.assignments):
                    rows[art.id] = StoredArticle(
                        article=art,
                        cluster_id=asg.cluster_id,
                        seq=start + 1,
                        duplicate_of=asg.duplicate_of,
                        similarity=asg.similarity,
                    )
                dd.commit(start + 1)

    r = rate(stage, arts, min_time=2.0)
    print(
        f"  Deduplicator.assign+commit (memory://, 50 hosts, 1 in 4 a near copy): {r:,.0f} docs/s "
        f"({r / anchor:.0f}x the datasketch update loop alone)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
