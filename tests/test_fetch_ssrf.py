"""The SSRF guard: IPv6 forms that carry an IPv4 address are judged by that address, and a
connection goes to exactly the address that was checked, whatever DNS answers afterwards.

Only loopback addresses are named: 127.0.0.1 is allow-listed, 127.0.0.2 and 127.0.0.3 stand
for the addresses wiredesk must never reach. Live connections stay on loopback.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from wiredesk.core.errors import PermanentFetchError
from wiredesk.fetching import ssrf
from wiredesk.fetching.http import build_client, get_once
from wiredesk.fetching.ssrf import SsrfGuard


def teredo(server: str, client: str) -> str:
    """A Teredo address (2001::/32): server IPv4 in clear, client IPv4 inverted."""
    s = int(ipaddress.IPv4Address(server))
    c = int(ipaddress.IPv4Address(client)) ^ 0xFFFFFFFF
    return str(ipaddress.IPv6Address((0x20010000 << 96) | (s << 64) | (0x8000_63BF << 32) | c))


# address -> allowed, with 127.0.0.1 allow-listed and nothing else.
ADDRESSES = {
    "127.0.0.1": True,
    "127.0.0.2": False,
    "::ffff:127.0.0.1": True,  # IPv4-mapped
    "::ffff:127.0.0.2": False,
    "::127.0.0.1": True,  # IPv4-compatible
    "::127.0.0.2": False,
    "::ffff:0:127.0.0.2": False,  # SIIT IPv4-translated
    "64:ff9b::127.0.0.1": True,  # NAT64, well-known prefix
    "64:ff9b::127.0.0.2": False,
    "64:ff9b::7f00:3": False,
    "64:ff9b:1::127.0.0.1": False,  # local-use NAT64: the IPv4 position is the operator's choice
    "64:ff9b:1:7f00:2::": False,
    "2002:7f00:1::1": True,  # 6to4 of 127.0.0.1
    "2002:7f00:2::1": False,
    "2002:7f00:3:ffff::": False,
    teredo("127.0.0.1", "127.0.0.1"): True,
    teredo("127.0.0.1", "127.0.0.2"): False,  # the client half is reached too
    teredo("127.0.0.3", "127.0.0.1"): False,
    "fec0::1": False,  # site-local
    "fec0:7f00::2": False,
    "::": False,
    "::1": False,
    "fe80::1": False,
    "fc00::1": False,
    "ff02::1": False,
    "3fff::1": False,
    "2001:db8::1": False,
}


@pytest.mark.parametrize(("address", "allowed"), sorted(ADDRESSES.items()))
def test_address_verdicts(address: str, allowed: bool) -> None:
    guard = SsrfGuard(["127.0.0.1"])
    assert guard.address_allowed(ipaddress.ip_address(address)) is allowed


@pytest.mark.parametrize(("address", "allowed"), sorted(ADDRESSES.items()))
def test_url_with_literal_address(address: str, allowed: bool) -> None:
    host = f"[{address}]" if ":" in address else address

    async def check() -> str:
        try:
            await SsrfGuard(["127.0.0.1"]).check_url(f"http://{host}:8080/x")
            return "ok"
        except PermanentFetchError as exc:
            return exc.reason

    assert asyncio.run(check()) == ("ok" if allowed else "ssrf")


def test_allow_listed_ipv6_network_is_honoured_as_given() -> None:
    # An operator whose DNS64 uses the local-use prefix may allow-list it explicitly.
    guard = SsrfGuard(["64:ff9b:1::/48", "fec0::/10"])
    assert guard.address_allowed(ipaddress.ip_address("64:ff9b:1::127.0.0.2"))
    assert guard.address_allowed(ipaddress.ip_address("fec0::1"))
    assert not guard.address_allowed(ipaddress.ip_address("64:ff9b::127.0.0.2"))


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b"checked address"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def two_listeners() -> Iterator[tuple[int, list[object]]]:
    """An HTTP server on 127.0.0.1:P and a trap on 127.0.0.2:P (same port, project range)."""
    ports = list(range(22000, 23000))
    random.shuffle(ports)
    for port in ports[:50]:
        trap = socket.socket()
        try:
            trap.bind(("127.0.0.2", port))
            server = ThreadingHTTPServer(("127.0.0.1", port), _Hello)
            break
        except OSError:
            trap.close()
    else:
        raise RuntimeError("no free port pair in 22000-22999")
    trap.listen(8)
    trap.settimeout(0.2)
    reached: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, peer = trap.accept()
            except OSError:
                continue
            reached.append(peer)
            conn.close()

    threads = [threading.Thread(target=server.serve_forever, daemon=True), threading.Thread(target=accept, daemon=True)]
    for thread in threads:
        thread.start()
    try:
        yield port, reached
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        threads[1].join()
        trap.close()


def test_rebinding_connects_to_the_checked_address(
    monkeypatch: pytest.MonkeyPatch, two_listeners: tuple[int, list[object]]
) -> None:
    """rebind.test answers 127.0.0.1 (allowed) to the check and 127.0.0.2 ever after; the
    cached answer has expired by the time the connection is made."""
    port, trap = two_listeners
    real = socket.getaddrinfo
    answers: list[str] = []

    def rebinding(host: object, *args: object, **kwargs: object) -> object:
        if host == "rebind.test":
            answers.append("127.0.0.1" if not answers else "127.0.0.2")
            host = answers[-1]
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(ssrf, "DNS_TTL", 0.0)

    async def fetch() -> tuple[int, bytes]:
        guard = SsrfGuard(["127.0.0.1"])
        client = build_client(
            guard=guard, user_agent="wiredesk/test", connect_timeout=2.0, read_timeout=2.0, max_connections=2
        )
        async with client:
            url = f"http://rebind.test:{port}/story"
            await guard.check_url(url)
            resp = await get_once(client, url, headers={}, max_bytes=1000, total_timeout=5.0)
            return resp.status, resp.body

    assert asyncio.run(fetch()) == (200, b"checked address")
    assert trap == []
    assert answers == ["127.0.0.1"], "the connection asked DNS again"


def test_unchecked_host_is_vetted_at_connect(
    monkeypatch: pytest.MonkeyPatch, two_listeners: tuple[int, list[object]]
) -> None:
    """A request that skipped the check still cannot reach a refused address."""
    port, trap = two_listeners
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **k: real("127.0.0.2" if host == "evil.test" else host, *a, **k),
    )

    async def fetch() -> str:
        client = build_client(
            guard=SsrfGuard(["127.0.0.1"]),
            user_agent="wiredesk/test",
            connect_timeout=2.0,
            read_timeout=2.0,
            max_connections=2,
        )
        async with client:
            try:
                await get_once(client, f"http://evil.test:{port}/", headers={}, max_bytes=1000, total_timeout=5.0)
            except PermanentFetchError as exc:
                return exc.reason
            return "fetched"

    assert asyncio.run(fetch()) == "ssrf"
    assert trap == []


def test_caches_stay_bounded_and_keep_recent_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ssrf, "MAX_HOSTS", 3)
    guard = SsrfGuard(["127.0.0.0/8"])
    for i in range(1, 6):
        asyncio.run(guard.resolve(f"127.0.0.{i}", 80))
    assert list(guard._pins) == [("127.0.0.3", 80), ("127.0.0.4", 80), ("127.0.0.5", 80)]  # noqa: SLF001
