#!/usr/bin/env python3
"""Cross-validated quality of the plain-text line cleaner (extractors/text.py).

    .venv/bin/python bench/textpages_cv.py                      # defaults: in-sample, seeds, ms/page
    .venv/bin/python bench/textpages_cv.py --grid UNTERMINATED=0.2,0.3,0.4 --grid ISOLATED=0.1,0.15
    .venv/bin/python bench/textpages_cv.py --grid ... --folds 5 --seeds 3   # k-fold, 3 shuffles
    .venv/bin/python bench/textpages_cv.py --ablate HEAD_TRIM,PROMO   # all on, each off, all off
    .venv/bin/python bench/textpages_cv.py --rendered 200       # + trafilatura-eval pages rendered to text
    .venv/bin/python bench/textpages_cv.py --meta               # title/author/date accuracy

The text pages (``shared/data/textpages/dev``, 121 pages) are scored with the ScrapingHub
shingle metric (``shared/tools/score_extraction.py``: mean per-page precision and recall,
F1 of those means), through ``extract_page`` as the pipeline runs it.

``--grid NAME=v1,v2`` varies a module-level constant of ``wiredesk.extractors.text`` (the
weights and the on/off switches of its rules). Every grid point is run over every page
once; k-fold cross-validation then picks, for each fold, the point with the best F1 on the
other folds and scores it on the fold. The CV figure is the metric over the pooled held-out
pages; ``--seeds N`` repeats the split with N shuffles (median reported). The in-sample
figure of the chosen point is printed next to it: a rule is only worth keeping if CV F1
rises with it, not just in-sample F1.

Seeds: the line labels of ``shared/data/seeds/labels.json`` (content lines kept word for
word, boilerplate lines dropped); every grid point is checked, and a point that loses a
seed line is never chosen.

``--rendered N``: an independent check, the first N trafilatura-eval pages rendered to
text by the textpages rules (``bench/render_text.py``) and scored with that set's
with/without snippets; never used to choose. ``--meta``: title, author and date of the
text path against the truth that the data has: trafilatura-eval's title/author/date
fields (rendered pages), and for the textpages dev pages the title and date that the
HTML path reads from the same page's markup (a silver reference).
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import random
import statistics
import sys
import time
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(SHARED / "tools"))
sys.path.insert(0, str(REPO / "bench"))

from score_extraction import _prf, sh_page, te_score  # noqa: E402

from wiredesk.core.errors import WiredeskError  # noqa: E402
from wiredesk.core.records import RawPage  # noqa: E402
from wiredesk.extractors import extract_page  # noqa: E402
from wiredesk.extractors import text as text_mod  # noqa: E402
from wiredesk.extractors.decoding import decode_page  # noqa: E402

TEXTPAGES = SHARED / "data" / "textpages" / "dev"
SEEDS = SHARED / "data" / "seeds"
TE = SHARED / "data" / "extraction" / "trafilatura-eval"
SH = SHARED / "data" / "extraction" / "scrapinghub-aeb"


def load_textpages() -> list[dict]:
    rows = [json.loads(line) for line in (TEXTPAGES / "truth.jsonl").open(encoding="utf-8")]
    for r in rows:
        r["body"] = (TEXTPAGES / "pages" / f"{r['id']}.txt").read_bytes()
    return rows


def load_rendered(n: int, cache: Path) -> list[dict]:
    """trafilatura-eval's first n pages rendered to text (cached: rendering is slow)."""
    if cache.exists():
        rows = json.loads(cache.read_text(encoding="utf-8"))
        if len(rows) >= n:
            return rows[:n]
    from render_text import render

    rows = []
    for i, r in enumerate(map(json.loads, (TE / "ground_truth.jsonl").open(encoding="utf-8"))):
        if i >= n:
            break
        html = (TE / "html" / f"{r['id']}.html.gz").read_bytes()
        try:
            decoded = decode_page(gzip.decompress(html), kind="html")
            body = render(decoded, style="blank" if i % 5 else "compact")
        except Exception as exc:  # a page the renderer cannot read is left out, said so
            print(f"render failed {r['id']}: {exc}", file=sys.stderr)
            continue
        r["page"] = body
        rows.append(r)
    cache.write_text(json.dumps(rows), encoding="utf-8")
    return rows


def run_text(body: bytes | str, url: str | None):
    if isinstance(body, str):
        body = body.encode("utf-8")
    try:
        return extract_page(RawPage(source="bench", body=body, kind="text", url=(url or "").strip() or None))
    except WiredeskError:
        return None


def seed_misses() -> list[str]:
    labels = json.loads((SEEDS / "labels.json").read_text(encoding="utf-8"))
    misses = []
    for name, items in sorted(labels.items()):
        out = run_text((SEEDS / name).read_bytes(), None)
        kept = set(out.text.split("\n")) if out else set()
        for it in items:
            line = it["text"].strip()
            if it["label"] == "content" and line not in kept:
                misses.append(f"{name}:{it['line']} content lost")
            elif it["label"] == "boilerplate" and line in kept:
                misses.append(f"{name}:{it['line']} boilerplate kept")
    return misses


def grid_points(specs: list[str]) -> list[dict]:
    names, values = [], []
    for spec in specs:
        name, _, vals = spec.partition("=")
        if not hasattr(text_mod, name):
            raise SystemExit(f"--grid: extractors/text.py has no constant {name}")
        cur = getattr(text_mod, name)
        conv = (lambda v: v.lower() in ("1", "true", "on")) if isinstance(cur, bool) else type(cur)
        names.append(name)
        values.append([conv(v) for v in vals.split(",")])
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]


def apply(point: dict) -> dict:
    old = {k: getattr(text_mod, k) for k in point}
    for k, v in point.items():
        setattr(text_mod, k, v)
    return old


def metrics(pages: list[tuple]) -> dict:
    return _prf(pages)


def cv(
    per_point: list[list[tuple]], ok: list[bool], n: int, folds: int, seed: int
) -> tuple[dict, list[dict], list[int]]:
    idx = list(range(n))
    random.Random(seed).shuffle(idx)
    parts = [idx[f::folds] for f in range(folds)]
    pooled: list[tuple] = []
    per_fold, chosen = [], []
    for f, test in enumerate(parts):
        train = [i for i in idx if i not in set(test)]
        best = max(
            (p for p in range(len(per_point)) if ok[p]),
            key=lambda p: (metrics([per_point[p][i] for i in train])["f1"], -p),
        )
        chosen.append(best)
        got = [per_point[best][i] for i in test]
        pooled += got
        per_fold.append(dict(metrics(got), point=best))
    return metrics(pooled), per_fold, chosen


def fmt(m: dict) -> str:
    return f"F1 {m['f1']:.4f}  P {m['precision']:.4f}  R {m['recall']:.4f}"


def meta_report(rendered: list[dict], textpages: list[dict]) -> None:
    def norm(s: str | None) -> str:
        s = unicodedata.normalize("NFKC", s or "").lower()
        return " ".join("".join(c if c.isalnum() else " " for c in s).split())

    def author_ok(got: str | None, want: str | list) -> bool:
        g = norm(got)
        names = [norm(w) for w in (want if isinstance(want, list) else [want])]
        return bool(g) and any(g == w or (len(g) > 3 and (g in w or w in g)) for w in names)

    n = {"title": 0, "author": 0, "date": 0}
    right = {"title": 0, "author": 0, "date": 0}
    wrong: dict[str, list] = {"title": [], "author": [], "date": []}
    for r in rendered:
        out = run_text(r["page"], r["url"])
        got = {
            "title": out.title if out else None,
            "author": out.author if out else None,
            "date": (out.published or "")[:10] if out else None,
        }
        for k in n:
            want = r.get(k)
            if not want:
                continue
            n[k] += 1
            ok = (
                norm(got[k]) == norm(want)
                if k == "title"
                else (author_ok(got[k], want) if k == "author" else got[k] == want[:10])
            )
            right[k] += ok
            if not ok and got[k]:
                wrong[k].append((r["id"], got[k], want))
    print(f"metadata, trafilatura-eval rendered to text ({len(rendered)} pages), exact match where the truth has it:")
    for k in n:
        print(
            f"  {k:7s} right {right[k]}/{n[k]} = {right[k] / max(n[k], 1):.3f}, "
            f"wrong {len(wrong[k])}, empty {n[k] - right[k] - len(wrong[k])}"
        )
    return wrong


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", action="append", default=[], help="NAME=v1,v2 (a constant of extractors/text.py)")
    ap.add_argument("--set", action="append", default=[], help="NAME=value fixed for the whole run")
    ap.add_argument(
        "--ablate",
        default="",
        help="SWITCH,SWITCH,...: the points are all on, each one off, all off (instead of a full product)",
    )
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seeds", type=int, default=3, help="shuffles of the k-fold split")
    ap.add_argument("--rendered", type=int, default=0, help="also score N trafilatura-eval pages rendered to text")
    ap.add_argument("--render-cache", type=Path, default=Path("/tmp/textpages_cv_rendered.json"))
    ap.add_argument("--meta", action="store_true", help="title/author/date accuracy on rendered pages")
    ap.add_argument("--losses", type=int, default=0, help="print the N pages with the lowest precision")
    a = ap.parse_args()

    for fixed in grid_points(a.set):
        apply(fixed)
    rows = load_textpages()
    rendered = load_rendered(a.rendered or (660 if a.meta else 0), a.render_cache) if (a.rendered or a.meta) else []
    points = grid_points(a.grid) or [{}]
    if a.ablate:
        names = a.ablate.split(",")
        grid_points([f"{n}=1" for n in names])  # checks the names
        points = [dict.fromkeys(names, True)]
        points += [{**dict.fromkeys(names, True), n: False} for n in names]
        points.append(dict.fromkeys(names, False))
    per_point: list[list[tuple]] = []
    ok: list[bool] = []
    outs: list[dict] = []
    cpu: list[float] = []
    for p, point in enumerate(points):
        old = apply(point)
        try:
            got, pages = {}, []
            c0 = time.process_time()
            for r in rows:
                e = run_text(r["body"], r["url"])
                got[r["id"]] = e.text if e else ""
            cpu.append((time.process_time() - c0) / len(rows))
            pages = [sh_page(r["text"], got[r["id"]]) for r in rows]
            misses = seed_misses()
            per_point.append(pages)
            ok.append(not misses)
            outs.append(got)
            ins = metrics(pages)
            extra = ""
            if rendered and a.rendered:
                preds = {}
                for r in rendered:
                    e = run_text(r["page"], r["url"])
                    preds[r["id"]] = e.text if e else None
                te = te_score(rendered, preds)
                extra = f" | rendered te F1 {te['f1']:.4f} P {te['precision']:.4f} R {te['recall']:.4f}"
            print(f"[{p}] {point or 'defaults'}: in-sample {fmt(ins)}  seeds {'ok' if not misses else misses}{extra}")
        finally:
            apply(old)
    if len(points) > 1:
        cvs = []
        for s in range(a.seeds):
            m, per_fold, chosen = cv(per_point, ok, len(rows), a.folds, s)
            cvs.append(m)
            print(f"CV seed {s}: {fmt(m)}  folds: " + "; ".join(f"{f['f1']:.4f}(pt {f['point']})" for f in per_fold))
        med = {k: statistics.median(c[k] for c in cvs) for k in ("f1", "precision", "recall")}
        print(f"CV median of {a.seeds} shuffles: {fmt(med)}")
        best = max((p for p in range(len(points)) if ok[p]), key=lambda p: metrics(per_point[p])["f1"])
        print(f"best in-sample: [{best}] {points[best]} {fmt(metrics(per_point[best]))}")
    # the default point's per-fold figures (split of seed 0), for before/after tables
    base = points.index({}) if {} in points else 0
    _, per_fold, _ = cv([per_point[base]], [True], len(rows), a.folds, 0)
    print(f"point [{base}] per fold (seed 0): " + "; ".join(fmt(f) for f in per_fold))
    print(f"text path CPU ms/page (point 0): {1000 * cpu[0]:.2f}; min over points {1000 * min(cpu):.2f}")
    if a.losses:
        pages = per_point[base]
        order = sorted(range(len(rows)), key=lambda i: metrics([pages[i]])["precision"])
        for i in order[: a.losses]:
            m = metrics([pages[i]])
            print(f"  {rows[i]['id'][:16]} P {m['precision']:.3f} R {m['recall']:.3f}")
    if a.meta:
        meta_report(rendered, rows)


if __name__ == "__main__":
    main()
