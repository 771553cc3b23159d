#!/usr/bin/env python3
"""Page-by-page outputs of ``extract_page`` over every development set, and their diff.

An optimisation of the extractors must not change what they return. Dump every field of
every page's result (or its error) before and after, then compare:

    .venv/bin/python bench/extraction_diff.py dump /tmp/before.jsonl.gz   # on the old code
    .venv/bin/python bench/extraction_diff.py dump /tmp/after.jsonl.gz    # on the new code
    .venv/bin/python bench/extraction_diff.py diff /tmp/before.jsonl.gz /tmp/after.jsonl.gz

Sets: ScrapingHub (121), trafilatura-eval (660), all external-dev pages (1036), the text
pages (121) and the syndication corpus (HTML and text). The dumps hold extractor output,
never the benchmarks' truth; keep them outside the repository.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import extraction as bx  # noqa: E402

from wiredesk.core.errors import WiredeskError  # noqa: E402
from wiredesk.core.records import Extracted  # noqa: E402
from wiredesk.extractors import extract_page, warm_up  # noqa: E402

FIELDS = tuple(f.name for f in dataclasses.fields(Extracted))  # every field of the result


def rows() -> list[dict]:
    out = []
    for name in ("scrapinghub-aeb", "trafilatura-eval"):
        out += [dict(r, set=name) for r in bx.load_html_bench(name, None)]
    out += bx.load_external(None)
    out += [dict(r, set="textpages") for r in bx.load_textpages(None)]
    out += [dict(r, set="syndication") for r in bx.load_syndication(None)]
    return out


def dump(path: Path, only: str | None) -> None:
    warm_up()
    n, t0 = 0, time.process_time()
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for r in rows():
            if only and r["set"] != only:
                continue
            try:
                e = extract_page(bx.page_of(r))
                rec = {k: getattr(e, k) for k in FIELDS}
            except WiredeskError as exc:
                rec = {"error": f"{type(exc).__name__}:{getattr(exc, 'reason', '')}"}
            rec["key"] = f"{r['set']}/{r['id']}"
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
    print(f"{n} pages, {time.process_time() - t0:.1f} s CPU -> {path}")


def load(path: Path) -> dict[str, dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return {rec["key"]: rec for rec in map(json.loads, f)}


def diff(a_path: Path, b_path: Path) -> int:
    a, b = load(a_path), load(b_path)
    changed = 0
    for key in sorted(set(a) | set(b)):
        ra, rb = a.get(key), b.get(key)
        if ra == rb:
            continue
        changed += 1
        if ra is None or rb is None:
            print(f"{key}: only in {'after' if ra is None else 'before'}")
            continue
        for k in sorted(set(ra) | set(rb)):
            if ra.get(k) != rb.get(k):
                va, vb = repr(ra.get(k)), repr(rb.get(k))
                print(f"{key} {k}: {va[:200]} -> {vb[:200]}")
    print(f"{len(a)} vs {len(b)} pages, {changed} differ")
    return changed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--set", help="one set only (scrapinghub-aeb, cleaneval, textpages, ...)")
    c = sub.add_parser("diff")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    a = ap.parse_args()
    if a.cmd == "dump":
        dump(a.out, a.set)
    else:
        sys.exit(1 if diff(a.before, a.after) else 0)


if __name__ == "__main__":
    main()
