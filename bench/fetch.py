"""Fetch-stage bench: throughput with politeness off, and politeness on as the server saw it.

    .venv/bin/python bench/fetch.py                  # 8 hosts x 250 pages of ~20 KB, default concurrency
    .venv/bin/python bench/fetch.py --hosts 4 --pages 100 --page-bytes 50000 --concurrency 32

Speed: a minimal keep-alive asyncio server (below) runs in a child process; the same URLs are
fetched by an anchor (a bare httpx.AsyncClient with the same global concurrency: no SSRF
check, robots, politeness, caps or records) and by Fetcher with politeness off, in this one
process. It prints pages/s for both and the ratio Fetcher/anchor (1.0 = the fetcher adds
nothing; the issue's target is >= 300 pages/s for the Fetcher on a 2-core machine).
Wall pages/s depend on the server process and on whatever else the machine runs, so it
also prints the client-side CPU time per page (process_time of this process): the rate one
core could sustain if the fetcher were the only bottleneck.

Politeness: the hostile test server (tests/fetchserver.py) in-process (its log is needed), and Fetcher with the production
per-host concurrency (2) and a shortened interval; prints the measured maximum per-host
concurrency and minimum start gap, and exits non-zero if either limit was broken.

Crawl (``--crawl``, instead of the two above): ``--crawl-hosts`` outlets of the hostile server
(tests/fetchserver.py, in a child process that writes its request log), each a source with its
RSS feed and its sitemap index (robots.txt, feed, sitemap index, two sitemaps, ``--crawl-pages``
articles), at production politeness (per-host concurrency 2, ``--crawl-interval`` s between
starts, ``--crawl-delay`` as robots.txt Crawl-delay if given). From the server's log it computes
what the busiest host needs at the least under its limits, max((n-1) x interval,
(ceil(n/concurrency)-1) x mean request time) + mean request time, and prints the crawl's wall /
that bound (target <= 1.5) for two levels:
  fetcher   one shared threaded Fetcher, every source on its own thread: discover, fetch, follow
  pipeline  the whole run without Prefect (wiredesk.pipeline.Pipeline.run, as `wiredesk run`
            runs it minus the flow): a config with one source per outlet; store, extraction,
            dedup and export included
  run       `wiredesk run --config` over that config: without a Prefect server the pipeline runs
            direct; with ``--prefect-api URL`` (a running `prefect server start`) a flow run with
            a task run per source (``--source-runs task``, the default: its discovery and batches
            run in it) or a subflow (``subflow``, its batches task runs): the run's own time
            (pipeline_seconds) and the command's
It also checks from the log that no host saw more than its concurrency or less than its interval,
and that every source fetched all its articles (exit 1 otherwise).

    .venv/bin/python bench/fetch.py --crawl                        # 100 outlets, both levels
    .venv/bin/python bench/fetch.py --crawl --crawl-level run --source-concurrency 1   # sources one by one
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent

from tests.fetchserver import FetchServer, article_html  # noqa: E402
from wiredesk.fetching import Discovered, Fetcher, FetchSettings, MemoryFetchState, SourceSpec  # noqa: E402

CHUNK = 200  # the lead's flow hands the fetcher URLs in chunks of about this size


async def serve_fast(hosts: int, page_bytes: int) -> None:
    """A minimal asyncio HTTP/1.1 server with keep-alive and precomputed answers, for the
    speed run: the threaded test server tops out near the rates being measured, and a bench
    must measure the client, not the server."""
    robots = b"User-agent: *\nDisallow: /private/\n"
    body = article_html(0, 0, size=page_bytes)

    def answer(status: str, payload: bytes, ctype: bytes) -> bytes:
        return (
            f"HTTP/1.1 {status}\r\nContent-Type: ".encode()
            + ctype
            + f'\r\nContent-Length: {len(payload)}\r\nETag: "v1"\r\n\r\n'.encode()
            + payload
        )

    page = answer("200 OK", body, b"text/html; charset=utf-8")
    robots_answer = answer("200 OK", robots, b"text/plain")
    missing = answer("404 Not Found", b"", b"text/plain")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1]
                writer.write(
                    page if path.startswith(b"/article/") else robots_answer if path == b"/robots.txt" else missing
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    servers = [await asyncio.start_server(handle, "127.0.0.1", 0, backlog=256) for _ in range(hosts)]
    bases = [f"http://127.0.0.1:{srv.sockets[0].getsockname()[1]}" for srv in servers]
    print(json.dumps({"bases": bases}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


def start_server(hosts: int, page_bytes: int) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--hosts", str(hosts), "--page-bytes", str(page_bytes)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, json.loads(line)["bases"]


async def anchor(urls: list[str], concurrency: int) -> int:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    sem = asyncio.Semaphore(concurrency)
    ok = 0

    async def one(client: httpx.AsyncClient, url: str) -> None:
        nonlocal ok
        async with sem:
            resp = await client.get(url)
            ok += resp.status_code == 200 and bool(resp.content)

    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:
        for i in range(0, len(urls), CHUNK):
            await asyncio.gather(*(one(client, u) for u in urls[i : i + CHUNK]))
    return ok


def run_fetcher(urls: list[str], settings: FetchSettings) -> int:
    with Fetcher(settings, MemoryFetchState()) as fetcher:
        pages = 0
        for i in range(0, len(urls), CHUNK):
            outcomes = fetcher.fetch([Discovered(u, "bench") for u in urls[i : i + CHUNK]])
            pages += sum(o.page is not None for o in outcomes)
    return pages


def speed(args: argparse.Namespace) -> float:
    proc, bases = start_server(args.hosts, args.page_bytes)
    try:
        # Interleave hosts, as a real batch from several sources would.
        urls = [f"{b}/article/{n}" for n in range(args.pages) for b in bases]
        fast = FetchSettings(
            allow_private=("127.0.0.1",),
            per_host_concurrency=args.concurrency,
            per_host_min_interval=0.0,
            global_concurrency=args.concurrency,
        )
        run_fetcher(urls[: len(bases) * 2], fast)  # warm-up: imports, robots, server threads
        rows = []
        n = len(urls)
        for rep in range(args.repeats):
            t, c = time.perf_counter(), time.process_time()
            got_a = asyncio.run(anchor(urls, args.concurrency))
            t_a, c_a = time.perf_counter() - t, time.process_time() - c
            t, c = time.perf_counter(), time.process_time()
            got_f = run_fetcher(urls, fast)
            t_f, c_f = time.perf_counter() - t, time.process_time() - c
            assert got_a == got_f == n, (got_a, got_f, n)
            rows.append((n / t_a, n / t_f, n / c_a, n / c_f))
            print(
                f"run {rep + 1}: wall anchor {n / t_a:6.0f} fetcher {n / t_f:6.0f} pages/s "
                f"(ratio {t_a / t_f:.2f});  client CPU ceiling anchor {n / c_a:6.0f} fetcher "
                f"{n / c_f:6.0f} pages/s (ratio {c_a / c_f:.2f})"
            )
        best = [max(r[i] for r in rows) for i in range(4)]
        print(
            f"speed: {n} pages of ~{args.page_bytes} B from {len(bases)} hosts, concurrency "
            f"{args.concurrency}, best of {args.repeats}: wall fetcher {best[1]:.0f} pages/s vs "
            f"anchor {best[0]:.0f} (ratio {best[1] / best[0]:.2f}); fetcher CPU "
            f"{1000 / best[3]:.2f} ms/page vs anchor {1000 / best[2]:.2f} ms/page, i.e. one "
            f"core alone could drive {best[3]:.0f} pages/s (ratio {best[3] / best[2]:.2f})"
        )
        return best[1]
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)


def politeness(args: argparse.Namespace) -> bool:
    interval, per_host = args.interval, 2
    settings = FetchSettings(
        allow_private=("127.0.0.1",),
        per_host_concurrency=per_host,
        per_host_min_interval=interval,
        global_concurrency=32,
    )
    with FetchServer(hosts=4, pages=8) as server:
        urls = [f"{s.base}/sleep/{int(interval * 1500)}/{n}" for n in range(6) for s in server.sites]
        t = time.perf_counter()
        run_fetcher(urls, settings)
        took = time.perf_counter() - t
        worst_active, worst_gap = 0, float("inf")
        for site in server.sites:
            seen = server.requests(port=site.server_address[1])
            starts = sorted(s.start for s in seen)
            events = sorted([(s.start, 1) for s in seen] + [(s.end, -1) for s in seen])
            active = peak = 0
            for _, step in events:
                active += step
                peak = max(peak, active)
            worst_active = max(worst_active, peak)
            worst_gap = min(worst_gap, min(b - a for a, b in zip(starts, starts[1:])))
    # Strict: the gates keep a 2% margin for the server's uneven arrival stamps.
    ok = worst_active <= per_host and worst_gap >= interval
    print(
        f"politeness: 4 hosts x 7 requests (robots.txt included) in {took:.2f}s; "
        f"max per-host concurrency {worst_active} (limit {per_host}), min start gap "
        f"{worst_gap:.3f}s (limit {interval:.3f}s): "
        f"{'OK' if ok else 'BROKEN'}"
    )
    return ok


# ---- crawl: many polite hosts at once --------------------------------------------------------


def start_crawl_server(args: argparse.Namespace, log: Path) -> tuple[subprocess.Popen[str], list[str]]:
    cmd = [sys.executable, "tests/fetchserver.py", "--hosts", str(args.crawl_hosts), "--pages", str(args.crawl_pages)]
    cmd += ["--log", str(log)] + (["--crawl-delay", str(args.crawl_delay)] if args.crawl_delay else [])
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())["bases"]


def stop_crawl_server(proc: subprocess.Popen[str], log: Path) -> list[dict]:
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=60)
    return [json.loads(line) for line in log.read_text().splitlines()]


def crawl_specs(bases: list[str]) -> list[SourceSpec]:
    return [
        SourceSpec(name=f"outlet-{i:03d}", feeds=(f"{b}/feed.xml",), sitemaps=(f"{b}/sitemap_index.xml",))
        for i, b in enumerate(bases)
    ]


def host_bound(seen: list[dict], interval: float, concurrency: int) -> float:
    """The least time one host needs for its requests under its limits."""
    n = len(seen)
    mean = sum(s["end"] - s["start"] for s in seen) / n
    return max((n - 1) * interval, (math.ceil(n / concurrency) - 1) * mean) + mean


def check_log(rows: list[dict], interval: float, concurrency: int) -> tuple[float, int, float, float, bool]:
    """(busiest host's bound, requests, max per-host concurrency, min per-host start gap, limits kept)."""
    by_port: dict[int, list[dict]] = {}
    for row in rows:
        by_port.setdefault(row["port"], []).append(row)
    bound, peak, gap = 0.0, 0, float("inf")
    for seen in by_port.values():
        bound = max(bound, host_bound(seen, interval, concurrency))
        events = sorted([(s["start"], 1) for s in seen] + [(s["end"], -1) for s in seen], key=lambda e: (e[0], e[1]))
        active = 0
        for _, step in events:
            active += step
            peak = max(peak, active)
        starts = sorted(s["start"] for s in seen)
        gap = min([gap] + [b - a for a, b in zip(starts, starts[1:])])
    # The gates keep a 2% margin; the server stamps arrivals a little late, unevenly.
    return bound, len(rows), peak, gap, peak <= concurrency and gap >= interval - 0.05


def crawl_fetcher(args: argparse.Namespace, bases: list[str], interval: float) -> tuple[float, bool]:
    settings = FetchSettings(allow_private=("127.0.0.1",), per_host_min_interval=args.crawl_interval)
    fetcher = Fetcher(settings, MemoryFetchState(), threaded=True)

    def one(spec: SourceSpec) -> int:
        report = fetcher.discover_report(spec)
        outcomes = fetcher.fetch(report.items)
        while more := fetcher.more_links(spec.name):
            outcomes += fetcher.fetch(more)
        return sum(o.page is not None for o in outcomes)

    started = time.perf_counter()
    with ThreadPoolExecutor(args.source_concurrency) as pool:
        pages = list(pool.map(one, crawl_specs(bases)))
    wall = time.perf_counter() - started
    fetcher.close()
    return wall, all(p == args.crawl_pages for p in pages)


def crawl_config(args: argparse.Namespace, bases: list[str], work: Path) -> Path:
    lines = [
        f"store: {{url: {work / 'crawl.db'}}}",
        f"export: {{out: {work / 'corpus.jsonl'}}}",
        f"run: {{source_concurrency: {args.source_concurrency}"
        + (f", source_runs: {args.source_runs}}}" if args.source_runs else "}"),
        f"fetch: {{allow_private: [127.0.0.1], per_host_min_interval: {args.crawl_interval}}}",
        "sources:",
    ]
    for spec in crawl_specs(bases):
        lines.append(f"  - {{name: {spec.name}, feeds: [{spec.feeds[0]}], sitemaps: [{spec.sitemaps[0]}]}}")
    path = work / "crawl.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def wiredesk_run(config: Path, env: dict[str, str], *extra: str) -> tuple[float, dict]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(REPO / ".venv/bin/wiredesk"), "run", "--config", str(config), "--json", *extra],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(f"wiredesk run exited {done.returncode}: {done.stderr[-2000:]}")
    return wall, json.loads(done.stdout)


def crawl_pipeline(args: argparse.Namespace, bases: list[str], work: Path) -> tuple[float, bool]:
    from wiredesk.pipeline import Pipeline

    with Pipeline.open(str(crawl_config(args, bases, work))) as pipe:
        summary = pipe.run()
    return summary["pipeline_seconds"], complete_run(args, bases, summary)


def complete_run(args: argparse.Namespace, bases: list[str], summary: dict) -> bool:
    rows = summary["sources"]
    ok = (
        len(rows) == len(bases)
        and all(r["fetched"] == args.crawl_pages for r in rows)
        and not summary["failed_sources"]
    )
    if not ok:
        bad = [r for r in rows if r["fetched"] != args.crawl_pages or r.get("error")]
        print(f"  {len(bad)} sources not complete, e.g. {bad[:1]}")
    return ok


def crawl_run(args: argparse.Namespace, bases: list[str], work: Path) -> tuple[float, float, bool]:
    env = os.environ | {"PREFECT_HOME": str(work / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    if args.prefect_api:  # a running `prefect server start`: the run is a flow run on it
        env["PREFECT_API_URL"] = args.prefect_api
    # Warm-up: a first run (Prefect's ephemeral API creates and migrates its database on first start).
    warm = work / "warm.yaml"
    warm.write_text(f"store: {{url: {work / 'warm.db'}}}\nexport: {{out: {work / 'warm.jsonl'}}}\n")
    wiredesk_run(warm, env, "--input", str(REPO / "samples" / "seeds"))
    wall, summary = wiredesk_run(crawl_config(args, bases, work), env)
    return summary["pipeline_seconds"], wall, complete_run(args, bases, summary)


def crawl(args: argparse.Namespace) -> bool:
    interval = max(args.crawl_interval, args.crawl_delay or 0.0)
    concurrency = FetchSettings().per_host_concurrency
    print(
        f"crawl: {args.crawl_hosts} hosts x ({args.crawl_pages} articles + robots, feed, 3 sitemaps), "
        f"interval {interval:g} s, per-host concurrency {concurrency}, "
        f"global concurrency {FetchSettings().global_concurrency}, source concurrency {args.source_concurrency}; "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    ok = True
    for level in ("fetcher", "pipeline", "run") if args.crawl_level == "all" else (args.crawl_level,):
        with tempfile.TemporaryDirectory(prefix="wiredesk-crawl-") as tmp:
            work = Path(tmp)
            proc, bases = start_crawl_server(args, work / "requests.jsonl")
            try:
                if level == "fetcher":
                    wall, complete = crawl_fetcher(args, bases, interval)
                    extra = ""
                elif level == "pipeline":
                    wall, complete = crawl_pipeline(args, bases, work)
                    extra = ""
                else:
                    wall, command, complete = crawl_run(args, bases, work)
                    extra = f"; the command {command:.1f} s (Prefect start-up included)"
            finally:
                rows = stop_crawl_server(proc, work / "requests.jsonl")
            bound, n, peak, gap, kept = check_log(rows, interval, concurrency)
            starts = [r["start"] for r in rows]
            span = max(r["end"] for r in rows) - min(starts)
            ratio = wall / bound
            ok = ok and complete and kept and ratio <= 1.5
            print(
                f"  {level:8s} {n} requests; wall {wall:.1f} s (server saw {span:.1f} s), busiest host bound "
                f"{bound:.1f} s: wall/bound {ratio:.2f} ({'OK' if ratio <= 1.5 else 'over 1.5'}){extra}; "
                f"max per-host concurrency {peak} (limit {concurrency}), min start gap {gap:.3f} s "
                f"(limit {interval:g}): {'kept' if kept else 'BROKEN'}; every source complete: {complete}"
            )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=8)
    parser.add_argument("--pages", type=int, default=250, help="pages per host")
    parser.add_argument("--page-bytes", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=FetchSettings().global_concurrency)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--interval", type=float, default=0.5, help="politeness check interval")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--crawl", action="store_true", help="the many-hosts crawl against its bound (see above)")
    parser.add_argument("--crawl-level", choices=("fetcher", "pipeline", "run", "all"), default="all")
    parser.add_argument("--crawl-hosts", type=int, default=100)
    parser.add_argument("--crawl-pages", type=int, default=4, help="articles per host")
    parser.add_argument("--crawl-interval", type=float, default=1.0, help="fetch.per_host_min_interval")
    parser.add_argument("--crawl-delay", type=float, default=None, help="robots.txt Crawl-delay of every host")
    parser.add_argument(
        "--prefect-api",
        default=None,
        help="run level: the API URL of a running `prefect server start` (default: none, the direct run)",
    )
    parser.add_argument(
        "--source-runs",
        choices=("subflow", "task"),
        default=None,
        help="run.source_runs (default: the config's default)",
    )
    parser.add_argument("--source-concurrency", type=int, default=100, help="run.source_concurrency")
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve_fast(args.hosts, args.page_bytes))
        return
    if args.crawl:
        sys.exit(0 if crawl(args) else 1)
    speed(args)
    if not politeness(args):
        sys.exit(1)


if __name__ == "__main__":
    main()
