#!/usr/bin/env python3
"""End to end: the same page files through `wiredesk run`, the Python API and trafilatura's CLI.

    .venv/bin/python bench/e2e.py                                  # 600 pages, cli + python + trafilatura
    .venv/bin/python bench/e2e.py --sizes 100,1000,10000 --repeat 1 --modes cli,python
    .venv/bin/python bench/e2e.py --sizes 1000 --modes dask --dask-workers 1,2,4
    .venv/bin/python bench/e2e.py --sizes 600 --modes breakdown    # where one in-process run's time goes

Every measured run is a whole process (started with subprocess, timed from outside), on a
fresh store:
  cli          `wiredesk run --input DIR --workers N --quiet`: with no Prefect server running
               (PREFECT_API_URL is removed from its environment) the default direct run, in the
               process, no flow run (README "One-shot runs")
  python       `python -c '...Pipeline.open(...).run(inputs=[DIR])'` (no Prefect)
  trafilatura  `trafilatura --input-dir DIR --output-dir OUT --parallel N` (the comparison)
  dask         `wiredesk run` with run.task_runner: dask, a local cluster of 1, 2, 4 workers
               (a flow run on the embedded Prefect server the run starts itself; fixed batches
               of run.batch_size)
  breakdown    one in-process Pipeline run with timers around read / extract / dedup / store
"cold" is the first run with a fresh PREFECT_HOME (Prefect creates its database) and a page
folder not read before; "warm" runs reuse the PREFECT_HOME and the OS file cache. Figures per
row: wall seconds (median, min-max over --repeat), pages/s, CPU seconds of the whole process
tree (user+sys of every descendant, sampled from /proc) and CPU/wall (2.0 = both of two cores busy), the
peak of the summed RSS of the process tree (parent + every child, sampled every 100 ms; forked
children share pages, so the sum over-counts, never under-counts) and of the largest process.

Pages: the development extraction benchmarks under ../shared/data/extraction (or --data),
taken round-robin across the sets (external-dev's five, scrapinghub-aeb, trafilatura-eval:
1,817 pages). Past that, pages are repeated, and each repeat is made distinct: every
paragraph of the copy ends with a token naming the copy (" (copy 3)" before each </p>; at the
start of paragraphs it made a third of the copies fail as no-content), so its text and hash
differ (dedup must compare it by MinHash, as a syndicated copy, not short-circuit it as an
exact one). Ground truth is never read. The machine's load (`uptime`) is printed before and
after; the machine is shared, so read ratios measured side by side, not absolute times.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
SETS = [
    "external-dev/cleaneval/pages",
    "external-dev/dragnet/pages",
    "external-dev/l3s-gn1/pages",
    "external-dev/readability/pages",
    "external-dev/fundus-news/pages",
    "scrapinghub-aeb/html",
    "trafilatura-eval/html",
]
_P_CLOSE = re.compile(rb"(</p\s*>)", re.IGNORECASE)


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "load average: %.2f, %.2f, %.2f" % os.getloadavg()


# -- pages --------------------------------------------------------------------------------------


def source_files(data: Path) -> list[tuple[str, Path]]:
    """Every page of every set, interleaved round-robin across sets (so any prefix samples all)."""
    per_set = []
    for rel in SETS:
        folder = data / rel
        if folder.is_dir():
            per_set.append([(rel.split("/")[-2], p) for p in sorted(folder.glob("*.htm*"))])
    if not per_set:
        sys.exit(f"no benchmark pages under {data}: pass --data DIR (the folder holding external-dev/ etc.)")
    out: list[tuple[str, Path]] = []
    for i in range(max(len(s) for s in per_set)):
        out += [s[i] for s in per_set if i < len(s)]
    return out


def make_pages(n: int, data: Path, work: Path) -> Path:
    """A folder of ``n`` plain .html files (decompressed, so trafilatura reads them as we do)."""
    dest = work / f"pages-{n}"
    if dest.is_dir() and len(list(dest.iterdir())) == n:
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    files = source_files(data)
    for i in range(n):
        name, path = files[i % len(files)]
        body = path.read_bytes()
        if path.name.endswith(".gz"):
            body = gzip.decompress(body)
        copy = i // len(files)
        if copy:  # a repeat: distinct text, so neither dedup nor the store short-circuits it
            body = _P_CLOSE.sub(lambda m, c=copy: b" (copy %d)" % c + m.group(1), body)
        stem = path.name.split(".")[0]
        (dest / f"{i:05d}-{name}-{stem}.html").write_bytes(body)
    return dest


# -- whole-process measurement ------------------------------------------------------------------


_ROLES: dict[int, str] = {}


def _role(pid: int) -> str:
    """What a process of the tree is, from its command line (for the CPU split)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ")
    except OSError:
        return "other"
    if b"uvicorn" in cmd or b"prefect.server" in cmd:
        return "prefect server"
    if b"forkserver" in cmd or b"dask" in cmd or b"distributed" in cmd:
        return "workers"
    return "main (+forked workers)"


def _tree(pid: int, cpu: dict[int, float]) -> tuple[int, int]:
    """(sum, max) RSS in bytes over ``pid`` and all its descendants, from /proc; each one's
    CPU seconds so far (user+sys) recorded into ``cpu``."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    ticks: dict[int, float] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    hz = os.sysconf("SC_CLK_TCK")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
            with open(f"/proc/{entry.name}/statm", "rb") as f:
                resident = int(f.read().split()[1]) * page
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        child = int(entry.name)
        children.setdefault(int(fields[1]), []).append(child)
        rss[child] = resident
        ticks[child] = (int(fields[11]) + int(fields[12])) / hz
        if child not in _ROLES:
            _ROLES[child] = _role(child)
    total = largest = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        if p in ticks:
            cpu[p] = max(cpu.get(p, 0.0), ticks[p])
        largest = max(largest, rss.get(p, 0))
        todo += children.get(p, [])
    return total, largest


def measure(cmd: list[str], env: dict[str, str], cwd: Path) -> dict:
    """Run ``cmd`` to its end: wall, CPU of the whole tree, peak summed and single RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = [0, 0]
    seen_cpu: dict[int, float] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            total, largest = _tree(proc.pid, seen_cpu)
            peak[0], peak[1] = max(peak[0], total), max(peak[1], largest)
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = proc.stdout.read() if proc.stdout else b""
    proc.wait()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # Reaped descendants count in RUSAGE_CHILDREN; a forkserver's workers do not (nobody here
    # reaps the forkserver), so the per-process figures sampled from /proc count too.
    reaped = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    cpu = max(reaped, sum(seen_cpu.values()))
    roles: dict[str, float] = {}
    for pid, seconds in seen_cpu.items():
        role = _ROLES.get(pid, "other")
        roles[role] = roles.get(role, 0.0) + seconds
    if proc.returncode != 0:
        sys.stderr.write(output.decode("utf-8", "replace")[-3000:])
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}")
    return {"wall": wall, "cpu": cpu, "roles": roles, "rss_sum": peak[0], "rss_max": peak[1], "output": output}


_PYTHON_RUN = """
import json, sys
from wiredesk.pipeline import Pipeline
if __name__ == "__main__":
    pages, store, out, workers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    with Pipeline.open(store=store, out=out, workers=workers) as pipe:
        summary = pipe.run(inputs=[pages])
    print(json.dumps({k: summary.get(k) for k in ("stored", "near_duplicates", "exact_duplicates", "failed")}))
"""


def command(mode: str, pages: Path, run_dir: Path, workers: int) -> list[str]:
    store, out = str(run_dir / "store.db"), str(run_dir / "corpus.jsonl")
    if mode == "cli":
        return [str(VENV_BIN / "wiredesk"), "run", "--input", str(pages), "--store", store, "--out", out,
                "--workers", str(workers), "--quiet"]  # fmt: skip
    if mode == "python":
        return [sys.executable, "-c", _PYTHON_RUN, str(pages), store, out, str(workers)]
    if mode == "trafilatura":
        return [str(VENV_BIN / "trafilatura"), "--input-dir", str(pages), "--output-dir", str(run_dir / "out"),
                "--parallel", str(workers)]  # fmt: skip
    if mode == "dask":
        config = run_dir / "dask.yaml"
        config.write_text(
            f"store: {{url: {store}}}\nexport: {{out: {out}}}\nrun: {{workers: {workers}, task_runner: dask}}\n"
        )
        return [str(VENV_BIN / "wiredesk"), "run", "--input", str(pages), "--config", str(config), "--quiet"]
    raise SystemExit(f"unknown mode {mode}")


def run_rows(modes: list[str], pages: Path, n: int, workers: int, args: argparse.Namespace) -> list[dict]:
    """Cold (first run on a fresh PREFECT_HOME) and warm (median of --repeat) figures for each
    of ``modes``, their runs interleaved (A B A B ...: a drift of the machine's load hits every
    mode alike); with --baseline, the wiredesk modes also run the baseline code."""
    arms: list[tuple[str, str, str | None]] = []  # (mode, label, PYTHONPATH)
    for mode in modes:
        arms.append((mode, "", None))
        if args.baseline and mode != "trafilatura":
            arms.append((mode, " (baseline)", args.baseline))
    runs: dict[tuple[str, str, str], list[dict]] = {}
    for i in range(args.repeat + (1 if args.cold else 0)):
        start = "cold" if args.cold and i == 0 else "warm"
        for mode, label, pythonpath in arms:
            home = args.work / f"prefect-{mode}{'-base' if pythonpath else ''}-{n}-{workers}"
            env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
            env.pop("PREFECT_API_URL", None)
            if pythonpath:
                env["PYTHONPATH"] = os.pathsep.join([pythonpath] + [x for x in [env.get("PYTHONPATH")] if x])
            if start == "cold":
                shutil.rmtree(home, ignore_errors=True)
            run_dir = Path(tempfile.mkdtemp(prefix=f"{mode}-", dir=args.work))
            got = measure(command(mode, pages, run_dir, workers), env, run_dir)
            if mode in ("cli", "python", "dask"):
                got["summary"] = _summary(run_dir)
            runs.setdefault((mode, label, start), []).append(got)
            shutil.rmtree(run_dir, ignore_errors=True)
    rows = []
    for (mode, label, start), got in runs.items():
        walls = [r["wall"] for r in got]
        wall = statistics.median(walls)
        rows.append(
            {
                "mode": (mode if mode != "dask" else f"dask x{workers}") + label,
                "pages": n,
                "workers": workers,
                "start": start,
                "runs": len(got),
                "wall": wall,
                "wall_min": min(walls),
                "wall_max": max(walls),
                "pages_s": n / wall,
                "cpu": statistics.median(r["cpu"] for r in got),
                "cpu_roles": {k: round(v, 2) for k, v in got[-1]["roles"].items()},
                "rss_sum_mb": max(r["rss_sum"] for r in got) / 2**20,
                "rss_max_mb": max(r["rss_max"] for r in got) / 2**20,
                "summary": got[0].get("summary"),
            }
        )
    return rows


def _summary(run_dir: Path) -> dict | None:
    """What the run stored (from its store), to check every mode did the same work."""
    import sqlite3

    db = run_dir / "store.db"
    if not db.exists():
        return None
    with sqlite3.connect(db) as con:
        tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
        if "articles" not in tables:
            return None
        return {"articles": con.execute("select count(*) from articles").fetchone()[0]}


# -- in-process breakdown -----------------------------------------------------------------------


def breakdown(pages: Path, work: Path, workers: int) -> dict:
    """One Pipeline run in this process, with the time spent inside each stage's functions."""
    from wiredesk.pipeline import Pipeline, batch, sources

    spent: dict[str, float] = {}

    def timed(owner, name: str, label: str):
        fn = getattr(owner, name)

        def wrapper(*a, **kw):
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - t

        setattr(owner, name, wrapper)
        return fn

    run_dir = Path(tempfile.mkdtemp(prefix="breakdown-", dir=work))
    originals = []
    with Pipeline.open(store=str(run_dir / "store.db"), out=str(run_dir / "c.jsonl"), workers=workers) as pipe:
        from wiredesk import extractors
        from wiredesk.dedup import Deduplicator
        from wiredesk.storage import Store

        for owner, name, label in [
            (sources, "read_files", "read files"),
            (batch, "read_files", "read files"),
            (batch, "extract_many", "extract_many (the parent waits)"),
            (getattr(extractors, "ExtractPool", None), "results", "waiting for the run's pool"),
            (batch, "prepare_pages", "prepare (skip stored, submit)"),
            (Deduplicator, "assign", "dedup assign"),
            (Deduplicator, "reindex", "dedup reindex"),
            (Store, "write_batch", "store write"),
            (batch, "_save_profiles", "profiles"),
        ]:
            if owner is not None and hasattr(owner, name):
                originals.append((owner, name, timed(owner, name, label)))
        cpu0 = os.times()
        started = time.perf_counter()
        summary = pipe.run(inputs=[str(pages)])
        wall = time.perf_counter() - started
        cpu1 = os.times()
    for owner, name, fn in originals:
        setattr(owner, name, fn)
    shutil.rmtree(run_dir, ignore_errors=True)
    own = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    kids = (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
    export = (summary.get("export") or {}).get("seconds")
    return {"wall": wall, "parent_cpu": own, "children_cpu": kids, "spent": spent, "export": export}


# -- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="600", help="comma-separated page counts (default 600)")
    parser.add_argument("--modes", default="cli,python,trafilatura", help="cli,python,trafilatura,dask,breakdown")
    parser.add_argument("--workers", type=int, default=2, help="processes for wiredesk and trafilatura (default 2)")
    parser.add_argument("--dask-workers", default="1,2,4", help="local Dask cluster sizes (mode dask)")
    parser.add_argument("--repeat", type=int, default=3, help="warm runs per row (median quoted)")
    parser.add_argument("--cold", action=argparse.BooleanOptionalAction, default=True, help="one cold run first")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "extraction"))
    parser.add_argument("--work", default=None, help="scratch folder (default: a new temporary one)")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        help="also run the wiredesk modes with PYTHONPATH=DIR (another checkout's code laid out as the"
        " installed package), interleaved with this one's",
    )
    args = parser.parse_args()
    args.work = Path(args.work or tempfile.mkdtemp(prefix="wiredesk-e2e-"))
    args.work.mkdir(parents=True, exist_ok=True)
    modes = args.modes.split(",")
    print(f"load before: {uptime()}  (cores: {os.cpu_count()})", flush=True)
    rows: list[dict] = []
    for n in [int(s) for s in args.sizes.split(",")]:
        pages = make_pages(n, Path(args.data), args.work)
        if "breakdown" in modes:
            b = breakdown(pages, args.work, args.workers)
            print(f"breakdown, {n} pages, {args.workers} workers, in-process Pipeline: wall {b['wall']:.2f} s,"
                  f" parent CPU {b['parent_cpu']:.2f} s, pool CPU {b['children_cpu']:.2f} s,"
                  f" export {b['export']}")  # fmt: skip
            for label, seconds in sorted(b["spent"].items(), key=lambda kv: -kv[1]):
                print(f"  {label:32s} {seconds:7.2f} s  {100 * seconds / b['wall']:5.1f}% of wall")
        together = [m for m in modes if m in ("cli", "python", "trafilatura")]
        groups = [(together, args.workers)] if together else []
        if "dask" in modes:
            groups += [(["dask"], int(w)) for w in args.dask_workers.split(",")]
        for group, workers in groups:
            got = run_rows(group, pages, n, workers, args)
            for row in got:
                print(_format(row, rows), flush=True)
            rows += got
    _ratios(rows)
    print(f"load after: {uptime()}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


def _format(row: dict, earlier: list[dict]) -> str:
    return (
        f"{row['mode']:12s} {row['pages']:6d} pages {row['start']:4s} x{row['runs']}: "
        f"wall {row['wall']:7.2f} s ({row['wall_min']:.2f}-{row['wall_max']:.2f}), {row['pages_s']:6.1f} pages/s, "
        f"cpu {row['cpu']:6.2f} s ({row['cpu'] / row['wall']:.2f} cores), "
        f"peak RSS tree {row['rss_sum_mb']:6.0f} MB (largest process {row['rss_max_mb']:.0f} MB)"
        + (f", stored {row['summary']}" if row.get("summary") else "")
        + (f"\n{'':14s}cpu by process (last run): {row['cpu_roles']}" if len(row.get("cpu_roles") or {}) > 1 else "")
    )


def _ratios(rows: list[dict]) -> None:
    def find(mode: str, n: int, start: str) -> dict | None:
        return next((r for r in rows if r["mode"] == mode and r["pages"] == n and r["start"] == start), None)

    sizes = sorted({r["pages"] for r in rows})
    for n in sizes:
        for start in ("warm", "cold"):
            base = find("trafilatura", n, start)
            if base is None:
                continue
            for r in rows:
                if r["pages"] == n and r["start"] == start and r["mode"] != "trafilatura":
                    print(
                        f"ratio {r['mode']} / trafilatura, {n} pages, {start}: wall {r['wall'] / base['wall']:.2f}x,"
                        f" cpu {r['cpu'] / base['cpu']:.2f}x (the CPU ratio travels better on a loaded machine)"
                    )
        ones = [r for r in rows if r["pages"] == n and r["mode"].startswith("dask") and r["start"] == "warm"]
        one = next((r for r in ones if r["workers"] == 1), None)
        for r in ones:
            if one is not None and r["workers"] > 1:
                eff = (r["pages_s"] / one["pages_s"]) / r["workers"]
                print(f"dask scaling, {n} pages: x{r['workers']} {r['pages_s']:.1f} pages/s, efficiency {eff:.0%}")
    for mode in ("cli", "python"):
        small, big = (
            find(mode, 1000, "warm") or find(mode, 1000, "cold"),
            find(mode, 10000, "warm") or find(mode, 10000, "cold"),
        )
        if small and big:
            print(
                f"memory {mode}: peak RSS tree 10,000 / 1,000 pages = {big['rss_sum_mb']:.0f} / "
                f"{small['rss_sum_mb']:.0f} MB = {big['rss_sum_mb'] / small['rss_sum_mb']:.2f}x (goal <= 1.5x)"
            )


if __name__ == "__main__":
    main()
