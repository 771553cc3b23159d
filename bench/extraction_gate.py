#!/usr/bin/env python3
"""Where the HTML chooser's second opinion and fallbacks run, and where they matter.

    .venv/bin/python bench/extraction_gate.py --cache /tmp/memo.pkl [--limit 40] [--json-out gate.json]

Over every HTML dev page (ScrapingHub, trafilatura-eval, external-dev: 1,817 pages) this
extracts each page with the default ``chooser.Rules`` and records which of the page's
candidates the chooser asked for (readability, trafilatura's balanced mode, the recall
mode, the main block) and whether trafilatura's full cascade ran after its fast mode.
Then, with every candidate computed, it extracts the page again with readability always
asked (the confident-page skip off) and never asked, and scores both per page: a page
where the two differ is one where the second opinion *matters*. Printed: per set, the
share of pages each candidate runs on, how many pages readability's output was chosen
on, and how many change score; with ``--features`` one line per page that matters with
the cheap features of the first result the gate can read.

``--cache`` is the same memo file as ``bench/extraction_cv.py --cache`` (the extractors'
outputs per page; every candidate is filled in here, so a later CV run reuses them).
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from extraction_cv import load_sets, page_parts  # noqa: E402

from wiredesk.core.errors import WiredeskError  # noqa: E402
from wiredesk.core.records import RawPage  # noqa: E402
from wiredesk.extractors import chooser, extract_page, warm_up  # noqa: E402
from wiredesk.extractors import html as html_path  # noqa: E402
from wiredesk.extractors.core import _precise, html_candidates  # noqa: E402
from wiredesk.extractors.decoding import decode_page  # noqa: E402
from wiredesk.extractors.language import guess_language  # noqa: E402
from wiredesk.extractors.settings import ExtractSettings  # noqa: E402

CANDIDATES = ("readability", "balanced", "precise", "recall", "block", "entries")


class AskedMemo(dict):
    """A page's memo that records every candidate the chooser asks for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked: set[str] = set()

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)


def run_once(page: RawPage, memo: dict, settings, rules) -> tuple[str | None, str | None, set[str]]:
    if not isinstance(memo, AskedMemo):
        memo = AskedMemo(memo)
    memo.asked = set()
    try:
        out = extract_page(page, settings=settings, rules=rules, memo=memo)
        text, method = out.text, out.method
    except WiredeskError:
        text, method = None, None
    return text, method, set(memo.asked)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int)
    ap.add_argument("--cache", type=Path)
    ap.add_argument("--json-out", type=Path)
    ap.add_argument("--features", action="store_true", help="one line per page where readability matters")
    ap.add_argument("--gate-cv", action="store_true", help="cross-validate a grid of readability gates")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--cascade", action="store_true", help="also: trafilatura's fast mode only (no full cascade)")
    ap.add_argument("--dump", type=Path, help="pickle of the gate's per-page features and scores")
    ap.add_argument("--tolerance", type=float, default=0.001)
    a = ap.parse_args()
    sets = load_sets(a.limit)
    settings = ExtractSettings()
    warm_up()
    cached = pickle.loads(a.cache.read_bytes()) if a.cache and a.cache.exists() else {}
    # full cascades: trafilatura runs without fast mode (counted while a page is first extracted)
    full_runs = Counter()
    current = [None]
    real_run = html_path.run_trafilatura

    def counting(tree, **kw):
        if not kw.get("fast") and not kw.get("favor_recall") and not kw.get("with_metadata"):
            full_runs[current[0]] += 1
        return real_run(tree, **kw)

    html_path.run_trafilatura = counting
    rows_out = []
    t0 = time.process_time()
    for name, rows in sets.items():
        for r in rows:
            key = (name, r["id"])
            memo = AskedMemo(cached.get(key, {}))
            fresh = not cached.get(key)
            page = RawPage(source="bench", body=r["body"], kind="html", url=r["url"])
            current[0] = key
            text, method, asked = run_once(page, memo, settings, chooser.RULES)
            rows_out.append(
                {
                    "set": name,
                    "id": r["id"],
                    "asked": asked,
                    "method": method,
                    "full": full_runs[key] if fresh else None,
                }
            )
            try:  # every candidate, for the variants below and later CV runs
                cands = html_candidates(decode_page(page.body, kind="html"), page, settings, memo)
                for c in ("readability", "balanced", "precise", "block", "body_chars"):
                    cands.get(c)
            except WiredeskError:
                pass
            cached[key] = memo
    html_path.run_trafilatura = real_run
    print(f"default pass: {time.process_time() - t0:.0f} s CPU", file=sys.stderr)
    if a.cache:
        a.cache.write_bytes(pickle.dumps({k: {n: v for n, v in m.items() if n != "tree"} for k, m in cached.items()}))
    variants = {
        "default": (settings, chooser.RULES),
        # readability wherever the chooser could use it (the rules every CV fold chose before the gate)
        "always": (settings, replace(chooser.RULES, confident_block_share=2.0, collapse_check_words=300)),
        # the gate before this one (main until 2026-12-04)
        "before": (
            settings,
            replace(
                chooser.RULES,
                collapse_check_words=300,
                confident_block_share=0.9,
                confident_over_block=1.5,
                confident_min_words=100,
                confident_max_runner_up=1.0,
                confident_min_mass=0.0,
                confident_needs_body=False,
            ),
        ),
        "never": (replace(settings, use_readability=False), chooser.RULES),
        "no-balanced": (settings, replace(chooser.RULES, min_block_share=0.0, collapse_words=0)),
    }
    outs: dict[str, dict] = {}
    for v, (st, rules) in variants.items():
        preds: dict[str, dict] = {n: {} for n in sets}
        asked: dict[tuple, set] = {}
        methods: dict[tuple, str | None] = {}
        for name, rows in sets.items():
            for r in rows:
                page = RawPage(source="bench", body=r["body"], kind="html", url=r["url"])
                text, method, got = run_once(page, cached[(name, r["id"])], st, rules)
                preds[name][r["id"]] = text
                asked[(name, r["id"])] = got
                methods[(name, r["id"])] = method
        parts = {n: page_parts(n, rows, preds[n]) for n, rows in sets.items()}
        outs[v] = {"preds": preds, "asked": asked, "methods": methods, "parts": parts}
    if a.cascade:
        outs["fast"], fast_info = fast_only(sets, cached, settings, variants["always"][1])
        if a.dump:
            a.dump.with_suffix(".fast.pkl").write_bytes(
                pickle.dumps({"parts": outs["fast"]["parts"], "info": fast_info})
            )
    report(sets, rows_out, outs, cached, a)
    if a.gate_cv:
        gate_cv(sets, outs, cached, a.folds, a.tolerance, a.dump)


TRAF_KEYS = ("primary", "precise", "balanced", "recall")


def fast_only(sets, cached, settings, rules):
    """Every page with trafilatura in fast mode only (no full cascade after it), readability
    and the rest as cached; and what the fast run of the page's primary mode gave."""
    real = html_path.run_trafilatura_staged
    info: dict[tuple, list] = {}
    current = [None]

    def staged(tree, *, url, settings, holds_story=None, **options):
        doc = html_path.run_trafilatura(tree, url=url, settings=settings, with_metadata=False, fast=True, **options)
        text = (doc.text or "") if doc is not None else ""
        has_p = doc is not None and doc.body is not None and bool(doc.body.xpath(".//p//text()"))
        block = cached[current[0]].get("block")
        share = chooser._share(block.text, text) if block is not None and block.n_words and text else 0.0
        nw = block.n_words if block is not None else 0
        info.setdefault(current[0], []).append((bool(options.get("favor_precision")), len(text), has_p, share, nw))
        if doc is None:
            return html_path.run_trafilatura(tree, url=url, settings=settings, with_metadata=False, **options)
        return doc

    html_path.run_trafilatura_staged = staged
    preds: dict[str, dict] = {n: {} for n in sets}
    try:
        for name, rows in sets.items():
            for r in rows:
                current[0] = (name, r["id"])
                memo = {k: v for k, v in cached[(name, r["id"])].items() if k not in TRAF_KEYS}
                page = RawPage(source="bench", body=r["body"], kind="html", url=r["url"])
                preds[name][r["id"]] = run_once(page, memo, settings, rules)[0]
    finally:
        html_path.run_trafilatura_staged = real
    parts = {n: page_parts(n, rows, preds[n]) for n, rows in sets.items()}
    return {"preds": preds, "asked": {}, "methods": {}, "parts": parts}, info


def report(sets, rows_out, outs, cached, a) -> None:
    by_set: dict[str, list[dict]] = {}
    for row in rows_out:
        by_set.setdefault(row["set"], []).append(row)
    print("Default rules: share of pages each candidate is asked for, full cascades, methods chosen")
    print(
        "| set | pages | readability | balanced (2nd opinion) | recall | full cascade | chose readability | chose main-block |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, rows in by_set.items():
        n = len(rows)
        frac = {c: sum(c in r["asked"] for r in rows) / n for c in CANDIDATES}
        frac["balanced"] = sum(second_balanced(r["asked"], cached[(name, r["id"])]) for r in rows) / n
        full = [r["full"] for r in rows if r["full"] is not None]
        fc = f"{sum(f > 0 for f in full) / len(full):.3f}" if full else "-"
        meth = Counter(r["method"] for r in rows)
        print(
            f"| {name} | {n} | {frac['readability']:.3f} | {frac['balanced']:.3f} | {frac['recall']:.3f} | {fc} | "
            f"{meth['readability']} | {meth['main-block']} |"
        )
    print("\nVariants: pages whose output differs from 'always' (and how many score lower/higher), share asking each")
    print(
        "| set | variant | readability asked | balanced asked | outputs differ | worse | better | per-page F1 sum diff |"
    )
    print("|---|---|---|---|---|---|---|---|")
    per_page = []
    for name, rows in sets.items():
        ref = outs["always"]
        for v, o in outs.items():
            if not o["asked"]:
                continue
            diff = worse = better = 0
            delta = 0.0
            for r in rows:
                k = (name, r["id"])
                if o["preds"][name][r["id"]] != ref["preds"][name][r["id"]]:
                    diff += 1
                    d = o["parts"][name][r["id"]][0] - ref["parts"][name][r["id"]][0]
                    worse += d < 0
                    better += d > 0
                    delta += d
                    if v == "never" and a.features:
                        per_page.append((name, r["id"], d, ref["methods"][k], features(cached[k])))
            nr = sum("readability" in o["asked"][(name, r["id"])] for r in rows) / len(rows)
            nb = sum(second_balanced(o["asked"][(name, r["id"])], cached[(name, r["id"])]) for r in rows) / len(rows)
            print(f"| {name} | {v} | {nr:.3f} | {nb:.3f} | {diff} | {worse} | {better} | {delta:+.3f} |")
    if a.features:
        print("\nPages where never asking readability changes the output (d = per-page F1 never - always):")
        for name, pid, d, method, f in sorted(per_page, key=lambda t: t[2]):
            print(f"{name:18s} {pid[:28]:28s} d={d:+.3f} always={method} " + " ".join(f"{k}={v}" for k, v in f.items()))
    if a.json_out:
        a.json_out.write_text(json.dumps({"rows": [dict(r, asked=sorted(r["asked"])) for r in rows_out]}))


def page_features(memo: dict) -> dict:
    """What a gate on readability can read before running it (see chooser.doubtful)."""
    primary = memo.get("primary")
    block = memo.get("block")
    text = primary.text if primary else ""
    lp = chooser.n_words(primary)
    declared = memo.get("declared")
    english = ((guess_language(text) if text else None) or declared) == "en"
    bw = block.n_words if block else 0
    return {
        "lp": lp,
        "block": bw,
        "share": chooser._share(block.text, text) if bw and text else 0.0,
        "inblock": chooser._share(text, block.text) if bw and text else 0.0,
        "body": memo.get("body_chars") or 0,
        "runner_up": block.runner_up if block else 0.0,
        "mass": block.mass if block else 1.0,
        "english": english,
    }


# The gate's keys of chooser.Rules and their grid (the other keys stay at their defaults).
GATE_GRID = {
    "collapse_check_words": (50,),
    "confident_min_words": (50,),
    "confident_over_block": (1.1, 1.2, 1.5),
    "confident_block_share": (0.8,),
    "confident_max_runner_up": (1.0, 0.5),
    "confident_min_mass": (0.0, 0.3),
    "confident_needs_body": (False, True),
}


def skips(memo: dict, english: bool, rules: chooser.Rules) -> bool:
    """Does ``chooser._decide`` return before asking readability (the gate, as coded)?"""
    primary = memo.get("primary")
    lp = chooser.n_words(primary)
    if not (english or lp < rules.collapse_check_words):
        return True
    return not chooser.doubtful(chooser.PageCandidates(make={}, done=memo), primary, lp, rules)


def gate_cv(sets, outs, cached, folds: int, tolerance: float, dump: Path | None = None) -> None:
    """Each page's output is 'never''s where the gate skips readability, 'always''s
    elsewhere (the two runs differ in nothing else); the gate point per fold is the
    cheapest (fewest readability runs on the training folds) among those within
    ``tolerance`` of the best point on every training set."""
    import itertools

    from extraction_cv import fold_of, parts_score

    feats = {(n, r["id"]): page_features(cached[(n, r["id"])]) for n, rows in sets.items() for r in rows}
    runs_always = {k for k, v in outs["always"]["asked"].items() if "readability" in v}
    keys = list(GATE_GRID)
    points = [replace(chooser.RULES, **dict(zip(keys, v))) for v in itertools.product(*(GATE_GRID[k] for k in keys))]
    points.append(None)  # no gate: readability wherever 'always' asks it
    if dump:
        dump.write_bytes(
            pickle.dumps(
                {
                    "sets": {n: [r["id"] for r in rows] for n, rows in sets.items()},
                    "feats": feats,
                    "runs_always": runs_always,
                    "parts": {v: outs[v]["parts"] for v in ("always", "never", "default", "before")},
                }
            )
        )

    def page(n, i, g):
        skip = g is not None and skips(cached[(n, i)], feats[(n, i)]["english"], g)
        return ("never" if skip else "always"), (not skip and (n, i) in runs_always)

    table = {}
    for gi, g in enumerate(points):
        table[gi] = {n: {r["id"]: page(n, r["id"], g) for r in rows} for n, rows in sets.items()}

    def score(gi, n, ids):
        return parts_score(n, [outs[table[gi][n][i][0]]["parts"][n][i] for i in ids])

    held: dict[str, dict[str, list]] = {key: {n: [] for n in sets} for key in ("best", "cheap")}
    held_runs: dict[str, dict[str, int]] = {key: {n: 0 for n in sets} for key in ("best", "cheap")}
    for k in range(folds):
        train = {n: [r["id"] for r in rows if fold_of(n, r["id"], folds) != k] for n, rows in sets.items()}
        test = {n: [r["id"] for r in rows if fold_of(n, r["id"], folds) == k] for n, rows in sets.items()}
        per = {gi: {n: score(gi, n, train[n]) for n in sets} for gi in table}
        best = max(per, key=lambda gi: statistics.mean(per[gi].values()))
        fine = [gi for gi in per if all(per[gi][n] >= per[best][n] - tolerance for n in sets)]

        def runs(gi):
            return sum(table[gi][n][i][1] for n in sets for i in train[n])

        pick = min(fine, key=lambda gi: (runs(gi), -statistics.mean(per[gi].values())))
        print(
            f"fold {k}: best {show(points[best])}; cheapest within {tolerance}: {show(points[pick])} "
            f"({runs(best)} / {runs(pick)} readability runs vs {runs(len(points) - 1)} without a gate)"
        )
        for n in sets:
            for key, gi in (("best", best), ("cheap", pick)):
                held[key][n] += [outs[table[gi][n][i][0]]["parts"][n][i] for i in test[n]]
                held_runs[key][n] += sum(table[gi][n][i][1] for i in test[n])
    nogate = len(points) - 1
    print(
        "\n| set | pages | always (no gate) | gate before | default rules (in-sample) | CV best | CV cheapest "
        "| readability runs: always / before / default / CV best / CV cheapest |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for n, rows in sets.items():
        ids = [r["id"] for r in rows]
        base = score(nogate, n, ids)
        fixed = {v: parts_score(n, [outs[v]["parts"][n][i] for i in ids]) for v in ("before", "default")}
        runs_v = {
            v: sum("readability" in outs[v]["asked"][(n, i)] for i in ids) / len(ids) for v in ("before", "default")
        }
        print(
            f"| {n} | {len(ids)} | {base:.4f} | {fixed['before']:.4f} | {fixed['default']:.4f} "
            f"| {parts_score(n, held['best'][n]):.4f} | {parts_score(n, held['cheap'][n]):.4f} "
            f"| {sum(table[nogate][n][i][1] for i in ids) / len(ids):.3f} / {runs_v['before']:.3f} / "
            f"{runs_v['default']:.3f} / {held_runs['best'][n] / len(ids):.3f} / {held_runs['cheap'][n] / len(ids):.3f} |"
        )
    every = sum(map(len, sets.values()))
    for v in ("always", "before", "default"):
        share = sum("readability" in a for a in outs[v]["asked"].values()) / every
        print(f"readability asked on {share:.3f} of all {every} pages with the {v} rules")


def show(rules: chooser.Rules | None) -> str:
    return "no gate" if rules is None else ", ".join(f"{k}={getattr(rules, k)}" for k in GATE_GRID)


def second_balanced(asked: set, memo: dict) -> bool:
    """Did trafilatura's balanced mode run as a second opinion (on a precision-mode page)?"""
    return "balanced" in asked and _precise(memo.get("declared"))


def features(memo: dict) -> dict:
    """Cheap features of the first result (what a gate can read without readability)."""
    primary = memo.get("primary")
    block = memo.get("block")
    text = primary.text if primary else ""
    lp = chooser.n_words(primary)
    lr = chooser.n_words(memo.get("readability"))
    bw = block.n_words if block else 0
    return {
        "lp": lp,
        "lr": lr,
        "block": bw,
        "share": round(chooser._share(block.text, text), 2) if block and block.text else None,
        "inblock": round(chooser._share(text, block.text), 2) if block and block.text and text else None,
        "body": memo.get("body_chars"),
        "lang": memo.get("declared"),
    }


if __name__ == "__main__":
    main()
