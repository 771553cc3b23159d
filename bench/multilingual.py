#!/usr/bin/env python3
"""Text-page F1 and dedup ARI per script on the multilingual development data, against
plain baselines.

    .venv/bin/python bench/multilingual_data.py          # builds bench/out/multilingual
    .venv/bin/python bench/multilingual.py [--data bench/out/multilingual] [--folds 5]

Text pages (kind="text" through extract_page): per script, the ScrapingHub shingle F1/P/R
(shared/tools/score_extraction.py) and the recall of the article's lines (share of truth
lines found whole in the output) on pages with a full-text truth, and the snippet F1 of
trafilatura-eval pages; baseline: the raw page. ``--folds`` also reports the spread of the
F1 over random folds of the pages (the cross-validation view: a rule tuned to a few pages
shows up as a wide spread).

Dedup (syndication corpus): per script, adjusted Rand index and false merges (pairs of
different stories put together) of
- ``datasketch raw``: bare datasketch MinHash LSH at 0.5 on the raw page text (the
  score_dedup.py baseline);
- ``datasketch bodies``: the same on the true article texts (headline + body);
- ``dedup bodies``: our Deduplicator on the true article texts (headline as title);
- ``pipeline``: extract_page then the Deduplicator, as a run does.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT.parent / "shared" / "tools"
sys.path.insert(0, str(TOOLS))

import score_dedup  # noqa: E402
import score_extraction  # noqa: E402

from wiredesk.core.errors import WiredeskError  # noqa: E402
from wiredesk.core.records import Article, RawPage, StoredArticle, article_id_for  # noqa: E402
from wiredesk.dedup import Deduplicator, DedupSettings, content_hash, open_index  # noqa: E402
from wiredesk.extractors import extract_page  # noqa: E402


def _rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").split("\n") if x.strip()]


def _norm(s: str) -> str:
    return " ".join(s.split())


def _extract(body: bytes, kind: str, url: str | None = None, published: str | None = None):
    try:
        return extract_page(RawPage(source="bench", body=body, kind=kind, url=url, published=published))
    except WiredeskError:
        return None


# --------------------------------------------------------------------- text pages


def line_recall(truth: str, pred: str) -> float:
    lines = [_norm(x) for x in truth.split("\n") if x.strip()]
    out = _norm(pred)
    return sum(1 for x in lines if x in out) / len(lines) if lines else 1.0


def text_pages(data: Path, folds: int) -> dict[str, dict]:
    truth = _rows(data / "textpages" / "truth.jsonl")
    results: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for r in truth:
        raw = (data / "textpages" / "pages" / f"{r['id']}.txt").read_bytes()
        ex = _extract(raw, "text")
        text = ex.text if ex else ""
        group = r["script"] if "text" in r else f"{r['script']} (snippets)"
        res = results[group]
        if "text" in r:
            res["wd"].append(score_extraction.sh_page(r["text"], text))
            res["raw"].append(score_extraction.sh_page(r["text"], raw.decode("utf-8")))
            res["lines"].append(line_recall(r["text"], text))
            res["rows"].append(r)
        else:
            res["te_wd"].append(_snippets(r, text))
            res["te_raw"].append(_snippets(r, raw.decode("utf-8")))
    out = {}
    for group, res in sorted(results.items()):
        if "wd" in res:
            m, b = score_extraction._prf(res["wd"]), score_extraction._prf(res["raw"])
            spread = _fold_spread(res["wd"], folds)
            out[group] = {
                "pages": len(res["wd"]),
                "f1": m["f1"],
                "p": m["precision"],
                "r": m["recall"],
                "line_recall": statistics.mean(res["lines"]),
                "min_line_recall": min(res["lines"]),
                "raw_f1": b["f1"],
                "fold_f1": spread,
            }
        else:
            out[group] = {"pages": len(res["te_wd"]), **_snippet_prf(res["te_wd"]), "raw": _snippet_prf(res["te_raw"])}
    return out


def _fold_spread(pages: list, folds: int) -> tuple[float, float] | None:
    if folds < 2 or len(pages) < 2 * folds:
        return None
    idx = list(range(len(pages)))
    random.Random(0).shuffle(idx)
    f1s = [score_extraction._prf([pages[i] for i in idx[k::folds]])["f1"] for k in range(folds)]
    return min(f1s), max(f1s)


def _snippets(r: dict, text: str) -> tuple[int, int, int]:
    out = _norm(text)
    tp = sum(1 for s in r["with"] if _norm(s) in out)
    fp = sum(1 for s in r["without"] if _norm(s) in out)
    return tp, fp, len(r["with"]) - tp


def _snippet_prf(rows: list[tuple[int, int, int]]) -> dict:
    tp, fp, fn = (sum(x[i] for x in rows) for i in range(3))
    return {"f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0, "p": tp / (tp + fp) if tp else 0.0, "r": tp / (tp + fn)}


# --------------------------------------------------------------------- dedup


def cluster(items: list[dict], settings: DedupSettings) -> dict[str, str]:
    """file -> cluster id from the Deduplicator, all documents in one batch."""
    when = datetime(2026, 1, 1, tzinfo=UTC)
    arts, file_of = [], {}
    for it in items:
        if not it["text"].strip():
            continue
        aid = article_id_for(it["url"])
        file_of[aid] = it["file"]
        arts.append(
            Article(
                id=aid,
                source="bench",
                text=it["text"],
                title=it.get("title"),
                content_hash=content_hash(it["text"]),
                fetched_at=when,
                url=it["url"],
                path=it["file"],
                published=it["published"],
            )
        )
    rows: dict[str, StoredArticle] = {}
    with open_index("memory://", settings=settings) as index:
        dedup = Deduplicator(settings, index, lambda ids: {i: rows[i] for i in ids if i in rows})
        result = dedup.assign(arts)
        for art, asg in zip(arts, result.assignments):
            rows[art.id] = StoredArticle(article=art, cluster_id=asg.cluster_id, duplicate_of=asg.duplicate_of, seq=1)
        for u in result.updates:
            old = rows[u.article_id]
            rows[u.article_id] = StoredArticle(article=old.article, cluster_id=u.cluster_id, seq=1)
    return {file_of[aid]: st.cluster_id for aid, st in rows.items()}


def dedup(data: Path) -> dict[str, dict]:
    syn = data / "syndication"
    truth = _rows(syn / "truth.jsonl")
    meta = {r["file"]: r for r in _rows(syn / "meta.jsonl")}
    bodies = {r["file"]: r for r in _rows(syn / "bodies.jsonl")}
    settings = DedupSettings()
    runs: dict[str, dict[str, str]] = {}
    raw = score_dedup.doc_texts(truth, syn / "docs", "datasketch")
    runs["datasketch raw"] = score_dedup.minhash_clusters(raw, 0.5)
    body_text = {f: b["headline"] + "\n" + b["text"] for f, b in bodies.items()}
    runs["datasketch bodies"] = score_dedup.minhash_clusters(body_text, 0.5)
    runs["dedup bodies"] = cluster(
        [{**meta[f], "text": b["text"], "title": b["headline"]} for f, b in bodies.items()], settings
    )
    items = []
    for f, m in meta.items():
        kind = "html" if f.endswith(".html") else "text"
        ex = _extract((syn / "docs" / f).read_bytes(), kind, m["url"], m["published"])
        items.append({**m, "text": ex.text if ex else "", "title": ex.title if ex else None})
    runs["pipeline"] = cluster(items, settings)
    by_script = defaultdict(list)
    for t in truth:
        by_script[t["script"]].append(t)
    by_script["all"] = truth
    out = {}
    for script, ts in sorted(by_script.items()):
        out[script] = {name: score_dedup.score(ts, pred) for name, pred in runs.items()}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT / "bench" / "out" / "multilingual")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--json-out", type=Path)
    a = ap.parse_args()
    if not (a.data / "textpages").is_dir():
        sys.exit(f"wiredesk: error: no data at {a.data}: run bench/multilingual_data.py first")
    tp = text_pages(a.data, a.folds)
    print("## text pages (extract_page, kind=text) vs the raw page")
    print("| script | pages | F1 | P | R | line recall (min) | raw F1 | F1 over folds |")
    print("|---|---|---|---|---|---|---|---|")
    for g, m in tp.items():
        if "line_recall" in m:
            spread = f"{m['fold_f1'][0]:.3f}-{m['fold_f1'][1]:.3f}" if m["fold_f1"] else "-"
            print(
                f"| {g} | {m['pages']} | {m['f1']:.3f} | {m['p']:.3f} | {m['r']:.3f} | "
                f"{m['line_recall']:.3f} ({m['min_line_recall']:.2f}) | {m['raw_f1']:.3f} | {spread} |"
            )
        else:
            print(
                f"| {g} | {m['pages']} | {m['f1']:.3f} | {m['p']:.3f} | {m['r']:.3f} | - | {m['raw']['f1']:.3f} | - |"
            )
    dd = dedup(a.data)
    print("\n## dedup: ARI (false-merge pairs) per script")
    names = list(next(iter(dd.values())))
    print("| script | docs | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for script, runs in dd.items():
        cells = [f"{m['ari']:.3f} ({m['fm']})" for m in runs.values()]
        print(f"| {script} | {next(iter(runs.values()))['docs']} | " + " | ".join(cells) + " |")
    if a.json_out:
        a.json_out.write_text(json.dumps({"textpages": tp, "dedup": dd}, indent=2))


if __name__ == "__main__":
    main()
