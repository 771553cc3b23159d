#!/usr/bin/env python3
"""Where the HTML path still loses to trafilatura (or to the truth), page by page, per set.

    .venv/bin/python bench/extraction_losses.py --cache /tmp/memo.pkl --out /tmp/losses.jsonl.gz
    .venv/bin/python bench/extraction_losses.py --cache /tmp/memo.pkl --set dragnet --gap 0.1 --show 5

For every development HTML page (the sets of ``bench/extraction_cv.py``) the current
``extract_page`` output and ``trafilatura.extract(include_comments=False)`` are scored with
the set's own metric, per page: precision, recall and F1 (ScrapingHub: shingle counts;
trafilatura-eval: its with/without snippets; external sets: token F1). Pages where we are
below trafilatura by more than ``--gap`` F1 are listed per set with a first class:

- ``recall``: we lose recall and not precision (story parts dropped, truncated lists);
- ``precision``: we lose precision and not recall (furniture kept);
- ``both``: both fall (usually the wrong candidate chosen);
- ``short``: our output is under a third of trafilatura's words (a collapsed candidate).

``--show N`` prints the first N lines only ours / only trafilatura's output hold for each
listed page. ``--out`` writes every page's scores and both outputs (extractor output only,
never the truth) for a later diff. The memo file is the one ``bench/extraction_cv.py
--cache`` reads and writes; trafilatura's outputs are cached beside it (``FILE.traf``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import pickle
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import extraction_cv as cv  # noqa: E402

from wiredesk.extractors import warm_up  # noqa: E402
from wiredesk.extractors.chooser import RULES  # noqa: E402
from wiredesk.extractors.settings import ExtractSettings  # noqa: E402


def page_prf(name: str, row: dict, pred: str | None) -> tuple[float, float, float]:
    """(precision, recall, F1) of one page under its set's metric."""
    if name == "scrapinghub-aeb":
        tp, fp, fn, _ = cv.sh_page(row["text"], pred or "")
    elif name == "trafilatura-eval":
        tp, fn, fp = cv._te_counts(row, {row["id"]: pred})
    else:
        return cv.score_external.score(pred or "", row["truth"])
    p = tp / (tp + fp) if tp + fp else (1.0 if not fn else 0.0)
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def loss_class(ours: tuple, theirs: tuple, n_ours: int, n_theirs: int) -> str:
    if n_theirs and n_ours < n_theirs / 3:
        return "short"
    dp, dr = theirs[0] - ours[0], theirs[1] - ours[1]
    if dp > 0.05 and dr > 0.05:
        return "both"
    return "precision" if dp > dr else "recall"


def lines_only(a: str | None, b: str | None) -> list[str]:
    seen = {" ".join(x.split()) for x in (b or "").split("\n")}
    return [x for x in (a or "").split("\n") if x.strip() and " ".join(x.split()) not in seen]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, required=True, help="memo pickle (as bench/extraction_cv.py --cache)")
    ap.add_argument("--out", type=Path, help="every page's scores and both outputs (jsonl.gz)")
    ap.add_argument("--set", help="one set only")
    ap.add_argument("--gap", type=float, default=0.1, help="list pages below trafilatura by more than this F1")
    ap.add_argument("--show", type=int, default=0, help="lines only one side holds, per listed page")
    ap.add_argument("--limit", type=int)
    a = ap.parse_args()
    sets = cv.load_sets(a.limit)
    if a.set:
        if a.set not in sets:
            ap.error(f"--set {a.set}: no such set (sets: {', '.join(sets)})")
        sets = {a.set: sets[a.set]}
    warm_up()
    memos = pickle.loads(a.cache.read_bytes()) if a.cache.exists() else {}
    tcache = a.cache.with_suffix(a.cache.suffix + ".traf")
    traf = pickle.loads(tcache.read_bytes()) if tcache.exists() else {}
    missing = {n: [r for r in rows if (n, r["id"]) not in traf] for n, rows in sets.items()}
    if any(missing.values()):
        for n, outs in cv.trafilatura_outputs({n: rows for n, rows in missing.items() if rows}).items():
            traf.update({(n, i): t for i, t in outs.items()})
        tcache.write_bytes(pickle.dumps(traf))
    ours = cv.extract_all(sets, RULES, memos, ExtractSettings())
    a.cache.write_bytes(pickle.dumps({k: {x: v for x, v in m.items() if x != "tree"} for k, m in memos.items()}))
    out = gzip.open(a.out, "wt", encoding="utf-8") if a.out else None
    for name, rows in sets.items():
        losers, classes = [], {}
        for r in rows:
            mine, theirs = ours[name][r["id"]], traf[(name, r["id"])]
            s_ours, s_traf = page_prf(name, r, mine), page_prf(name, r, theirs)
            n_ours, n_traf = len((mine or "").split()), len((theirs or "").split())
            if out:
                rec = {"set": name, "id": r["id"], "ours": s_ours, "traf": s_traf, "text": mine, "traf_text": theirs}
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            if s_ours[2] < s_traf[2] - a.gap:
                kind = loss_class(s_ours, s_traf, n_ours, n_traf)
                classes[kind] = classes.get(kind, 0) + 1
                losers.append((s_traf[2] - s_ours[2], r["id"], kind, s_ours, s_traf, n_ours, n_traf, mine, theirs))
        print(f"## {name}: {len(losers)} of {len(rows)} pages below trafilatura by > {a.gap} F1 {classes}")
        for gap, pid, kind, so, st, no, nt, mine, theirs in sorted(losers, reverse=True):
            print(
                f"  {pid[:24]:24} -{gap:.3f} {kind:9} ours P/R {so[0]:.2f}/{so[1]:.2f} ({no} w)"
                f"  traf P/R {st[0]:.2f}/{st[1]:.2f} ({nt} w)"
            )
            if a.show:
                for line in lines_only(mine, theirs)[: a.show]:
                    print(f"      + {line[:150]}")
                for line in lines_only(theirs, mine)[: a.show]:
                    print(f"      - {line[:150]}")
    if out:
        out.close()


if __name__ == "__main__":
    main()
