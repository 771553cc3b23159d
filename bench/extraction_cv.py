#!/usr/bin/env python3
"""Cross-validated F1 of the HTML chooser's rules over ALL development sets.

    .venv/bin/python bench/extraction_cv.py                  # 5 folds, default grid
    .venv/bin/python bench/extraction_cv.py --limit 40       # first 40 pages of each set (quick)
    .venv/bin/python bench/extraction_cv.py --folds 5 --json-out cv.json

Every threshold of ``wiredesk.extractors.chooser.Rules`` is a choice; a choice made on
the pages it is measured on overstates what held-out pages will see. Here each page is
extracted with the rules chosen on the OTHER folds (best mean-of-sets score on the
training folds, over the grid below), and those held-out outputs are scored per set with
the set's own metric. Reported per set: the in-sample score of the default rules, the
cross-validated score, trafilatura's; for the external sets also blow-ups (output > 3x
its truth in tokens where trafilatura's is not) and empty outputs.

Extractors run once per page: their outputs are kept in a per-page memo (see
``wiredesk.extractors.core.html_candidates``) and every grid point re-runs only the
chooser and the line rules on them. Sets: ScrapingHub (shingle F1), trafilatura-eval
(its snippet F1), and external-dev's five sets (bag-of-words token F1).
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import pickle
import statistics
import sys
import time
import zlib
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(SHARED / "tools"))

import score_external  # noqa: E402
from score_extraction import _prf, sh_page, sh_score, te_score  # noqa: E402

from wiredesk.core.errors import WiredeskError  # noqa: E402
from wiredesk.core.records import RawPage  # noqa: E402
from wiredesk.extractors import extract_page, warm_up  # noqa: E402
from wiredesk.extractors.chooser import RULES, Rules  # noqa: E402
from wiredesk.extractors.core import _precise  # noqa: E402
from wiredesk.extractors.settings import ExtractSettings  # noqa: E402

GRID = {
    "max_over_block": (3.0, 6.0, 1e9),
    "min_block_share": (0.0, 0.3),
    "confident_block_share": (0.8, 2.0),  # the gate on readability (its other keys: extraction_gate.py)
    "entries_over_chosen": (1.8, 1e9),
    "collapse_words": (0, 80),
    "collapse_gain": (2.0, 3.0),
    "drop_comments": (False, True),
}
BLOWUP = 3.0


def load_sets(limit: int | None) -> dict[str, list[dict]]:
    sets: dict[str, list[dict]] = {}
    for name in ("scrapinghub-aeb", "trafilatura-eval"):
        d = SHARED / "data" / "extraction" / name
        rows = [json.loads(line) for line in (d / "ground_truth.jsonl").open(encoding="utf-8")]
        rows = rows[:limit] if limit else rows
        for r in rows:
            r["body"] = gzip.decompress((d / "html" / f"{r['id']}.html.gz").read_bytes())
            r["url"] = (r.get("url") or "").strip() or None
        sets[name] = rows
    by_set: dict[str, list[dict]] = defaultdict(list)
    for pg in score_external.pages():
        if limit and len(by_set[pg.set]) >= limit:
            continue
        by_set[pg.set].append({"id": pg.id, "body": pg.html, "truth": pg.truth, "url": None})
    sets.update(by_set)
    return sets


def fold_of(set_name: str, page_id: str, folds: int) -> int:
    return zlib.crc32(f"{set_name}/{page_id}".encode()) % folds


def set_score(name: str, rows: list[dict], preds: dict[str, str | None]) -> float:
    if not rows:
        return 0.0
    if name == "scrapinghub-aeb":
        return sh_score(rows, preds, n_boot=1)["f1"]
    if name == "trafilatura-eval":
        return te_score(rows, preds)["f1"]
    return statistics.mean(score_external.score(preds.get(r["id"]) or "", r["truth"])[2] for r in rows)


def page_parts(name: str, rows: list[dict], preds: dict[str, str | None]) -> dict[str, tuple]:
    """Each page's share of its set's metric, computed once (the folds only re-add them)."""
    if name == "scrapinghub-aeb":
        return {r["id"]: sh_page(r["text"], preds.get(r["id"]) or "") for r in rows}
    if name == "trafilatura-eval":
        return {r["id"]: tuple(te_score([r], preds).get(k, 0) for k in ("f1",)) + _te_counts(r, preds) for r in rows}
    return {r["id"]: (score_external.score(preds.get(r["id"]) or "", r["truth"])[2],) for r in rows}


def _te_counts(r: dict, preds: dict) -> tuple:
    out = preds.get(r["id"])
    out = " ".join(out.split()) if isinstance(out, str) else None
    a = sum(1 for w in r["with"] if out is not None and " ".join(w.split()) in out)
    b = sum(1 for w in r["without"] if out is not None and " ".join(w.split()) in out)
    return a, len(r["with"]) - a, b  # tp, fn, fp


def parts_score(name: str, parts: list[tuple]) -> float:
    if not parts:
        return 0.0
    if name == "scrapinghub-aeb":
        return _prf(parts)["f1"]
    if name == "trafilatura-eval":
        tp, fn, fp = (sum(p[i] for p in parts) for i in (1, 2, 3))
        return 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return statistics.mean(p[0] for p in parts)


class AskedMemo(dict):
    """A page's memo that records which candidates the chooser asked for (``asked``)."""

    asked: set[str]

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)


# What a second opinion costs where it runs (ms a page, README "Extraction figures": the
# mixed pages' CPU): the gate's choice minimises this among the points that lose nothing.
COST_MS = {"readability": 1.9, "balanced": 3.9}


def second_opinions(asked: set[str], memo: dict) -> tuple[bool, bool]:
    """Did readability, and trafilatura's balanced mode as a second opinion, run on a page?
    (The balanced mode counts only on precision-mode pages: elsewhere it is the primary.)"""
    return "readability" in asked, "balanced" in asked and _precise(memo.get("declared"))


def cost_ms(ran: tuple[bool, bool]) -> float:
    return COST_MS["readability"] * ran[0] + COST_MS["balanced"] * ran[1]


def extract_all(
    sets, rules: Rules, memos: dict, settings: ExtractSettings, costs: dict | None = None
) -> dict[str, dict[str, str | None]]:
    """Every page's text under ``rules``; ``costs`` (a dict) receives which second
    opinions ran on each page, {set: {id: (readability, balanced)}}."""
    out: dict[str, dict[str, str | None]] = {}
    for name, rows in sets.items():
        preds = out[name] = {}
        for r in rows:
            memo = memos.get((name, r["id"]))
            if not isinstance(memo, AskedMemo):
                memo = memos[(name, r["id"])] = AskedMemo(memo or {})
            memo.asked = set()
            page = RawPage(source="bench", body=r["body"], kind="html", url=r["url"])
            try:
                preds[r["id"]] = extract_page(page, settings=settings, rules=rules, memo=memo).text
            except WiredeskError:
                preds[r["id"]] = None
            if costs is not None:
                costs.setdefault(name, {})[r["id"]] = second_opinions(memo.asked, memo)
    return out


def grid_points() -> list[Rules]:
    keys = list(GRID)
    return [replace(RULES, **dict(zip(keys, values))) for values in itertools.product(*(GRID[k] for k in keys))]


def cross_validate(
    sets, outputs: dict[Rules, dict], folds: int, costs: dict[Rules, dict] | None = None, tolerance: float | None = None
) -> tuple[dict[str, dict[str, str | None]], list]:
    """Held-out predictions: each fold's pages from the rules best on the other folds.

    With ``tolerance`` (and ``costs``, each point's per-page second-opinion cost): among
    the points that score within ``tolerance`` of the best point on EVERY set of the
    training folds, the one whose second opinions cost least on those folds (ties: the
    better objective)."""
    held: dict[str, dict[str, str | None]] = {name: {} for name in sets}
    chosen = []
    parts = {rules: {n: page_parts(n, rows, out[n]) for n, rows in sets.items()} for rules, out in outputs.items()}
    for k in range(folds):
        train = {n: [r["id"] for r in rows if fold_of(n, r["id"], folds) != k] for n, rows in sets.items()}

        def per_set(rules: Rules) -> dict[str, float]:
            return {n: parts_score(n, [parts[rules][n][i] for i in train[n]]) for n in sets}

        def objective(rules: Rules) -> float:
            return statistics.mean(per_set(rules).values())

        best = max(outputs, key=objective)
        if tolerance is not None and costs is not None:
            top = per_set(best)
            fine = [r for r in outputs if all(v >= top[n] - tolerance for n, v in per_set(r).items())]

            def cost(rules: Rules) -> float:
                return sum(cost_ms(costs[rules][n][i]) for n in sets for i in train[n])

            best = min(fine, key=lambda r: (cost(r), -objective(r)))
        chosen.append(best)
        for n, rows in sets.items():
            for r in rows:
                if fold_of(n, r["id"], folds) == k:
                    held[n][r["id"]] = outputs[best][n][r["id"]]
    return held, chosen


def trafilatura_outputs(sets) -> dict[str, dict[str, str | None]]:
    import trafilatura

    out = {}
    for name, rows in sets.items():
        out[name] = {r["id"]: trafilatura.extract(r["body"], include_comments=False) for r in rows}
    return out


def external_counts(rows, preds, base) -> tuple[int, int]:
    """(blow-ups where trafilatura is not one, empty outputs) of one external set."""
    blow = empty = 0
    for r in rows:
        truth = sum(score_external.tokens(r["truth"]).values())
        ours = sum(score_external.tokens(preds.get(r["id"])).values())
        theirs = sum(score_external.tokens(base.get(r["id"])).values())
        empty += ours == 0
        blow += truth > 0 and ours > BLOWUP * truth and theirs <= BLOWUP * truth
    return blow, empty


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, help="first N pages of each set")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--json-out", type=Path)
    ap.add_argument(
        "--cache",
        type=Path,
        help="pickle of the extractors' outputs per page, read if present and written after "
        "(only while the extractors themselves are unchanged: a rules or line-rule experiment)",
    )
    ap.add_argument(
        "--tolerance",
        type=float,
        help="speed-aware choice: per fold, the cheapest point (second opinions run on the fewest "
        "pages) among those within this F1 of the best on every training set (e.g. 0.001)",
    )
    ap.add_argument(
        "--fix",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="pin one grid key to one value (a smaller grid: e.g. the keys every fold already agrees on)",
    )
    a = ap.parse_args()
    for kv in a.fix:
        key, value = kv.split("=", 1)
        if key not in GRID:
            ap.error(f"--fix {kv}: no grid key {key!r} (keys: {', '.join(GRID)})")
        kind = type(getattr(RULES, key))
        GRID[key] = (value.lower() in ("1", "true", "yes"),) if kind is bool else (kind(float(value)),)
    report(load_sets(a.limit), a.folds, a.cache, a.json_out, a.tolerance)


def report(
    sets: dict[str, list[dict]], folds: int, cache: Path | None, json_out: Path | None, tolerance: float | None = None
) -> dict:
    """Run the grid, cross-validate, print the table; the report as a dict."""
    settings = ExtractSettings()
    warm_up()
    memos: dict = pickle.loads(cache.read_bytes()) if cache and cache.exists() else {}
    t0 = time.process_time()
    costs: dict[Rules, dict] = {RULES: {}}
    outputs = {RULES: extract_all(sets, RULES, memos, settings, costs[RULES])}
    print(f"extractors: {time.process_time() - t0:.0f} s CPU for {sum(map(len, sets.values()))} pages", file=sys.stderr)
    for rules in grid_points():
        if rules not in outputs:
            costs[rules] = {}
            outputs[rules] = extract_all(sets, rules, memos, settings, costs[rules])
    if cache:  # the parsed tree does not pickle (and is cheap to parse again)
        cache.write_bytes(pickle.dumps({key: {k: v for k, v in m.items() if k != "tree"} for key, m in memos.items()}))
    held, chosen = cross_validate(sets, outputs, folds, costs, tolerance)
    held_cost = {
        n: {r["id"]: costs[chosen[fold_of(n, r["id"], folds)]][n][r["id"]] for r in rows} for n, rows in sets.items()
    }
    base = trafilatura_outputs(sets)
    table: dict = {}
    print(
        "| set | pages | in-sample F1 | cross-validated F1 | trafilatura | blow-ups | empty "
        "| readability runs (defaults / held-out) | balanced 2nd runs (defaults / held-out) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n, rows in sets.items():
        ins, cv, tr = (set_score(n, rows, p) for p in (outputs[RULES][n], held[n], base[n]))
        blow, empty = (
            external_counts(rows, held[n], base[n]) if n not in ("scrapinghub-aeb", "trafilatura-eval") else ("-", "-")
        )
        ran = {k: [costs[RULES][n][r["id"]] for r in rows] for k in ("defaults",)}
        ran["held_out"] = [held_cost[n][r["id"]] for r in rows]
        runs = {k: (sum(x[0] for x in v) / len(rows), sum(x[1] for x in v) / len(rows)) for k, v in ran.items()}
        table[n] = {
            "pages": len(rows),
            "in_sample": ins,
            "cv": cv,
            "trafilatura": tr,
            "blowups": blow,
            "empty": empty,
            "runs_readability_balanced": runs,
        }
        rd, rh = runs["defaults"], runs["held_out"]
        print(
            f"| {n} | {len(rows)} | {ins:.4f} | {cv:.4f} | {tr:.4f} | {blow} | {empty} "
            f"| {rd[0]:.3f} / {rh[0]:.3f} | {rd[1]:.3f} / {rh[1]:.3f} |"
        )
    ext = [n for n in sets if n not in ("scrapinghub-aeb", "trafilatura-eval")]
    if ext:
        mix = {k: statistics.mean(table[n][k] for n in ext) for k in ("in_sample", "cv", "trafilatura")}
        print(
            f"| external mix (mean of sets) | - | {mix['in_sample']:.4f} | {mix['cv']:.4f} | {mix['trafilatura']:.4f} | - | - |"
        )
        table["external-mix"] = mix
    print("\nrules chosen per fold:")
    for k, rules in enumerate(chosen):
        print(f"  fold {k}: " + ", ".join(f"{f}={getattr(rules, f)}" for f in GRID))
    if json_out:
        json_out.write_text(json.dumps(table, indent=2))
    return table


if __name__ == "__main__":
    main()
