#!/usr/bin/env python3
"""Whole passes over first-seen pages: each system in a fresh process per round, alternating.

    .venv/bin/python bench/extraction_firstseen.py --pages 600 --rounds 3
    .venv/bin/python bench/extraction_firstseen.py --pages 600 --rounds 3 --baseline /tmp/base

``bench/extraction_speed.py`` takes each page's minimum over rounds in one process, so every
round after the first meets warm caches (htmldate's ``lru_cache`` hides dateparser's locale
search) and a round hit by a cyclic collection is dropped. A pool worker sees each page once.
Here every run is a new process that warms up as a pool worker does (``warm_without_gc()``,
then ``gc.freeze()``) and extracts each page once; the CPU time of that loop is reported, with
the cyclic collector's own CPU time and the peak RSS. Pages: ``bench/e2e.py``'s page files (the
dev sets round-robin). trafilatura runs as ``trafilatura.extract(body, include_comments=False)``.
``--baseline DIR``: another checkout (e.g. ``git archive main | tar -x -C /tmp/base``), laid out
as the package in a temporary folder and imported instead of this one.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYOUT = {"wiredesk": "wiredesk", "config": "config", "extractors": "extractors", "fetching": "fetching"}
LAYOUT.update(dedup="dedup", storage="storage", flows="flows")

CHILD = r"""
import gc, json, resource, sys, time
from pathlib import Path
layout, system, folder, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if layout:
    sys.meta_path[:] = [f for f in sys.meta_path if not str(getattr(f, "__module__", "")).startswith("__editable__")]
    sys.path.insert(0, layout)
from wiredesk.core.records import RawPage
from wiredesk.extractors import extract_page
from wiredesk.extractors.pool import warm_without_gc
import trafilatura
bodies = [p.read_bytes() for p in sorted(Path(folder).iterdir())][:n]
if system == "trafilatura":
    run = lambda body: trafilatura.extract(body, include_comments=False)
else:
    run = lambda body: extract_page(RawPage(source="bench", body=body, kind="html"))
warm_without_gc()
gc.freeze()
spent = [0.0, 0.0]
def on_gc(phase, info):
    if phase == "start":
        spent[1] = time.process_time()
    else:
        spent[0] += time.process_time() - spent[1]
gc.callbacks.append(on_gc)
c0 = time.process_time()
for body in bodies:
    try:
        run(body)
    except Exception:
        pass
cpu = time.process_time() - c0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"cpu": cpu, "gc": spent[0], "rss": rss, "n": len(bodies)}))
"""


def layout_of(checkout: Path, into: Path) -> Path:
    """``checkout``'s folders laid out as the installed package (pyproject's package-dir)."""
    pkg = into / "wiredesk"
    shutil.copytree(checkout / "wiredesk", pkg)
    for name, folder in LAYOUT.items():
        if name != "wiredesk":
            shutil.copytree(checkout / folder, pkg / name)
    return into


def _load() -> float:
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=600)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--baseline", type=Path, help="another checkout, timed as 'baseline'")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "extraction"))
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    import e2e

    work = Path(tempfile.mkdtemp(prefix="firstseen-"))
    try:
        folder = e2e.make_pages(a.pages, Path(a.data), work)
        systems = {"trafilatura": "", "wiredesk": ""}
        if a.baseline:
            systems["baseline"] = str(layout_of(a.baseline.resolve(), work / "baseline"))
        runs: dict[str, list[dict]] = {name: [] for name in systems}
        loads = [_load()]
        for rnd in range(a.rounds):
            for name in list(systems) if rnd % 2 == 0 else list(systems)[::-1]:
                system = "trafilatura" if name == "trafilatura" else "wiredesk"
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, systems[name], system, str(folder), str(a.pages)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
                print(name, runs[name][-1], flush=True)
            loads.append(_load())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = statistics.median(r["cpu"] for r in runs["trafilatura"])
    print(f"\n{a.pages} first-seen pages, {a.rounds} rounds, load {min(loads):.1f}-{max(loads):.1f}")
    print("| system | CPU s (median) | ms/page | x trafilatura | collector CPU s | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for name, rs in runs.items():
        cpu = statistics.median(r["cpu"] for r in rs)
        print(
            f"| {name} | {cpu:.2f} | {1000 * cpu / a.pages:.2f} | {base / cpu:.3f} "
            f"| {statistics.median(r['gc'] for r in rs):.3f} | {max(r['rss'] for r in rs):.0f} |"
        )
    if "baseline" in runs:
        ratios = [w["cpu"] / b["cpu"] for w, b in zip(runs["wiredesk"], runs["baseline"])]
        print(f"wiredesk / baseline CPU per round: {', '.join(f'{r:.3f}' for r in ratios)}")


if __name__ == "__main__":
    main()
