#!/usr/bin/env python3
"""Dedup quality on the syndication corpus: extract every document, run the Deduplicator,
write PRED.jsonl for shared/tools/score_dedup.py and print its scores plus how often the
cluster representative is the truth's original.

    .venv/bin/python bench/dedup_quality.py [--data DIR] [--extractor auto|extractors|trafilatura]
        [--batch N] [--out bench/out/dedup_pred.jsonl] [--no-cache] [--set FIELD=VALUE ...]
    .venv/bin/python bench/dedup_quality.py --export CORPUS.jsonl   # score a pipeline run:
        wiredesk run --input DIR/docs --manifest DIR/meta.jsonl --all --out CORPUS.jsonl

``--batch N`` feeds the documents in batches of N (each committed before the next), as a
pipeline run does; documents go in file-name order (random with respect to clusters).
Extracted texts are cached in bench/out/ keyed by extractor, so tuning dedup is quick.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from wiredesk.core.records import Article, RawPage, StoredArticle, article_id_for  # noqa: E402
from wiredesk.dedup import Deduplicator, DedupSettings, content_hash, open_index  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "dedup" / "syndication-dev"


def extract_all(data: Path, which: str, use_cache: bool) -> tuple[dict[str, dict], str]:
    meta = {r["file"]: r for r in map(json.loads, (data / "meta.jsonl").read_text().splitlines()) if r}
    if which == "auto":
        try:
            import extractors  # noqa: F401

            which = "extractors"
        except Exception:
            which = "trafilatura"
    cache = ROOT / "bench" / "out" / f"dedup_extract_{which}_{data.name}.json"
    if use_cache and cache.exists():
        return json.loads(cache.read_text()), which
    out: dict[str, dict] = {}
    for f in sorted(meta):
        body = (data / "docs" / f).read_bytes()
        kind = "html" if f.endswith(".html") else "text"
        m = meta[f]
        rec = {
            "url": m.get("url"),
            "published": m.get("published"),
            "text": "",
            "canonical_url": None,
            "original_url": None,
            "names_original": False,
        }
        if which == "extractors":
            from wiredesk.extractors import extract_page

            page = RawPage(
                source="syndication",
                body=body,
                kind=kind,
                path=str(data / "docs" / f),
                url=m.get("url"),
                published=m.get("published"),
            )
            try:
                ex = extract_page(page)
            except Exception as exc:  # a dropped page is a singleton for the scorer
                rec["error"] = f"{type(exc).__name__}: {exc}"
                out[f] = rec
                continue
            rec.update(
                text=ex.text,
                canonical_url=ex.canonical_url,
                original_url=ex.original_url,
                names_original=ex.names_original,
                published=m.get("published") or ex.published,
            )
        else:
            import trafilatura

            if kind == "html":
                rec["text"] = trafilatura.extract(body.decode("utf-8", "replace"), deduplicate=False) or ""
            else:
                rec["text"] = body.decode("utf-8", "replace")
        out[f] = rec
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(out))
    return out, which


def report(data: Path, pred: Path, placed: dict[str, tuple[str, bool]]) -> None:
    """Print score_dedup.py's scores of ``pred`` and the share of multi-document clusters
    whose representative is the truth's original. ``placed``: file name -> (cluster id,
    is a representative, i.e. duplicate_of is empty)."""
    tool = ROOT.parent / "shared" / "tools" / "score_dedup.py"
    subprocess.run([sys.executable, str(tool), str(data / "truth.jsonl"), str(pred)], check=False)
    truth = [json.loads(line) for line in (data / "truth.jsonl").read_text().splitlines() if line.strip()]
    by_cluster = defaultdict(list)
    for t in truth:
        by_cluster[t["cluster"]].append(t)
    good = total = 0
    misses = []
    for c, ts in sorted(by_cluster.items()):
        orig = next((t for t in ts if t["role"] in ("original", "seed")), None)
        if len(ts) < 2 or orig is None:
            continue
        total += 1
        mine = placed.get(orig["file"])
        together = mine is not None and sum(1 for t in ts if (x := placed.get(t["file"])) and x[0] == mine[0]) > 1
        if together and mine[1]:
            good += 1
        else:
            misses.append(c)
    print(
        f"representative is the original in {good}/{total} multi-document clusters "
        f"({100.0 * good / max(total, 1):.1f}%); misses: {misses[:10]}"
    )


def score_export(data: Path, export: Path) -> int:
    """Scores of a pipeline export (cluster_id / duplicate_of per record)."""
    recs = (json.loads(line) for line in export.read_text().splitlines() if line.strip())
    report(
        data,
        export,
        {Path(r["path"]).name: (r["cluster_id"], r.get("duplicate_of") is None) for r in recs if r.get("path")},
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--extractor", default="auto", choices=["auto", "extractors", "trafilatura"])
    ap.add_argument("--batch", type=int, default=0, help="batch size (0: all in one batch)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "dedup_pred.jsonl")
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument("--set", action="append", default=[], help="DedupSettings field=value (repeatable)")
    ap.add_argument("--shuffle", type=int, help="feed the documents in a random order (this seed)")
    ap.add_argument("--export", type=Path, help="score a `wiredesk export --all` JSONL instead of running dedup")
    a = ap.parse_args(argv)
    if not a.data.exists():
        print(f"no data at {a.data}", file=sys.stderr)
        return 2
    if a.export:
        return score_export(a.data, a.export)
    texts, which = extract_all(a.data, a.extractor, not a.no_cache)
    kw = {}
    for item in a.set:
        k, v = item.split("=", 1)
        kw[k] = json.loads(v) if v[:1] in "0123456789.-tfn[" else v
    settings = DedupSettings(**kw)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    articles, file_of = [], {}
    for f, r in texts.items():
        if not r["text"].strip():
            continue
        aid = article_id_for(r["url"] or f)
        file_of[aid] = f
        articles.append(
            Article(
                id=aid,
                source="syndication",
                text=r["text"],
                content_hash=content_hash(r["text"]),
                fetched_at=when,
                url=r["url"],
                path=f,
                published=r["published"],
                canonical_url=r["canonical_url"],
                original_url=r["original_url"],
                names_original=r["names_original"],
            )
        )
    if a.shuffle is not None:
        import random

        random.Random(a.shuffle).shuffle(articles)
    rows: dict[str, StoredArticle] = {}
    seq = 0
    t0 = time.perf_counter()
    with open_index("memory://", settings=settings) as index:
        dedup = Deduplicator(settings, index, lambda ids: {i: rows[i] for i in ids if i in rows})
        size = a.batch or len(articles)
        for start in range(0, len(articles), size):
            chunk = articles[start : start + size]
            result = dedup.assign(chunk)
            seq += 1
            for art, asg in zip(chunk, result.assignments):
                rows[art.id] = StoredArticle(
                    article=art,
                    cluster_id=asg.cluster_id,
                    duplicate_of=asg.duplicate_of,
                    similarity=asg.similarity,
                    seq=seq,
                )
            for u in result.updates:
                old = rows[u.article_id]
                rows[u.article_id] = StoredArticle(
                    article=old.article,
                    cluster_id=u.cluster_id,
                    duplicate_of=u.duplicate_of,
                    similarity=u.similarity,
                    seq=seq,
                )
            dedup.commit(seq)
    elapsed = time.perf_counter() - t0
    a.out.parent.mkdir(parents=True, exist_ok=True)
    with a.out.open("w") as fh:
        for aid, st in sorted(rows.items(), key=lambda kv: file_of[kv[0]]):
            fh.write(json.dumps({"file": file_of[aid], "cluster": st.cluster_id}) + "\n")
    dropped = [f for f, r in texts.items() if not r["text"].strip()]
    print(
        f"extractor: {which}; {len(articles)} articles ({len(dropped)} without text); "
        f"batch {a.batch or 'all'}; dedup {elapsed:.2f}s; settings {settings}"
    )
    report(a.data, a.out, {file_of[aid]: (st.cluster_id, st.duplicate_of is None) for aid, st in rows.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
