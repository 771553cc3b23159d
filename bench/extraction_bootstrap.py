#!/usr/bin/env python3
"""A change to the extractors, cross-validated as on/off, and how firm each set's gain is.

    .venv/bin/python bench/extraction_losses.py --cache /tmp/memo.pkl --out /tmp/before.jsonl.gz   # old code
    .venv/bin/python bench/extraction_losses.py --cache /tmp/memo.pkl --out /tmp/after.jsonl.gz    # new code
    .venv/bin/python bench/extraction_bootstrap.py --before /tmp/before.jsonl.gz --after /tmp/after.jsonl.gz

A change that is not a ``chooser.Rules`` key (a line rule, an extractor's output) is one
choice, on or off: for each of ``--folds`` folds (the fold of every page as in
``bench/extraction_cv.py``) the side with the better mean of set scores on the OTHER folds
gives the fold's pages; the pooled held-out outputs are scored per set ("CV").

Then the robustness of the CV outputs' gain over trafilatura (both dumps hold
``trafilatura.extract(include_comments=False)``'s text): ``--boot`` resamples of each set's
pages (with replacement, seeded) give the distribution of the set's score and its gain; held-out
sets are other pages, so this is what page sampling alone can take away, not what another
benchmark's labelling can. Reported: the gain's mean and 5th percentile and the share of
resamples that clear the targets of issue 14 (ScrapingHub >= 0.975, also with the 0.007 the last
held-out figure came under dev; trafilatura-eval >= trafilatura + 0.01; the external mix of the
five sets >= trafilatura + 0.02, each set resampled on its own; no external set more than 0.005
below trafilatura).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import extraction_cv as cv  # noqa: E402

SH, TE = "scrapinghub-aeb", "trafilatura-eval"
SH_TARGET, SH_DRIFT, TE_GAIN, MIX_GAIN, SET_FLOOR = 0.975, 0.007, 0.01, 0.02, -0.005


def load_dump(path: Path, what: str) -> dict[str, dict[str, str | None]]:
    out: dict[str, dict[str, str | None]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            out.setdefault(rec["set"], {})[rec["id"]] = rec[what]
    return out


def on_off_cv(sets, before, after, folds: int) -> tuple[dict, list[bool]]:
    parts = {
        side: {n: cv.page_parts(n, rows, preds[n]) for n, rows in sets.items()}
        for side, preds in (("before", before), ("after", after))
    }
    held: dict[str, dict] = {n: {} for n in sets}
    chosen = []
    for k in range(folds):

        def objective(side: str) -> float:
            return statistics.mean(
                cv.parts_score(n, [parts[side][n][r["id"]] for r in rows if cv.fold_of(n, r["id"], folds) != k])
                for n, rows in sets.items()
            )

        side = "after" if objective("after") > objective("before") else "before"
        chosen.append(side == "after")
        preds = after if side == "after" else before
        for n, rows in sets.items():
            held[n].update({r["id"]: preds[n][r["id"]] for r in rows if cv.fold_of(n, r["id"], folds) == k})
    return held, chosen


def boot_scores(name: str, parts: list[tuple], rng: random.Random, boot: int) -> list[float]:
    idx = range(len(parts))
    return [cv.parts_score(name, [parts[i] for i in rng.choices(idx, k=len(parts))]) for _ in range(boot)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", type=Path, required=True, help="extraction_losses.py --out dump of the old code")
    ap.add_argument("--after", type=Path, required=True, help="the same of the new code")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--boot", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    before, after = load_dump(a.before, "text"), load_dump(a.after, "text")
    traf = load_dump(a.after, "traf_text")
    sets = {n: rows for n, rows in cv.load_sets(None).items() if n in after}
    missing = [n for n in sets if n not in before or set(before[n]) != set(after[n])]
    if missing:
        sys.exit(f"error: the two dumps do not hold the same pages of {', '.join(missing)}")
    held, chosen = on_off_cv(sets, before, after, a.folds)
    print(f"folds choosing the change: {sum(chosen)} of {a.folds}")
    print("| set | pages | before | after (in-sample) | CV | trafilatura | CV - trafilatura | 5th pct | P(target) |")
    print("|---|---|---|---|---|---|---|---|---|")
    rng = random.Random(a.seed)
    ext_boot: list[list[float]] = []
    for n, rows in sets.items():
        p_cv, p_tr = cv.page_parts(n, rows, held[n]), cv.page_parts(n, rows, traf[n])
        ids = [r["id"] for r in rows]
        s_b, s_a, s_cv, s_tr = (cv.set_score(n, rows, p) for p in (before[n], after[n], held[n], traf[n]))
        seed = rng.random()
        ours = boot_scores(n, [p_cv[i] for i in ids], random.Random(seed), a.boot)
        theirs = boot_scores(n, [p_tr[i] for i in ids], random.Random(seed), a.boot)  # the same resamples
        gain = [x - y for x, y in zip(ours, theirs, strict=True)]
        if n == SH:
            target = f"{sum(x >= SH_TARGET for x in ours) / a.boot:.3f} (>= {SH_TARGET}); " + (
                f"{sum(x - SH_DRIFT >= SH_TARGET for x in ours) / a.boot:.3f} (with -{SH_DRIFT})"
            )
            low = f"{sorted(ours)[a.boot // 20]:.4f} (score)"
        elif n == TE:
            target = f"{sum(g >= TE_GAIN for g in gain) / a.boot:.3f} (gain >= {TE_GAIN})"
            low = f"{sorted(gain)[a.boot // 20]:+.4f}"
        else:
            ext_boot.append(gain)
            target = f"{sum(g >= SET_FLOOR for g in gain) / a.boot:.3f} (gain >= {SET_FLOOR})"
            low = f"{sorted(gain)[a.boot // 20]:+.4f}"
        print(
            f"| {n} | {len(rows)} | {s_b:.4f} | {s_a:.4f} | {s_cv:.4f} | {s_tr:.4f} | {s_cv - s_tr:+.4f} | {low} | {target} |"
        )
    if ext_boot:
        mix = [statistics.mean(g) for g in zip(*ext_boot, strict=True)]
        print(
            f"\nexternal mix (mean of {len(ext_boot)} sets): gain {statistics.mean(mix):+.4f}, 5th pct "
            f"{sorted(mix)[a.boot // 20]:+.4f}, P(gain >= {MIX_GAIN}) = {sum(g >= MIX_GAIN for g in mix) / a.boot:.3f}"
        )


if __name__ == "__main__":
    main()
