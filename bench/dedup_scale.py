#!/usr/bin/env python3
"""The local dedup index at scale, on synthetic signatures.

    .venv/bin/python bench/dedup_scale.py [--docs 1000000] [--dir bench/out/scale.dedup] [--keep]

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
from wiredesk.dedup.minhash import band_keys_many  # noqa: E402
from wiredesk.dedup.settings import lsh_bands  # noqa: E402

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()

import numpy as np
from wiredesk.dedup import DedupSettings, open_index
from wiredesk.dedup.minhash import band_keys_many
from wiredesk.dedup.settings import lsh_bands
t_import = time.perf_counter()
settings = DedupSettings()
index = open_index(DIR, settings=settings)
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


def build(path: Path, n: int, chunk: int = 100_000) -> float:
    settings = DedupSettings()
    bands, rows = lsh_bands(settings)
    gen = np.random.default_rng(1)
    t0 = time.perf_counter()
    with open_index(str(path), settings=settings) as index:
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--dir", type=Path, default=ROOT / "bench" / "out" / "scale.dedup")
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--keep", action="store_true", help="reuse an existing index of the right size")
    a = ap.parse_args(argv)
    reuse = False
    if a.keep and a.dir.exists():
        with open_index(str(a.dir), settings=DedupSettings()) as index:
            reuse = len(index) == a.docs
    if not reuse:
        shutil.rmtree(a.dir, ignore_errors=True)
        secs = build(a.dir, a.docs)
        print(f"build: {a.docs:,} articles in {secs:.1f}s ({a.docs / secs:,.0f}/s)")
    size = sum(f.stat().st_size for f in a.dir.iterdir()) / 2**20
    print(f"index on disk: {size:,.0f} MB ({a.dir})")
    code = (
        CHILD.replace("ROOT", repr(str(ROOT)))
        .replace("DIR", repr(str(a.dir)))
        .replace("Q", str(a.queries))
        .replace("N", str(a.docs))
    )
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    r = json.loads(res.stdout)
    print(
        f"start-up (fresh process: python + imports + open_index): {r['startup_s']:.2f}s "
        f"(imports {r['import_s']:.2f}s, open_index {r['open_s'] * 1000:.0f} ms); child wall {wall:.1f}s"
    )
    for name, q in r["queries"].items():
        print(
            f"query {name:<17} ({a.queries} queries): mean {q['mean_ms']:.3f} ms, p99 {q['p99_ms']:.3f} ms, "
            f"{q['with_candidates']} with candidates"
        )
    print(
        f"RSS of that process: {r['rss_after_open_mb']:.0f} MB after open_index; after the queries "
        f"{r['rss_anon_mb']:.0f} MB private + {r['rss_file_mb']:.0f} MB of mapped index pages (shared, "
        f"reclaimable page cache); peak {r['peak_rss_mb']:.0f} MB (numpy and the benchmark's arrays included)"
    )
    anchor = datasketch_anchor(min(a.docs, 50_000))
    print(
        f"anchor: datasketch MinHashLSH in memory inserts {anchor:,.0f} signatures/s: rebuilding "
        f"{a.docs:,} at start-up would take ~{a.docs / anchor:.0f}s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
