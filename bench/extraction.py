#!/usr/bin/env python3
"""Extraction benchmark: wiredesk vs plain trafilatura, same pages, same process.

    .venv/bin/python bench/extraction.py --bench scrapinghub-aeb
    .venv/bin/python bench/extraction.py --bench trafilatura-eval [--limit 200]
    .venv/bin/python bench/extraction.py --bench textpages
    .venv/bin/python bench/extraction.py --bench syndication   # the dedup corpus, html + txt
    .venv/bin/python bench/extraction.py --bench all
    .venv/bin/python bench/extraction.py --bench scrapinghub-aeb --repeat 5   # median timings
    .venv/bin/python bench/extraction.py --bench external [--limit 40]  # external-dev, 5 sets
    .venv/bin/python bench/extraction.py --bench mixed --limit 40 --repeat 3  # speed on a mix
    .venv/bin/python bench/extraction.py --cv [--limit 40]   # cross-validated F1 per set

``--bench external`` scores the five external-dev sets with their token F1
(``score_external.py``) against trafilatura as that script runs it (no comments), and
counts blow-ups (output over 3x its truth in tokens where trafilatura's is not) and empty
outputs. ``--bench mixed`` is the same pages from every HTML set (ScrapingHub,
trafilatura-eval, external-dev) for the speed ratio, and lists the slowest 1% of pages
with what ran on them and each step's own CPU time (every bench prints them). ``--cv`` runs ``bench/extraction_cv.py``: the chooser's rules
chosen on the other folds, per set in-sample vs cross-validated F1.

Prints one table per benchmark: F1, precision, recall, pages/s and the ratio of each
system's pages/s to plain ``trafilatura.extract`` (default settings) measured in this
run. Metrics are the benchmarks' own (``../shared/tools/score_extraction.py``, imported).

Speed columns: ``pg/s cpu`` is pages per second of this process's CPU time, the robust
number on a shared machine; ``pg/s wall`` is wall time. The ``wiredesk pool`` row is
``extract_many`` over every core (wall time only: the work happens in child processes),
its ratio is against trafilatura's single-process wall time, and "cores busy" is the
workers' CPU time over the wall time (close to the core count on an idle machine; lower
when other processes compete for the cores).
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import statistics
import sys
import time
from html import escape as html_escape
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(SHARED / "tools"))

from score_extraction import sh_score, te_score  # noqa: E402

from wiredesk.core.errors import WiredeskError  # noqa: E402
from wiredesk.core.records import RawPage  # noqa: E402
from wiredesk.extractors import ExtractSettings, extract_many, extract_page, learn_profile, profile_host, warm_up  # noqa: E402


def load_html_bench(name: str, limit: int | None) -> list[dict]:
    d = SHARED / "data" / "extraction" / name
    rows = [json.loads(line) for line in (d / "ground_truth.jsonl").open(encoding="utf-8")]
    rows = rows[:limit] if limit else rows
    for r in rows:
        r["body"] = gzip.decompress((d / "html" / f"{r['id']}.html.gz").read_bytes())
        r["kind"] = "html"
    return rows


def load_textpages(limit: int | None) -> list[dict]:
    d = SHARED / "data" / "textpages" / "dev"
    rows = [json.loads(line) for line in (d / "truth.jsonl").open(encoding="utf-8")]
    rows = rows[:limit] if limit else rows
    for r in rows:
        r["body"] = (d / "pages" / f"{r['id']}.txt").read_bytes()
        r["kind"] = "text"
    return rows


def load_syndication(limit: int | None) -> list[dict]:
    """The dedup corpus (HTML and text pages); truth = the article text as inserted."""
    d = SHARED / "data" / "dedup" / "syndication-dev"
    urls = {m["file"]: m["url"] for m in map(json.loads, (d / "meta.jsonl").open(encoding="utf-8"))}
    rows = []
    for b in map(json.loads, (d / "bodies.jsonl").open(encoding="utf-8")):
        rows.append(
            {
                "id": b["file"],
                "url": urls.get(b["file"]),
                "text": b["text"],
                "body": (d / "docs" / b["file"]).read_bytes(),
                "kind": "html" if b["file"].endswith(".html") else "text",
            }
        )
    return rows[:limit] if limit else rows


def load_external(limit: int | None) -> list[dict]:
    """external-dev's pages; ``limit`` per set. Truth as text (score_external's reading)."""
    import score_external

    rows, per_set = [], {}
    for pg in score_external.pages():
        per_set[pg.set] = per_set.get(pg.set, 0) + 1
        if limit and per_set[pg.set] > limit:
            continue
        rows.append({"id": f"{pg.set}/{pg.id}", "set": pg.set, "body": pg.html, "truth": pg.truth, "kind": "html"})
    return rows


def load_mixed(limit: int | None) -> list[dict]:
    """Every HTML set's first ``limit`` pages (per set), for speed on a mix of sites."""
    rows = []
    for name in ("scrapinghub-aeb", "trafilatura-eval"):
        rows += [dict(r, set=name) for r in load_html_bench(name, limit)]
    return rows + load_external(limit)


def external_score(rows: list[dict], preds: dict, base: dict | None = None) -> dict:
    """Token F1 per external set (mean over its pages), mean of sets, blow-ups and empties."""
    import score_external

    per_set: dict[str, list[float]] = {}
    blowups = empty = 0
    for r in rows:
        truth = r.get("truth") or r.get("text")  # trafilatura-eval has snippets only: not scored here
        if truth is None:
            continue
        out = preds.get(r["id"]) or ""
        per_set.setdefault(r["set"], []).append(score_external.score(out, truth)[2])
        n_truth = sum(score_external.tokens(truth).values())
        n_out = sum(score_external.tokens(out).values())
        empty += n_out == 0
        if base is not None and n_truth:
            n_base = sum(score_external.tokens(base.get(r["id"]) or "").values())
            blowups += n_out > 3 * n_truth and n_base <= 3 * n_truth
    sets = {k: statistics.mean(v) for k, v in sorted(per_set.items())}
    return {"f1": statistics.mean(sets.values()), "sets": sets, "blowups": blowups, "empty": empty}


def page_of(r: dict) -> RawPage:
    return RawPage(source="bench", body=r["body"], kind=r["kind"], url=(r.get("url") or "").strip() or None)


def timed(fn, rows, per_page: dict | None = None):
    """Run fn over rows; outputs, CPU seconds, wall seconds (per-page CPU into per_page)."""
    out = {}
    c0, w0 = time.process_time(), time.perf_counter()
    for r in rows:
        p0 = time.process_time()
        try:
            out[r["id"]] = fn(r)
        except Exception:
            out[r["id"]] = None
        if per_page is not None:
            per_page[r["id"]] = time.process_time() - p0
    return out, time.process_time() - c0, time.perf_counter() - w0


def run(bench: str, limit: int | None, workers: int | None, settings: ExtractSettings, repeat: int = 1) -> dict:
    import trafilatura

    if bench == "textpages":
        rows = load_textpages(limit)
    elif bench == "syndication":
        rows = load_syndication(limit)
    elif bench == "external":
        rows = load_external(limit)
    elif bench == "mixed":
        rows = load_mixed(limit)
    else:
        rows = load_html_bench(bench, limit)
    external = bench in ("external", "mixed")
    score = te_score if bench == "trafilatura-eval" else sh_score

    def wrap(r: dict):
        """trafilatura gets HTML as is; a text page wrapped as one <p> per line."""
        if r["kind"] == "html":
            return r["body"]
        lines = html_escape(r["body"].decode("utf-8")).splitlines()
        return "<html><body>" + "".join(f"<p>{line}</p>" for line in lines) + "</body></html>"

    systems = {
        # the external benchmarks' baseline is trafilatura without comments (score_external.py)
        "trafilatura": (lambda r: trafilatura.extract(wrap(r), include_comments=False))
        if external
        else (lambda r: trafilatura.extract(wrap(r))),
        "trafilatura precision": lambda r: trafilatura.extract(wrap(r), favor_precision=True, include_comments=False),
    }
    if bench in ("textpages", "syndication"):
        systems["raw page"] = lambda r: (
            r["body"].decode("utf-8") if r["kind"] == "text" else trafilatura.html2txt(r["body"])
        )
    wd: dict[str, object] = {}
    ran: dict[str, list[str]] = {}  # which candidates each page needed (the slowest-pages report)

    spent: dict[str, dict[str, float]] = {}  # page -> CPU seconds per candidate (own time)

    def wiredesk(r):
        memo: dict = {}
        timings = spent[r["id"]] = {}
        try:
            e = extract_page(page_of(r), settings=settings, memo=memo, timings=timings)
        finally:
            ran[r["id"]] = [k for k in memo if k not in ("tree", "declared", "info", "meta_head")]
        wd[r["id"]] = e
        return e.text

    systems["wiredesk"] = wiredesk
    warm_up()  # what the pipeline's pool does once per process (dateparser locales, ...)
    extract_page(page_of(rows[0]), settings=settings)  # warm-up: imports, lazy init
    trafilatura.extract(wrap(rows[0]))
    results = {}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in systems}
    outputs: dict[str, dict] = {}
    page_cpu: dict[str, float] = {}
    for rep in range(repeat):  # interleaved, so a burst of load hits every system alike
        for name, fn in systems.items():
            preds, cpu, wall = timed(fn, rows, page_cpu if name == "wiredesk" else None)
            times[name].append((cpu, wall))
            if rep == 0:
                outputs[name] = preds
    for name, preds in outputs.items():
        if external:
            m = external_score(rows, preds, outputs["trafilatura"] if name != "trafilatura" else None)
            m.update(precision=float("nan"), recall=float("nan"))
        else:
            m = score(rows, preds, n_boot=200) if score is sh_score else score(rows, preds)
        m.update(n=len(rows))
        results[name] = m
    slow = sorted(page_cpu, key=page_cpu.get, reverse=True)[: max(1, len(rows) // 100)]
    by_id = {r["id"]: r for r in rows}
    results["_slowest"] = [
        (
            pid,
            page_cpu[pid],
            len(by_id[pid]["body"]),
            getattr(wd.get(pid), "method", "error"),
            ran.get(pid, []),
            _costs(spent.get(pid, {}), page_cpu[pid]),
        )
        for pid in slow
    ]
    for name, runs in times.items():
        results[name].update(cpu=statistics.median(c for c, _ in runs), wall=statistics.median(w for _, w in runs))
    if external:
        return results
    pages = [page_of(r) for r in rows]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    w0 = time.perf_counter()
    batch = extract_many(pages, settings=settings, workers=workers)
    wall = time.perf_counter() - w0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    preds = {r["id"]: (b.text if not isinstance(b, WiredeskError) else None) for r, b in zip(rows, batch)}
    m = score(rows, preds, n_boot=200) if score is sh_score else score(rows, preds)
    m.update(cpu=None, wall=wall, n=len(rows), cores_used=child_cpu / wall if wall else None)
    results["wiredesk pool"] = m
    if bench == "syndication":
        # The per-host memory, as the pipeline uses it: learn every host's profile from
        # the corpus itself (the lead persists it between runs), then extract with it.
        by_host: dict[str, list[RawPage]] = {}
        for p in pages:
            by_host.setdefault(profile_host(p), []).append(p)
        c0 = time.process_time()
        profiles = {h: learn_profile(None, h, ps) for h, ps in by_host.items()}
        learn_cpu = time.process_time() - c0
        preds, cpu, wall = timed(
            lambda r: extract_page(page_of(r), settings=settings, profile=profiles.get(profile_host(page_of(r)))).text,
            rows,
        )
        m = score(rows, preds, n_boot=200)
        m.update(cpu=cpu + learn_cpu, wall=wall, n=len(rows))
        results["wiredesk + host profiles"] = m
    if bench == "trafilatura-eval":
        results["_metadata"] = metadata_rates(rows, wd)
    return results


# What each candidate is, for the slowest-pages report.
_WHAT = {
    "tree": "parse",
    "declared": "parse + declared language",
    "precise": "trafilatura precision",
    "balanced": "trafilatura balanced",
    "readability": "readability",
    "recall": "trafilatura recall",
    "block": "main block",
    "entries": "live-blog check",
    "info": "title/canonical/credit links",
    "meta_head": "meta tags + JSON-LD",
    "meta_author": "byline search",
    "meta_date": "htmldate",
}


def _costs(spent: dict[str, float], total: float) -> str:
    """Where a page's CPU time went: the three costliest steps, the rest after them."""
    parts = sorted(((t, _WHAT.get(k, k)) for k, t in spent.items()), reverse=True)
    rest = total - sum(spent.values())
    parts.append((rest, "line rules, stated metadata, language, decoding"))
    parts.sort(reverse=True)
    return ", ".join(f"{what} {t:.3f}" for t, what in parts[:4] if t >= 0.0005)


def metadata_rates(rows: list[dict], wd: dict) -> dict:
    """Exact-match rates of title / author / date, wiredesk vs trafilatura's metadata."""
    from trafilatura import extract_metadata
    from trafilatura.utils import load_html

    from wiredesk.extractors.decoding import decode_page

    def norm(s):
        return " ".join(str(s).split()).casefold() if s else None

    counts = {f"{who} {k}": [0, 0] for who in ("wiredesk", "trafilatura") for k in ("title", "author", "date")}
    for r in rows:
        e = wd.get(r["id"])
        try:
            t = extract_metadata(load_html(decode_page(r["body"], kind="html")))
        except Exception:
            t = None
        for k, ek, tk in (("title", "title", "title"), ("author", "author", "author"), ("date", "published", "date")):
            if not r.get(k):
                continue
            want = norm(r[k])
            got_w = norm(getattr(e, ek, None)) if e is not None else None
            got_t = norm(getattr(t, tk, None)) if t is not None else None
            if k == "date":
                got_w = got_w[:10] if got_w else None
                got_t = got_t[:10] if got_t else None
            counts[f"wiredesk {k}"][0] += got_w == want
            counts[f"wiredesk {k}"][1] += 1
            counts[f"trafilatura {k}"][0] += got_t == want
            counts[f"trafilatura {k}"][1] += 1
    return {k: (a / b if b else None, b) for k, (a, b) in counts.items()}


def print_table(bench: str, results: dict) -> None:
    base = results["trafilatura"]
    n = base["n"]
    print(f"\n## {bench} ({n} pages)")
    print("| system | F1 | P | R | pg/s cpu | pg/s wall | x trafilatura |")
    print("|---|---|---|---|---|---|---|")
    for name, m in results.items():
        if name.startswith("_"):
            continue
        if "sets" in m:
            sets = " ".join(f"{k} {v:.4f}" for k, v in m["sets"].items())
            ratio = f"{base['cpu'] / m['cpu']:.2f} (cpu)" if m["cpu"] else "-"
            print(
                f"| {name} | {m['f1']:.4f} (mean of sets: {sets}) | blow-ups {m['blowups']} | empty {m['empty']} "
                f"| {n / m['cpu']:.1f} | {n / m['wall']:.1f} | {ratio} |"
            )
            continue
        cpu = f"{n / m['cpu']:.1f}" if m["cpu"] else "-"
        wall = f"{n / m['wall']:.1f}"
        if m["cpu"]:
            ratio = f"{base['cpu'] / m['cpu']:.2f} (cpu)"
        else:
            ratio = f"{base['wall'] / m['wall']:.2f} (wall)"
        cores = f" ({m['cores_used']:.2f} cores busy)" if m.get("cores_used") else ""
        print(
            f"| {name} | {m['f1']:.4f} | {m['precision']:.4f} | {m['recall']:.4f} | {cpu} | {wall} | {ratio}{cores} |"
        )
    if results.get("_slowest"):
        print("\nslowest 1% of pages for wiredesk (CPU s, bytes, method, candidates computed):")
        for pid, cpu, size, method, ran, costs in results["_slowest"]:
            print(f"  {pid}: {cpu:.3f} s, {size} bytes, {method}, ran {', '.join(ran)}")
            print(f"    CPU s by step: {costs}")
    if "_metadata" in results:
        print("\nmetadata exact match (pages with that field in the ground truth):")
        for k, (rate, total) in results["_metadata"].items():
            print(f"  {k:<20} {rate:.3f}  of {total}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--bench",
        default="scrapinghub-aeb",
        choices=["scrapinghub-aeb", "trafilatura-eval", "textpages", "syndication", "external", "mixed", "all"],
    )
    ap.add_argument("--cv", action="store_true", help="cross-validated F1 per set (bench/extraction_cv.py)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--limit", type=int, help="first N pages only (quick runs)")
    ap.add_argument("--workers", type=int, help="extract_many workers (default: all cores)")
    ap.add_argument("--no-readability", action="store_true")
    ap.add_argument("--no-metadata", action="store_true")
    ap.add_argument(
        "--repeat", type=int, default=1, help="time every system N times, interleaved, and report the medians"
    )
    ap.add_argument("--json-out", type=Path)
    a = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"shared data not found at {SHARED}")
    if a.cv:
        sys.path.insert(0, str(REPO / "bench"))
        import extraction_cv

        extraction_cv.report(extraction_cv.load_sets(a.limit), a.folds, None, a.json_out)
        return
    settings = ExtractSettings(use_readability=not a.no_readability, with_metadata=not a.no_metadata)
    benches = ["scrapinghub-aeb", "trafilatura-eval", "textpages", "syndication"] if a.bench == "all" else [a.bench]
    out = {}
    for b in benches:
        out[b] = run(b, a.limit, a.workers, settings, a.repeat)
        print_table(b, out[b])
    if a.json_out:
        a.json_out.write_text(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
