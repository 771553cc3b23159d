#!/usr/bin/env python3
"""Extraction benchmark: wiredesk vs plain trafilatura, same pages, same process.

    .venv/bin/python bench/extraction.py --bench scrapinghub-aeb
    .venv/bin/python bench/extraction.py --bench trafilatura-eval [--limit 200]
    .venv/bin/python bench/extraction.py --bench textpages
    .venv/bin/python bench/extraction.py --bench syndication   # the dedup corpus, html + txt
    .venv/bin/python bench/extraction.py --bench all
    .venv/bin/python bench/extraction.py --bench scrapinghub-aeb --repeat 5   # median timings

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


def page_of(r: dict) -> RawPage:
    return RawPage(source="bench", body=r["body"], kind=r["kind"], url=(r.get("url") or "").strip() or None)


def timed(fn, rows):
    """Run fn over rows; outputs, CPU seconds, wall seconds."""
    out = {}
    c0, w0 = time.process_time(), time.perf_counter()
    for r in rows:
        try:
            out[r["id"]] = fn(r)
        except Exception:
            out[r["id"]] = None
    return out, time.process_time() - c0, time.perf_counter() - w0


def run(bench: str, limit: int | None, workers: int | None, settings: ExtractSettings, repeat: int = 1) -> dict:
    import trafilatura

    if bench == "textpages":
        rows = load_textpages(limit)
    elif bench == "syndication":
        rows = load_syndication(limit)
    else:
        rows = load_html_bench(bench, limit)
    score = te_score if bench == "trafilatura-eval" else sh_score

    def wrap(r: dict):
        """trafilatura gets HTML as is; a text page wrapped as one <p> per line."""
        if r["kind"] == "html":
            return r["body"]
        lines = html_escape(r["body"].decode("utf-8")).splitlines()
        return "<html><body>" + "".join(f"<p>{line}</p>" for line in lines) + "</body></html>"

    systems = {
        "trafilatura": lambda r: trafilatura.extract(wrap(r)),
        "trafilatura precision": lambda r: trafilatura.extract(wrap(r), favor_precision=True, include_comments=False),
    }
    if bench in ("textpages", "syndication"):
        systems["raw page"] = lambda r: (
            r["body"].decode("utf-8") if r["kind"] == "text" else trafilatura.html2txt(r["body"])
        )
    wd: dict[str, object] = {}

    def wiredesk(r):
        e = extract_page(page_of(r), settings=settings)
        wd[r["id"]] = e
        return e.text

    systems["wiredesk"] = wiredesk
    warm_up()  # what the pipeline's pool does once per process (dateparser locales, ...)
    extract_page(page_of(rows[0]), settings=settings)  # warm-up: imports, lazy init
    trafilatura.extract(wrap(rows[0]))
    results = {}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in systems}
    for rep in range(repeat):  # interleaved, so a burst of load hits every system alike
        for name, fn in systems.items():
            preds, cpu, wall = timed(fn, rows)
            times[name].append((cpu, wall))
            if rep == 0:
                m = score(rows, preds, n_boot=200) if score is sh_score else score(rows, preds)
                m.update(n=len(rows))
                results[name] = m
    for name, runs in times.items():
        results[name].update(cpu=statistics.median(c for c, _ in runs), wall=statistics.median(w for _, w in runs))
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
    if "_metadata" in results:
        print("\nmetadata exact match (pages with that field in the ground truth):")
        for k, (rate, total) in results["_metadata"].items():
            print(f"  {k:<20} {rate:.3f}  of {total}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--bench",
        default="scrapinghub-aeb",
        choices=["scrapinghub-aeb", "trafilatura-eval", "textpages", "syndication", "all"],
    )
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
