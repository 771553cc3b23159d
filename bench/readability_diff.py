#!/usr/bin/env python3
"""readability-lxml as shipped vs wiredesk's private readability class, on every HTML page
of the extraction benchmarks (781 pages), with the cause of each difference.

    .venv/bin/python bench/readability_diff.py            # compare with tests/data/readability_differences.tsv
    .venv/bin/python bench/readability_diff.py --write    # rewrite that list

Prints the counts per cause, the pages whose cause changed, and the CPU time. See
tests/readability_diff.py for the three runs and what each cause means.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.readability_diff import DIFFERENCES, compare, listed, pages  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help="rewrite the list of expected differences")
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    args = ap.parse_args()
    paths = pages(args.shared)
    if not paths:
        print(f"no pages under {args.shared}/data/extraction", file=sys.stderr)
        return 2
    start = time.process_time()
    found = compare(paths)
    cpu = time.process_time() - start
    counts = Counter(found.values())
    print(
        f"{len(paths)} pages, {cpu:.1f} s CPU: identical {len(paths) - len(found)}, "
        + ", ".join(f"{why} {n}" for why, n in sorted(counts.items()))
    )
    if args.write:
        lines = ["# page\tcause (see tests/readability_diff.py); written by bench/readability_diff.py --write"]
        lines += [f"{name}\t{why}" for name, why in sorted(found.items())]
        DIFFERENCES.parent.mkdir(parents=True, exist_ok=True)
        DIFFERENCES.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"wrote {DIFFERENCES}")
        return 0
    expected = listed()
    changed = sorted(n for n in set(found) | set(expected) if found.get(n) != expected.get(n))
    for name in changed:
        print(f"  {name}: listed {expected.get(name)}, now {found.get(name)}")
    print("matches the list" if not changed else f"{len(changed)} pages differ from the list")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
