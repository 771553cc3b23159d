#!/usr/bin/env python3
"""CPU per page of two checkouts' ``extract_page``, both loaded the same way, alternating.

    git archive main extractors | tar -x -C /tmp/old
    git archive HEAD extractors | tar -x -C /tmp/new
    .venv/bin/python bench/extraction_ab.py --old /tmp/old --new /tmp/new --limit 15 --rounds 5

``bench/extraction_speed.py --baseline DIR`` times the installed package against a checkout
loaded from files; on the shared machine that setup alone gave the loaded copy a 2.4 % edge
(the same code on both sides, 2026-12-04), as large as the changes it was meant to resolve.
Here both codes are loaded from files under their own package names, each page is extracted
by both back to back (the order reversed every round) and each page's minimum CPU over the
rounds is summed. Pages: ``bench/extraction.py``'s mixed set. The package loaded first came
out ~1.7 % slower in both orders (2026-12-04): run it again with ``--old`` and ``--new``
swapped and take the geometric mean of the two ratios (new/old and the inverse of old/new).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import extraction as bx  # noqa: E402

from wiredesk.core.errors import WiredeskError  # noqa: E402
from wiredesk.core.records import RawPage  # noqa: E402


def _load(root: Path, name: str):
    init = root / "extractors" / "__init__.py"
    if not init.is_file():
        raise SystemExit(f"{root}: no extractors/__init__.py (give a checkout or a `git archive ... extractors` copy)")
    spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(init.parent)])
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    mod.warm_up()
    return mod.extract_page


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--old", type=Path, required=True)
    ap.add_argument("--new", type=Path, required=True)
    ap.add_argument("--limit", type=int, default=15, help="pages per set of the mixed bench")
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    systems = {"old": _load(a.old.resolve(), "wd_ab_old"), "new": _load(a.new.resolve(), "wd_ab_new")}
    rows = bx.load_mixed(a.limit)
    best = {k: [float("inf")] * len(rows) for k in systems}
    names = list(systems)
    for rnd in range(a.rounds):
        order = names if rnd % 2 == 0 else names[::-1]
        for i, r in enumerate(rows):
            page = RawPage(source="bench", body=r["body"], kind="html", url=r.get("url"))
            for k in order:
                t0 = time.process_time()
                try:
                    systems[k](page)
                except WiredeskError:
                    pass
                best[k][i] = min(best[k][i], time.process_time() - t0)
    ms = {k: sum(v) / len(rows) * 1000 for k, v in best.items()}
    print(
        f"{len(rows)} pages, {a.rounds} rounds: old {ms['old']:.2f} ms/page, new {ms['new']:.2f} ms/page, "
        f"new/old {ms['new'] / ms['old']:.4f}"
    )


if __name__ == "__main__":
    main()
