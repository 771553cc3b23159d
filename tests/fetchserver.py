"""A real, hostile HTTP test server for the fetcher, in the spirit of scrapy's
tests/mockserver: several ports on 127.0.0.1 standing for several hosts, each serving a
small news site (robots.txt, RSS, sitemap index, Google News sitemap .xml.gz, articles with
ETag / Last-Modified) and a set of deliberate faults. Two "trap" listeners on 127.0.0.2 and
127.0.0.3 record any connection: the SSRF tests assert they stay empty.

Every request is logged (host port, path, headers, start and end times, concurrency), so
tests assert on what the server really saw, not on what the fetcher says it did.

    python tests/fetchserver.py --hosts 4 --pages 500   # serve, print the ports as JSON
    python tests/fetchserver.py --hosts 100 --log requests.jsonl   # and write the request log on exit
"""

from __future__ import annotations

import email.utils
import functools
import gzip
import hashlib
import json
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from wiredesk.fetching import FetchSettings

LAST_MODIFIED = email.utils.formatdate(1_790_000_000, usegmt=True)  # fixed: the site is unchanged
PUBLISHED = "2026-11-20T10:00:00+00:00"


@dataclass
class Seen:
    port: int
    path: str
    headers: dict[str, str]
    start: float
    end: float = 0.0
    status: int = 0
    active: int = 0  # requests in flight on this port when this one started (itself included)


@dataclass
class Trap:
    """A listener on another loopback address: any connection to it is an SSRF escape."""

    host: str
    sock: socket.socket = field(init=False)
    port: int = 0
    connections: list[tuple[str, int]] = field(default_factory=list)

    def start(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((self.host, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            self.connections.append(peer)
            conn.close()

    def stop(self) -> None:
        self.sock.close()


class Site(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, owner: FetchServer, index: int) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.owner = owner
        self.index = index
        self.active = 0
        self.lock = threading.Lock()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class FetchServer:
    def __init__(
        self,
        hosts: int = 3,
        pages: int = 6,
        *,
        robots_delay: float | None = None,
        slow_seconds: float = 3.0,
        page_bytes: int = 0,
    ) -> None:
        self.pages = pages
        self.page_bytes = page_bytes
        self.robots_status: int | None = None  # answer robots.txt with this status instead
        self.robots_fail_once = False  # ... only the first time, then a normal robots.txt
        self.robots_delay = robots_delay
        self.slow_seconds = slow_seconds
        self.sites = [Site(self, i) for i in range(hosts)]
        self.traps = [Trap("127.0.0.2"), Trap("127.0.0.3")]
        self.log: list[Seen] = []
        self.counters: dict[str, int] = {}
        self.lock = threading.Lock()
        self.changed: set[str] = set()  # article paths whose content (and ETag) changed
        # /hold/ pages (see ``hold_until``): in flight per site index, and the peaks seen
        self.hold_targets = (0, 0)
        self.hold_bound_s = 10.0
        self.held: dict[int, int] = {}
        self.held_peak: dict[int, int] = {}
        self.held_peak_overall = 0
        self.hold_changed = threading.Condition()

    def __enter__(self) -> FetchServer:
        gzip_bomb()  # built before serving: building it on request would look like a slow server
        for trap in self.traps:
            trap.start()
        for site in self.sites:
            threading.Thread(target=site.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        for site in self.sites:
            site.shutdown()
            site.server_close()
        for trap in self.traps:
            trap.stop()

    def base(self, i: int = 0) -> str:
        return self.sites[i].base

    def trap_url(self, i: int, path: str = "/x") -> str:
        return f"http://{self.traps[i].host}:{self.traps[i].port}{path}"

    def count(self, key: str) -> int:
        with self.lock:
            self.counters[key] = self.counters.get(key, 0) + 1
            return self.counters[key]

    def requests(self, path: str | None = None, port: int | None = None) -> list[Seen]:
        with self.lock:
            return [s for s in self.log if (path is None or s.path == path) and (port is None or s.port == port)]

    def clear(self) -> None:
        with self.lock:
            self.log.clear()

    def hold_until(self, per_host: int, overall: int, bound_s: float = 10.0) -> None:
        """From now on a ``/hold/<ms>/<n>`` page is answered (after ``ms`` more) only once ``per_host``
        of them were in flight at once on its host and ``overall`` on all hosts together (or after
        ``bound_s``, which a fetcher keeping to those limits never waits for): "the limit was
        reached" then does not depend on how promptly a loaded machine runs the fetcher."""
        with self.hold_changed:
            self.hold_targets, self.hold_bound_s = (per_host, overall), bound_s

    def held_page(self, site: int) -> None:
        """Count one /hold/ request on ``site`` in flight while it waits for the targets."""
        per_host, overall = self.hold_targets
        deadline = time.monotonic() + self.hold_bound_s
        with self.hold_changed:
            self.held[site] = self.held.get(site, 0) + 1
            self.held_peak[site] = max(self.held_peak.get(site, 0), self.held[site])
            self.held_peak_overall = max(self.held_peak_overall, sum(self.held.values()))
            self.hold_changed.notify_all()
            try:
                while self.held_peak[site] < per_host or self.held_peak_overall < overall:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self.hold_changed.wait(left)
            finally:
                self.held[site] -= 1  # before the handler stamps its end: never more than the stamps show


FILLER = (
    "<p>The committee met on Tuesday to review the budget, and members said the "
    "figures would be published after the vote.</p>"
)


def article_html(site: int, n: int, changed: bool = False, size: int = 0) -> bytes:
    """An article page; ``size`` pads it with filler paragraphs to about that many bytes."""
    extra = "<p>Update: the council revised the figures on Sunday.</p>" if changed else ""
    extra += FILLER * (size // len(FILLER))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Story {site}-{n}</title>"
        f"</head><body><article><h1>Story {site}-{n}</h1><p>Paragraph one of story {n} "
        f"on host {site}, long enough to look like news.</p>{extra}</article></body></html>"
    ).encode()


@functools.lru_cache(maxsize=1)
def gzip_bomb() -> bytes:
    """64 MiB of zeros in about 64 KiB of gzip."""
    return gzip.compress(b"\x00" * (64 * 1024 * 1024), compresslevel=9, mtime=0)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Site

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        site = self.server
        with site.lock:
            site.active += 1
            active = site.active
        self._seen = seen = Seen(
            site.server_address[1],
            self.path,
            {k.lower(): v for k, v in self.headers.items()},
            time.monotonic(),
            active=active,
        )
        self._ended = False
        with site.owner.lock:
            site.owner.log.append(seen)
        try:
            seen.status = self.route(site.owner, site, self.path) or 0
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            self.mark_end()

    def mark_end(self) -> None:
        """The request stops counting as in flight when the server starts answering: marked
        before the first byte goes out, so the client can never start its next request
        while this one still counts (which would fake a concurrency overrun)."""
        if not self._ended:
            self._ended = True
            self._seen.end = time.monotonic()
            with self.server.lock:
                self.server.active -= 1

    # ---- helpers ------------------------------------------------------------------------

    def send(
        self,
        status: int,
        body: bytes = b"",
        ctype: str | None = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> int:
        self._seen.status = status  # before the first byte: the client may look as soon as it has the answer
        self.mark_end()
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)
        return status

    def cached(self, body: bytes, ctype: str, key: str) -> int:
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            return self.send(304, ctype=None, headers={"ETag": etag})
        if self.headers.get("If-None-Match") is None and self.headers.get("If-Modified-Since") == LAST_MODIFIED:
            return self.send(304, ctype=None)
        return self.send(200, body, ctype, {"ETag": etag, "Last-Modified": LAST_MODIFIED})

    def raw_start(self, data: bytes) -> None:
        self.mark_end()
        self.wfile.write(data)
        self.wfile.flush()

    def raw(self, data: bytes, *, reset: bool = False) -> None:
        self.mark_end()
        self.wfile.write(data)
        self.wfile.flush()
        if reset:  # SO_LINGER 0: close sends RST instead of FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    # ---- routes -------------------------------------------------------------------------

    def route(self, owner: FetchServer, site: Site, path: str) -> int | None:
        base, i = site.base, site.index
        if path == "/robots.txt" and owner.robots_status is not None:
            if owner.robots_fail_once and owner.count("robots-fail") > 1:
                return self.send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
            return self.send(owner.robots_status, b"robots says no")
        if path == "/robots.txt":
            delay = f"Crawl-delay: {owner.robots_delay}\n" if owner.robots_delay else ""
            body = (
                f"User-agent: *\nDisallow: /\n\n"
                f"User-agent: wiredesk\nDisallow: /private/\nAllow: /\n{delay}\n"
                f"Sitemap: {base}/sitemap_index.xml\n"
            ).encode()
            return self.send(200, body, "text/plain")
        if path == "/":
            return self.send(
                200,
                (
                    f"<html><head><link rel='alternate' type='application/rss+xml' href='/feed.xml'>"
                    f"<link rel='stylesheet' href='/s.css'></head><body>home {i}</body></html>"
                ).encode(),
            )
        if path.startswith("/article/"):
            changed = path in owner.changed
            n = int(path.rsplit("/", 1)[1].split("?")[0])
            return self.cached(article_html(i, n, changed, owner.page_bytes), "text/html; charset=utf-8", path)
        if path == "/feed.xml":
            items = "".join(
                f"<item><title>Story {n}</title><link>{base}/article/{n}?utm_source=rss</link>"
                f"<pubDate>{email.utils.formatdate(1_795_000_000 + n * 60, usegmt=True)}</pubDate></item>"
                for n in range(owner.pages // 2)
            )
            body = (
                f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
                f"<title>Site {i}</title><link>{base}/</link>{items}</channel></rss>"
            ).encode()
            return self.cached(body, "application/rss+xml", path)
        if path == "/sitemap_index.xml":
            body = (
                f"<?xml version='1.0'?><sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
                f"<sitemap><loc>{base}/sitemap-1.xml</loc></sitemap>"
                f"<sitemap><loc>{base}/sitemap-news.xml.gz</loc></sitemap>"
                f"<sitemap><loc>{base}/sitemap_index.xml</loc></sitemap>"  # a cycle
                f"</sitemapindex>"
            ).encode()
            return self.cached(body, "application/xml", path)
        if path == "/sitemap-1.xml":
            urls = "".join(
                f"<url><loc>{base}/article/{n}</loc><lastmod>2026-11-01</lastmod></url>"
                for n in range(owner.pages // 2, owner.pages)
            )
            body = (
                f"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{urls}</urlset>"
            ).encode()
            return self.cached(body, "application/xml", path)
        if path == "/sitemap-news.xml.gz":
            body = gzip.compress(
                (
                    f"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9' "
                    f"xmlns:news='http://www.google.com/schemas/sitemap-news/0.9'><url>"
                    f"<loc>{base}/article/0</loc><news:news><news:publication_date>{PUBLISHED}"
                    f"</news:publication_date></news:news></url></urlset>"
                ).encode(),
                mtime=0,
            )
            return self.cached(body, "application/x-gzip", path)
        return self.faults(owner, site, path)

    def faults(self, owner: FetchServer, site: Site, path: str) -> int | None:
        base = site.base
        if path.startswith("/flaky/500/"):  # 500 on the first request, then the page
            if owner.count(path) == 1:
                return self.send(500, b"oops")
            return self.send(200, article_html(site.index, 500))
        if path.startswith("/flaky/503/") or path.startswith("/flaky/429/"):
            status = int(path.split("/")[2])
            if owner.count(path) == 1:
                return self.send(status, b"slow down", headers={"Retry-After": "1"})
            return self.send(200, article_html(site.index, status))
        if path.startswith("/hold/"):  # /hold/<ms>/<n>: held until the targets (hold_until), then slow
            owner.held_page(site.index)
            time.sleep(int(path.split("/")[2]) / 1000)
            return self.send(200, article_html(site.index, int(path.split("/")[3])))
        if path.startswith("/sleep/"):  # /sleep/<ms>/<n>: a slow page, to see concurrency
            time.sleep(int(path.split("/")[2]) / 1000)
            return self.send(200, article_html(site.index, int(path.split("/")[3])))
        if path == "/cookie":
            return self.send(
                200, article_html(site.index, 42), headers={"Set-Cookie": "session=abc; Path=/; Max-Age=3600"}
            )
        if path.startswith("/always-500"):
            return self.send(500, b"broken")
        if path == "/always-503":
            return self.send(503, b"down", headers={"Retry-After": "3600"})
        if path == "/slow-headers":
            time.sleep(owner.slow_seconds)
            return self.send(200, article_html(site.index, 0))
        if path == "/drip":  # a byte every 0.1 s: never trips a read timeout, only the total
            self.raw_start(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 600\r\n\r\n")
            try:
                for _ in range(600):
                    time.sleep(0.1)
                    self.wfile.write(b"x")
            except OSError:
                pass
            self.close_connection = True
            return 200
        if path == "/reset-mid-body":
            self.raw(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n"
                + b"<html>"
                + b"x" * 20000,
                reset=True,
            )
            return 200
        if path == "/truncated":
            self.raw(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n"
                + b"<html><body>"
                + b"y" * 1000
            )
            return 200
        if path.startswith("/chain/"):
            n = int(path.rsplit("/", 1)[1])
            if n == 0:
                return self.send(200, article_html(site.index, 9000))
            return self.send(302, headers={"Location": f"/chain/{n - 1}"})
        if path == "/loop/a":
            return self.send(301, headers={"Location": f"{base}/loop/b"})
        if path == "/loop/b":
            return self.send(302, headers={"Location": "/loop/a"})
        if path == "/missing":
            return self.send(404, b"not here")
        if path == "/doc.pdf":
            return self.send(200, b"%PDF-1.4\n" + b"\x00" * 100, "application/pdf")
        if path == "/huge":
            return self.send(200, b"<html>" + b"z" * (4 * 1024 * 1024), "text/html")
        if path == "/huge-chunked":  # no Content-Length: only the streaming cap can stop it
            self.mark_end()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for _ in range(64):
                    self.wfile.write(b"z" * 65536)
            except OSError:
                pass
            self.close_connection = True
            return 200
        if path == "/gzip-bomb":
            return self.send(200, gzip_bomb(), "text/html", {"Content-Encoding": "gzip"})
        if path == "/gzip-ok":
            return self.send(
                200,
                gzip.compress(article_html(site.index, 77), mtime=0),
                "text/html; charset=utf-8",
                {"Content-Encoding": "gzip"},
            )
        if path == "/cp1252":
            body = ("<html><body><p>Caf\u00e9 \u201cquoted\u201d \u2014 na\u00efve \u20ac5</p></body></html>").encode(
                "cp1252"
            )
            return self.send(200, body, "text/html; charset=windows-1252")
        if path == "/sjis":
            body = "<html><body><p>\u65e5\u672c\u8a9e\u306e\u30cb\u30e5\u30fc\u30b9</p></body></html>".encode(
                "shift_jis"
            )
            return self.send(200, body, "text/html; charset=Shift_JIS")
        if path == "/plain.txt":
            return self.send(200, b"A plain text story.\n", "text/plain; charset=utf-8")
        if path == "/bad-feed.xml":
            return self.send(
                200,
                b"<?xml version='1.0'?><rss version='2.0'><channel><item>"
                b"<link>" + base.encode() + b"/article/1</link></item><item><li",
                "application/rss+xml",
            )
        if path == "/bomb-feed.xml":
            lol = "".join(f'<!ENTITY l{k} "{"&l%d;" % (k - 1) * 10}">' for k in range(1, 10))
            body = (
                f"<?xml version='1.0'?><!DOCTYPE rss [<!ENTITY l0 'lol'>{lol}]>"
                f"<rss version='2.0'><channel><item><link>{base}/article/1</link>"
                f"<title>&l9;</title></item></channel></rss>"
            ).encode()
            return self.send(200, body, "application/rss+xml")
        if path == "/xxe-feed.xml":
            body = (
                b"<?xml version='1.0'?><!DOCTYPE rss [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
                b"<rss version='2.0'><channel><item><link>&x;</link></item></channel></rss>"
            )
            return self.send(200, body, "application/rss+xml")
        if path == "/evil-feed.xml":  # links that must never be followed
            trap0, trap1 = owner.trap_url(0, "/feed-link"), owner.trap_url(1, "/feed-link")
            body = (
                f"<?xml version='1.0'?><rss version='2.0'><channel><title>evil</title>"
                f"<item><link>{trap0}</link></item><item><link>{trap1}</link></item>"
                f"<item><link>file:///etc/passwd</link></item>"
                f"<item><link>{base}/article/3</link></item></channel></rss>"
            ).encode()
            return self.send(200, body, "application/rss+xml")
        if path == "/to-trap":
            return self.send(302, headers={"Location": owner.trap_url(1, "/via-redirect")})
        if path == "/to-file":
            return self.send(302, headers={"Location": "file:///etc/passwd"})
        if path.startswith("/private/"):
            return self.send(200, article_html(site.index, 666))
        return self.send(404, b"no route")


def make_settings(**overrides: Any) -> FetchSettings:
    """Small timeouts and caps so every fault resolves in a few seconds at most; only
    127.0.0.1 is allow-listed (the traps on 127.0.0.2 / .3 must stay refused). The read
    timeout leaves a loaded machine room: this process's own server threads answer the
    fetcher, and at load ~12 an answer's headers took more than the 0.3 s it once was (a
    timeout, then a retry: one request more than the tests count)."""
    values: dict[str, Any] = dict(
        allow_private=("127.0.0.1",),
        per_host_concurrency=4,
        per_host_min_interval=0.0,
        global_concurrency=16,
        connect_timeout=1.0,
        read_timeout=1.5,
        total_timeout=5.0,
        max_bytes=1_000_000,
        retries=1,
        retry_backoff=0.01,
        max_retry_after=2.0,
        failure_backoff=3600.0,
        host_failure_limit=0,  # the fault host fails on purpose; the breaker has its own test
    )
    values.update(overrides)
    return FetchSettings(**values)


def main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--page-bytes", type=int, default=0)
    parser.add_argument("--crawl-delay", type=float, default=None, help="robots.txt Crawl-delay of every host")
    parser.add_argument("--log", help="write every request (port, path, start, end, status) here as JSON lines on exit")
    args = parser.parse_args(argv)
    server = FetchServer(hosts=args.hosts, pages=args.pages, page_bytes=args.page_bytes, robots_delay=args.crawl_delay)
    with server:
        print(json.dumps({"bases": [s.base for s in server.sites]}), flush=True)
        try:
            sys.stdin.read()  # serve until the parent closes our stdin
        except KeyboardInterrupt:
            pass
    if args.log:
        with open(args.log, "w") as out:
            for seen in server.requests():
                row = {"port": seen.port, "path": seen.path, "start": seen.start, "end": seen.end}
                out.write(json.dumps(row | {"status": seen.status, "active": seen.active}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
