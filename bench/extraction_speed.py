#!/usr/bin/env python3
"""Per-page CPU of ``extract_page`` against ``trafilatura.extract``, alternating, minimum of N rounds.

    .venv/bin/python bench/extraction_speed.py --bench mixed --limit 15 --rounds 5
    .venv/bin/python bench/extraction_speed.py --bench scrapinghub-aeb --rounds 3
    .venv/bin/python bench/extraction_speed.py --bench mixed --limit 15 --baseline /work/main

On a shared machine a single timed pass over a page set scatters by tens of percent
(``bench/extraction.py`` runs whole passes). Here every page is extracted by both systems
back to back, in alternating order, ``--rounds`` times, and each page's CPU time is the
minimum over the rounds: a burst of load on another core inflates one round, rarely all.
The ratio is trafilatura's summed minima over wiredesk's (>= 1: wiredesk is faster).

``--baseline DIR`` adds a third system: ``extract_page`` of another checkout of wiredesk
(the code before a change), loaded in this process under another package name, so a
speed change is measured against the old code page by page with the same interleaving.

Also printed: the mean CPU per page of each step (``extract_page(timings=...)``: parse,
trafilatura modes, readability, htmldate, ...) over the minimum rounds, how many pages ran
each, and the slowest 1% of pages with their steps.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import extraction as bx  # noqa: E402

from wiredesk.extractors import ExtractSettings, extract_page, warm_up  # noqa: E402


def _load_other(root: Path):
    """``extract_page`` from another checkout's extractors/ package (as ``wd_baseline``)."""
    name = "wd_baseline"
    spec = importlib.util.spec_from_file_location(
        name, root / "extractors" / "__init__.py", submodule_search_locations=[str(root / "extractors")]
    )
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod.extract_page


def _rows(bench: str, limit: int | None) -> list[dict]:
    if bench == "mixed":
        return bx.load_mixed(limit)
    if bench == "external":
        return bx.load_external(limit)
    return [dict(r, set=bench) for r in bx.load_html_bench(bench, limit)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", default="mixed", choices=["mixed", "external", "scrapinghub-aeb", "trafilatura-eval"])
    ap.add_argument("--limit", type=int, help="first N pages (per set for mixed/external)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--baseline", type=Path, help="another checkout whose extract_page is timed too")
    ap.add_argument(
        "--baseline-rule",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="also time the baseline with this chooser.Rules value (e.g. confident_block_share=2.0)",
    )
    ap.add_argument(
        "--passes",
        action="store_true",
        help="whole passes instead: each system extracts every page in turn, systems alternating "
        "per round; per-round CPU and the median of the per-round ratios",
    )
    a = ap.parse_args()

    import trafilatura

    rows = _rows(a.bench, a.limit)
    external = a.bench in ("mixed", "external")
    settings = ExtractSettings()
    systems = {
        # as bench/extraction.py: the external sets' baseline runs without comments
        "trafilatura": (lambda r: trafilatura.extract(r["body"], include_comments=False))
        if external
        else (lambda r: trafilatura.extract(r["body"])),
    }
    steps: dict[str, dict[str, dict[str, float]]] = {}

    def wiredesk(r, fn=extract_page, key="wiredesk"):
        t: dict[str, float] = {}
        try:
            fn(bx.page_of(r), settings=settings, timings=t)
        finally:
            steps.setdefault(key, {})[r["id"]] = t

    systems["wiredesk"] = wiredesk
    if a.baseline:
        old = _load_other(a.baseline.resolve())
        systems["baseline"] = lambda r: wiredesk(r, old, "baseline")
        if a.baseline_rule:  # a fourth system: the baseline with other rules
            rules_cls = sys.modules["wd_baseline.chooser"].Rules
            given = dict(kv.split("=", 1) for kv in a.baseline_rule)
            types = {k: type(getattr(rules_cls(), k)) for k in given}
            ruled = functools.partial(old, rules=rules_cls(**{k: types[k](float(v)) for k, v in given.items()}))
            systems["baseline-rules"] = lambda r: wiredesk(r, ruled, "baseline-rules")
    warm_up()
    for fn in systems.values():  # imports, lazy initialisation
        try:
            fn(rows[0])
        except Exception:
            pass
    if a.passes:
        return whole_passes(systems, rows, a)
    best: dict[str, dict[str, float]] = {name: {} for name in systems}
    best_steps: dict[str, dict[str, dict[str, float]]] = {name: {} for name in systems}
    names = list(systems)
    load = []
    t0 = time.perf_counter()
    for rnd in range(a.rounds):
        load.append(_loadavg())
        order = names if rnd % 2 == 0 else names[::-1]
        for r in rows:
            for name in order:
                c0 = time.process_time()
                try:
                    systems[name](r)
                except Exception:
                    pass
                cpu = time.process_time() - c0
                if cpu < best[name].get(r["id"], float("inf")):
                    best[name][r["id"]] = cpu
                    if name in steps:
                        best_steps[name][r["id"]] = steps[name].get(r["id"], {})
    load.append(_loadavg())
    n = len(rows)
    print(f"## {a.bench}: {n} pages, {a.rounds} rounds, {time.perf_counter() - t0:.0f} s wall, load {_fmt(load)}")
    base = sum(best["trafilatura"].values())
    print("| system | CPU ms/page (sum of per-page minima / pages) | x trafilatura pages/s |")
    print("|---|---|---|")
    for name in names:
        total = sum(best[name].values())
        print(f"| {name} | {1000 * total / n:.2f} | {base / total:.3f} |")
    for name in best_steps:
        if not best_steps[name]:
            continue
        print(f"\n{name}: mean CPU ms per page by step (pages that ran it)")
        agg: dict[str, list[float]] = {}
        for t in best_steps[name].values():
            for k, v in t.items():
                agg.setdefault(k, []).append(v)
        for k, v in sorted(agg.items(), key=lambda kv: -sum(kv[1])):
            print(f"  {bx._WHAT.get(k, k):<32} {1000 * sum(v) / n:7.2f}  ({len(v)} pages)")
        rest = sum(best[name].values()) - sum(sum(t.values()) for t in best_steps[name].values())
        print(f"  {'line rules, stated metadata, ...':<32} {1000 * rest / n:7.2f}")
    print("\nslowest 1% of pages for wiredesk (min CPU s; trafilatura's; steps):")
    by_id = {r["id"]: r for r in rows}
    for pid in sorted(best["wiredesk"], key=best["wiredesk"].get, reverse=True)[: max(1, n // 100)]:
        cpu = best["wiredesk"][pid]
        print(
            f"  {pid}: {cpu:.3f} s (trafilatura {best['trafilatura'][pid]:.3f} s), {len(by_id[pid]['body'])} bytes; "
            f"{bx._costs(best_steps['wiredesk'].get(pid, {}), cpu)}"
        )
    ratios = [best["trafilatura"][p] / best["wiredesk"][p] for p in best["wiredesk"] if best["wiredesk"][p] > 0]
    print(f"\nper-page ratio trafilatura/wiredesk: median {statistics.median(ratios):.2f}")


def whole_passes(systems: dict, rows: list[dict], a) -> None:
    """Each round, every system extracts all pages (a whole pass), in alternating order."""
    names = list(systems)
    cpu: dict[str, list[float]] = {name: [] for name in names}
    load = []
    t0 = time.perf_counter()
    for rnd in range(a.rounds):
        load.append(_loadavg())
        for name in names if rnd % 2 == 0 else names[::-1]:
            c0 = time.process_time()
            for r in rows:
                try:
                    systems[name](r)
                except Exception:
                    pass
            cpu[name].append(time.process_time() - c0)
    load.append(_loadavg())
    n = len(rows)
    print(
        f"## {a.bench}: {n} pages, {a.rounds} whole passes each, {time.perf_counter() - t0:.0f} s wall, load {_fmt(load)}"
    )
    print("| system | CPU s per pass (each round) | median pages/CPU s | x trafilatura (median of rounds) |")
    print("|---|---|---|---|")
    for name in names:
        ratio = statistics.median(t / o for t, o in zip(cpu["trafilatura"], cpu[name]))
        rounds = " ".join(f"{c:.2f}" for c in cpu[name])
        print(f"| {name} | {rounds} | {n / statistics.median(cpu[name]):.1f} | {ratio:.3f} |")
    for base in ("baseline", "baseline-rules"):
        if base in cpu:
            change = statistics.median(w / b for w, b in zip(cpu["wiredesk"], cpu[base]))
            print(f"wiredesk / {base} CPU per pass: median of rounds {change:.3f}")


def _loadavg() -> float:
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def _fmt(load: list[float]) -> str:
    return f"{min(load):.1f}-{max(load):.1f}"


if __name__ == "__main__":
    main()
