#!/usr/bin/env python3
"""How fast a one-shot `wiredesk run` reaches its first page: whole processes, wall clock.

    .venv/bin/python bench/startup.py [-n 5] [--page FILE] [--api-url URL] [--no-embedded] [--json]

Each measured run is `wiredesk run --input FILE --no-export --json --store <fresh store>` as its own
process (the first page is always new). Cases:
  cold (no server)         no PREFECT_API_URL, no profile, no `wiredesk serve`: the default, a direct run
                           (the pipeline in the process, recorded in the store's run log, no flow run)
  cold, --embedded-server  the same with --embedded-server: the run starts Prefect's embedded server
                           alongside its imports and is a flow run on it (optional: --no-embedded skips it)
  running server           PREFECT_API_URL names a running server: `prefect server start` started here
                           on a free loopback port with its own PREFECT_HOME, or --api-url URL
wiredesk's own modules are byte-compiled first, as an install has them. Before the measured runs, each
case runs once unmeasured (the Prefect home's database exists when measuring, as on any machine that
ran Prefect before; the first-ever start is printed on its own).

Rows: the median of -n runs of the process's wall (measured here, around the process), and the
breakdown the run reports in its summary's ``startup``: imports (process start -> the run's modules
imported and its inputs checked), server ready (the embedded server answering), flow run (the flow run
Running, made by the forked flow-run process of a one-source run on a running server), start-up (-> the
pipeline's work begins), first page (-> the first page stored), total (-> summary printed); plus the
process's CPU seconds (with its children: cpu), and as the run reports them at its summary: the main
process's (cpu main) and its ended children's (cpu child: the flow-run process). The targets: cold <= 5 s, with a running server <= 2 s.
The load average is printed before and after: on a shared machine, quote it with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"cold": 5.0, "server": 2.0}
FIELDS = (
    "imports_seconds",
    "server_ready_seconds",
    "flow_run_seconds",
    "seconds",
    "first_page_seconds",
    "total_seconds",
    "cpu_seconds",
    "children_cpu_seconds",
)


def default_page() -> Path:
    pages = sorted((ROOT / "samples" / "html").glob("*.html"))
    if not pages:
        sys.exit("no sample page: pass --page FILE")
    return pages[0]


def wiredesk_command() -> list[str]:
    beside = Path(sys.executable).with_name("wiredesk")
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "wiredesk.cli"]


def base_env(home: Path) -> dict[str, str]:
    """No API URL, no profile, no serve of the user's: the bench decides which Prefect the run sees."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_PROFILES_PATH=str(home / "profiles.toml"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    return env


def one_run(page: Path, work: Path, env: dict[str, str], extra: list[str]) -> dict:
    store = Path(tempfile.mkdtemp(dir=work)) / "store.db"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run(
        [*wiredesk_command(), "run", "--input", str(page), "--no-export", "--json", "--store", str(store), *extra],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
    )
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"wiredesk run failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    summary = json.loads(proc.stdout)
    if summary["stored"] != 1:
        sys.exit(f"the page was not stored: {summary}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, **summary["startup"]}


def free_port() -> int:
    span = os.environ.get("WIREDESK_TEST_PORTS", "")  # a shared machine's range for this user ("31000-31999")
    candidates = [0]  # any the kernel offers
    if "-" in span:
        low, high = (int(x) for x in span.split("-", 1))
        candidates = list(range(low, high + 1))
    for port in candidates:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    sys.exit("no free port")


def healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as answer:  # noqa: S310 - loopback
            return answer.status == 200
    except OSError:
        return False


class PrefectServer:
    """`prefect server start` on loopback with a Prefect home of its own, for the running-server case."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PrefectServer:
        self.home.mkdir(parents=True, exist_ok=True)
        env = base_env(self.home)
        prefect = str(Path(sys.executable).with_name("prefect"))
        self.process = subprocess.Popen(
            [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=open(self.home / "server.log", "ab"),  # noqa: SIM115 - the child's
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 300
        while not healthy(self.api_url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"prefect server did not start (log: {self.home / 'server.log'})")
            time.sleep(0.25)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, 15)
            self.process.wait(timeout=30)


def measure(name: str, n: int, page: Path, work: Path, env: dict[str, str], extra: list[str]) -> dict:
    first = one_run(page, work, env, extra)  # unmeasured: creates the Prefect home's database if needed
    runs = [one_run(page, work, env, extra) for _ in range(n)]
    row: dict = {"case": name, "runs": n, "mode": runs[0]["mode"], "first_ever_wall": round(first["wall"], 2)}
    for key in ("wall", "cpu", *FIELDS):
        values = [r[key] for r in runs if r.get(key) is not None]
        row[key] = round(statistics.median(values), 2) if values else None
    row["wall_min"], row["wall_max"] = round(min(r["wall"] for r in runs), 2), round(max(r["wall"] for r in runs), 2)
    return row


PACKAGE_DIRS = ("wiredesk", "config", "extractors", "fetching", "dedup", "storage", "flows")


def compile_sources() -> None:
    """Byte-compile wiredesk's own modules, as any install does (pip compiles a wheel's modules;
    ``scripts/setup.sh`` this editable checkout's): with ``PYTHONDONTWRITEBYTECODE`` set and no
    ``__pycache__``, every measured process would compile ~70 modules first (0.2 s of CPU)."""
    import compileall

    for name in PACKAGE_DIRS:
        if (ROOT / name).is_dir():
            compileall.compile_dir(str(ROOT / name), quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=5, help="measured runs per case (default 5)")
    parser.add_argument("--page", type=Path, help="the one page (default: the first of samples/html)")
    parser.add_argument("--api-url", help="use this running Prefect server instead of starting one")
    parser.add_argument("--no-embedded", action="store_true", help="skip the cold --embedded-server case")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    page = (args.page or default_page()).resolve()
    compile_sources()
    work = Path(tempfile.mkdtemp(prefix="wiredesk-bench-startup-"))
    load_before = os.getloadavg()
    rows = []
    try:
        cold_env = base_env(work / "prefect-home")
        (work / "prefect-home").mkdir()
        rows.append(measure("cold (no server)", args.n, page, work, cold_env, []))
        if not args.no_embedded:
            rows.append(measure("cold, --embedded-server", args.n, page, work, cold_env, ["--embedded-server"]))
        if args.api_url:
            rows.append(measure("running server", args.n, page, work, cold_env | {"PREFECT_API_URL": args.api_url}, []))
        else:
            with PrefectServer(work / "server-home") as server:
                env = cold_env | {"PREFECT_API_URL": server.api_url}
                rows.append(measure("running server", args.n, page, work, env, []))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load_after = os.getloadavg()
    for row in rows:
        target = TARGETS["server"] if row["case"] == "running server" else TARGETS["cold"]
        row["target"] = target
        row["met"] = row["wall"] <= target
    if args.json:
        print(json.dumps({"rows": rows, "load_before": load_before, "load_after": load_after}, indent=2))
        return
    loads = " / ".join(f"{a:.1f}, {b:.1f}, {c:.1f}" for a, b, c in (load_before, load_after))
    print(f"one-page `wiredesk run`, {page.name}; load average (1, 5, 15 min) before / after: {loads}")
    print("median of", args.n, "runs, seconds from the process's start (wall: measured around the process)")
    head = (
        "case",
        "mode",
        "wall",
        "min-max",
        "cpu",
        "imports",
        "server",
        "flow run",
        "start-up",
        "1st page",
        "total",
        "cpu main",
        "cpu child",
        "target",
    )
    print(f"{head[0]:<24}{head[1]:<9}" + "".join(f"{h:>10}" for h in head[2:-1]) + f"  {head[-1]}")

    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    for r in rows:
        cells = [
            fmt(r["wall"]),
            f"{r['wall_min']:.1f}-{r['wall_max']:.1f}",
            fmt(r["cpu"]),
            *(fmt(r[k]) for k in FIELDS),
        ]
        verdict = f"<= {r['target']:g} s: {'met' if r['met'] else 'NOT met'}"
        print(f"{r['case']:<24}{r['mode']:<9}" + "".join(f"{c:>10}" for c in cells) + f"  {verdict}")
    print(
        "first run of each case (unmeasured, creates Prefect's database if needed): "
        + ", ".join(f"{r['case']} {r['first_ever_wall']:.1f} s" for r in rows)
    )


if __name__ == "__main__":
    main()
