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
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent

from tests.fetchserver import FetchServer, article_html  # noqa: E402
from wiredesk.fetching import Discovered, Fetcher, FetchSettings, MemoryFetchState  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=8)
    parser.add_argument("--pages", type=int, default=250, help="pages per host")
    parser.add_argument("--page-bytes", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=FetchSettings().global_concurrency)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--interval", type=float, default=0.5, help="politeness check interval")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve_fast(args.hosts, args.page_bytes))
        return
    speed(args)
    if not politeness(args):
        sys.exit(1)


if __name__ == "__main__":
    main()
