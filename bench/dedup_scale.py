#!/usr/bin/env python3
"""The local dedup index at scale, on synthetic signatures, against a plain SQLite table.

    .venv/bin/python bench/dedup_scale.py [--docs 1000000] [--dir bench/out/scale.dedup] [--keep]
    .venv/bin/python bench/dedup_scale.py --docs 200000 --variant both   # segments vs plain table

Variants (``--variant segments|plain|both``, default both):
  segments  dedup/local.py: SQLite for documents, band keys in sorted memory-mapped segments
  plain     the same documents table, and band keys in one plain SQLite table
            ``bands(key, row)`` with an index (a WITHOUT ROWID primary key on (key, row)):
            what local.py must beat to be worth its 600 lines (PlainSqliteIndex below)

Builds (or reuses, with --keep) a directory index of N articles with random MinHash
signatures, 1,000 hosts and LSH band keys as the Deduplicator writes them, then measures
in fresh processes:
  start-up     python start + import dedup + open_index(dir) (the run's cost), and open_index alone
  query        candidates(37 band keys) + hits(37 anchor keys) + docs(candidates) per article:
               mean / p99, for new random
               signatures and for near copies of indexed ones (4 of 37 bands shared)
  memory       the process's peak RSS after opening and querying
and, as the anchor in the same build process, datasketch MinHashLSH's insert rate on the
first 50,000 signatures (its in-memory index is what "rebuild at start-up" would cost).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import numpy as np  # noqa: E402

from wiredesk.dedup import DedupSettings, open_index  # noqa: E402
from wiredesk.dedup.index import DocInfo, IndexEntry, Staged  # noqa: E402
from wiredesk.dedup.local import LocalIndex  # noqa: E402
from wiredesk.dedup.minhash import band_keys_many  # noqa: E402
from wiredesk.dedup.settings import lsh_bands  # noqa: E402

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()

import numpy as np
from wiredesk.dedup import DedupSettings, open_index
from wiredesk.dedup.minhash import band_keys_many
from wiredesk.dedup.settings import lsh_bands
if VARIANT == "plain":
    sys.path.insert(0, BENCH)
    from dedup_scale import PlainSqliteIndex
t_import = time.perf_counter()
settings = DedupSettings()
index = open_index(DIR, settings=settings) if VARIANT == "segments" else PlainSqliteIndex(DIR, settings=settings)
t_open = time.perf_counter()
n = len(index)
rss_open = int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024
bands, rows = lsh_bands(settings)
rng = np.random.default_rng(7)
fresh = band_keys_many(rng.integers(0, 2**32, size=(Q, 128), dtype=np.uint64).astype(np.uint32), bands, rows)
# Near copies of indexed articles: the build's signatures are reproducible from its seed.
gen = np.random.default_rng(1)
first = gen.integers(0, 2**32, size=(min(N, 2000), 128), dtype=np.uint64).astype(np.uint32)
pick = rng.choice(first.shape[0], size=Q)
near = first[pick].copy()
near[:, 12:] = rng.integers(0, 2**32, size=(Q, 116), dtype=np.uint64).astype(np.uint32)  # keeps 4 bands
near_keys = band_keys_many(near, bands, rows)
out = {}
for name, keys in (("fresh", fresh), ("near", near_keys), ("near again (warm)", near_keys)):
    times, found = [], 0
    anchors = rng.integers(0, 2**63, size=(keys.shape[0], 37), dtype=np.uint64)
    for k, a in zip(keys, anchors):
        q0 = time.perf_counter()
        c = index.candidates(k)
        c |= set(index.hits(a, max_postings=500))
        index.docs(c)
        times.append(time.perf_counter() - q0)
        found += bool(c)
    t = np.array(times) * 1000
    out[name] = {"mean_ms": float(t.mean()), "p99_ms": float(np.percentile(t, 99)), "with_candidates": found}
status = open("/proc/self/status").read()
# VmHWM, not ru_maxrss: the latter keeps the forking parent's peak across exec.
anon, filed, rss = (int(status.split(k + ":")[1].split()[0]) / 1024 for k in ("RssAnon", "RssFile", "VmHWM"))
print(json.dumps({"docs": n, "startup_s": t_open - t0, "import_s": t_import - t0, "open_s": t_open - t_import,
                  "queries": out, "peak_rss_mb": rss, "rss_after_open_mb": rss_open, "rss_anon_mb": anon, "rss_file_mb": filed}))
"""


class PlainSqliteIndex(LocalIndex):
    """The alternative to local.py's segments: band keys in a plain SQLite table with an
    index. Documents, hosts, meta and the batch lock are LocalIndex's own (same tables, same
    code); only where the band keys live and how they are looked up differ."""

    def __init__(self, path: str, *, settings: DedupSettings) -> None:
        super().__init__(path, settings=settings)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS bands (key INTEGER NOT NULL, row INTEGER NOT NULL, "
            "PRIMARY KEY (key, row)) WITHOUT ROWID"
        )

    def probe(self, keys: np.ndarray, anchors: np.ndarray, *, max_postings: int) -> tuple[set[str], dict[str, int]]:
        nb = int(keys.size)
        allkeys = np.concatenate([keys, anchors]).astype(np.uint64).view(np.int64).tolist()
        if not allkeys:
            return set(), {}
        rows = self._query_in("SELECT key, row FROM bands WHERE key IN ({})", allkeys)
        band_keys = set(allkeys[:nb])
        per_key: dict[int, list[int]] = {}
        for key, row in rows:
            per_key.setdefault(key, []).append(row)
        band_rows = {r for k, rs in per_key.items() if k in band_keys for r in rs}
        counts: dict[int, int] = {}
        for k in set(allkeys[nb:]):
            rs = per_key.get(k, ())
            if 0 < len(rs) <= max_postings:
                for r in set(rs):
                    counts[r] = counts.get(r, 0) + 1
        wanted = sorted(band_rows | set(counts))
        ids = dict(self._query_in("SELECT row, article_id FROM docs WHERE row IN ({})", wanted))
        return {ids[r] for r in band_rows if r in ids}, {ids[r]: c for r, c in counts.items() if r in ids}

    def _write(self, staged: Staged, seq: int | None) -> None:
        """Documents as LocalIndex writes them (without its segments), then the band rows."""
        start = self._next_row
        keys = [e.keys for e in staged.entries]
        super()._write(Staged(entries=[IndexEntry(e.info, None) for e in staged.entries]), seq)
        # LocalIndex numbered the new documents start, start+1, ... in entry order.
        present = [(i, ks) for i, ks in enumerate(keys) if ks is not None and ks.size]
        if not present:
            return
        key = np.concatenate([np.asarray(ks, dtype=np.uint64) for _, ks in present]).view(np.int64)
        row = np.concatenate([np.full(ks.size, start + i, dtype=np.int64) for i, ks in present])
        order = np.lexsort((row, key))  # b-tree order: appends to pages instead of splitting them
        self._db.execute("BEGIN IMMEDIATE")
        self._db.executemany("INSERT OR IGNORE INTO bands VALUES (?, ?)", zip(key[order].tolist(), row[order].tolist()))
        self._db.execute("COMMIT")


def build(path: Path, n: int, chunk: int = 100_000, variant: str = "segments") -> float:
    settings = DedupSettings()
    bands, rows = lsh_bands(settings)
    gen = np.random.default_rng(1)
    t0 = time.perf_counter()
    opener = open_index if variant == "segments" else PlainSqliteIndex
    with opener(str(path), settings=settings) as index:
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            sigs = gen.integers(0, 2**32, size=(m, 128), dtype=np.uint64).astype(np.uint32)
            keys = band_keys_many(sigs, bands, rows)
            # ~37 anchor keys per article too (a 600-word article at 1 anchor in 16 shingles).
            anchors = gen.integers(0, 2**63, size=(m, 37), dtype=np.uint64)
            keys = np.concatenate([keys, anchors], axis=1)
            entries = [
                IndexEntry(
                    DocInfo(
                        f"{start + i:016x}",
                        f"{start + i:016x}",
                        f"h{start + i:x}",
                        f"host{(start + i) % 1000}.example",
                        1.7e9 + start + i,
                        37,
                    ),
                    keys[i],
                )
                for i in range(m)
            ]
            index.begin()
            index.stage(Staged(entries=entries))
            index.commit(start + m)
            print(f"  built {start + m:,} ({time.perf_counter() - t0:.0f}s)", file=sys.stderr)
    return time.perf_counter() - t0


def datasketch_anchor(m: int) -> float:
    from datasketch import LeanMinHash, MinHashLSH

    gen = np.random.default_rng(1)
    sigs = gen.integers(0, 2**32, size=(m, 128), dtype=np.uint64).astype(np.uint32)
    lsh = MinHashLSH(threshold=0.3, num_perm=128)
    t0 = time.perf_counter()
    for i in range(m):
        lsh.insert(i, LeanMinHash(seed=1, hashvalues=sigs[i], scheme="affine32"))
    return m / (time.perf_counter() - t0)


def measure(variant: str, path: Path, docs: int, queries: int, keep: bool) -> dict:
    reuse = False
    if keep and path.exists():
        opener = open_index if variant == "segments" else PlainSqliteIndex
        with opener(str(path), settings=DedupSettings()) as index:
            reuse = len(index) == docs
    build_rate = None
    if not reuse:
        shutil.rmtree(path, ignore_errors=True)
        secs = build(path, docs, variant=variant)
        build_rate = docs / secs
        print(f"[{variant}] build: {docs:,} articles in {secs:.1f}s ({build_rate:,.0f}/s)")
    size = sum(f.stat().st_size for f in path.iterdir()) / 2**20
    print(f"[{variant}] index on disk: {size:,.0f} MB ({path})")
    code = (
        CHILD.replace("ROOT", repr(str(ROOT)))
        .replace("VARIANT", repr(variant))
        .replace("BENCH", repr(str(ROOT / "bench")))
        .replace("DIR", repr(str(path)))
        .replace("Q", str(queries))
        .replace("N", str(docs))
    )
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    r = json.loads(res.stdout)
    print(
        f"[{variant}] start-up (fresh process: python + imports + open): {r['startup_s']:.2f}s "
        f"(imports {r['import_s']:.2f}s, open {r['open_s'] * 1000:.0f} ms); child wall {wall:.1f}s"
    )
    for name, q in r["queries"].items():
        print(
            f"[{variant}] query {name:<17} ({queries} queries): mean {q['mean_ms']:.3f} ms, "
            f"p99 {q['p99_ms']:.3f} ms, {q['with_candidates']} with candidates"
        )
    print(
        f"[{variant}] RSS: {r['rss_after_open_mb']:.0f} MB after open; after the queries "
        f"{r['rss_anon_mb']:.0f} MB private + {r['rss_file_mb']:.0f} MB of mapped index pages (shared, "
        f"reclaimable page cache); peak {r['peak_rss_mb']:.0f} MB (numpy and the benchmark's arrays included)"
    )
    return {"build_per_s": build_rate, "disk_mb": size, **r}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--dir", type=Path, default=ROOT / "bench" / "out" / "scale.dedup")
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--variant", choices=["segments", "plain", "both"], default="both")
    ap.add_argument("--keep", action="store_true", help="reuse an existing index of the right size")
    a = ap.parse_args(argv)
    variants = ["segments", "plain"] if a.variant == "both" else [a.variant]
    results = {}
    for v in variants:
        path = a.dir if v == "segments" else a.dir.with_name(a.dir.name + ".plain")
        results[v] = measure(v, path, a.docs, a.queries, a.keep)
    if len(results) == 2:
        seg, plain = results["segments"], results["plain"]
        print("segments vs plain SQLite table (ratio plain / segments; > 1: the plain table costs more):")
        if seg["build_per_s"] and plain["build_per_s"]:
            print(f"  build time        {seg['build_per_s'] / plain['build_per_s']:.2f}x")
        print(f"  disk              {plain['disk_mb'] / seg['disk_mb']:.2f}x")
        print(f"  open              {plain['open_s'] / seg['open_s']:.2f}x")
        for name in seg["queries"]:
            a_q, b_q = seg["queries"][name], plain["queries"][name]
            print(
                f"  query {name:<17} mean {b_q['mean_ms'] / a_q['mean_ms']:.2f}x, "
                f"p99 {b_q['p99_ms'] / a_q['p99_ms']:.2f}x"
            )
    anchor = datasketch_anchor(min(a.docs, 50_000))
    print(
        f"anchor: datasketch MinHashLSH in memory inserts {anchor:,.0f} signatures/s: rebuilding "
        f"{a.docs:,} at start-up would take ~{a.docs / anchor:.0f}s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
