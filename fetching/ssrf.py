"""SSRF guard: wiredesk only talks to public addresses, unless an operator allow-lists more.

Two layers, both built from one ``SsrfGuard``:
- ``check_url`` before a request (and before every redirect hop): scheme, then every
  address the host resolves to must be public or allow-listed; the vetted answer is pinned;
- ``GuardedBackend``, the httpcore network backend under the shared client, connects to the
  pinned addresses of that host, never to a second DNS answer: a name that answers a public
  address to the check and a private one to the connect (DNS rebinding) reaches the address
  that was checked. A host never checked is resolved and vetted there.

IPv6 addresses that carry an IPv4 address (IPv4-mapped and -compatible, SIIT, NAT64
``64:ff9b::/96``, 6to4 ``2002::/16``, Teredo ``2001::/32``) are judged by that IPv4 address:
``64:ff9b::7f00:1`` reaches 127.0.0.1 through a NAT64 gateway. The local-use NAT64 prefix
``64:ff9b:1::/48`` places the IPv4 address where its operator chose, so it cannot be read
and is refused, as are site-local ``fec0::/10`` and other non-global ranges, unless
allow-listed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
import typing
from urllib.parse import urlsplit

import httpcore

from wiredesk.core.errors import PermanentFetchError

from .failures import ConnectionFailed
from .urls import HTTP_SCHEMES

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
DNS_TTL = 60.0  # seconds a resolved host's addresses are reused
MAX_HOSTS = 10_000  # resolved hosts remembered (DNS cache and pins); the oldest go first

_V6 = ipaddress.IPv6Network
_IPV4_COMPATIBLE = _V6("::/96")  # deprecated, still routed by some stacks
_SIIT = _V6("::ffff:0:0:0/96")  # IPv4-translated (RFC 2765)
_NAT64 = _V6("64:ff9b::/96")  # well-known NAT64 prefix: the IPv4 address is the last 32 bits
# Global by Python's tables (which differ between versions), yet never a public web server.
_REFUSED_V6 = (
    _V6("fec0::/10"),  # site-local (deprecated, still routed on some sites)
    _V6("64:ff9b:1::/48"),  # local-use NAT64: the IPv4 address sits where the operator chose
    _V6("3fff::/20"),  # documentation (RFC 9637)
    _V6("5f00::/16"),  # SRv6 SIDs
)


def embedded_ipv4(ip: IPAddress) -> tuple[ipaddress.IPv4Address, ...] | None:
    """The IPv4 addresses an IPv6 address leads to, None if it embeds none."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return (ip.ipv4_mapped,)
    if ip.teredo is not None:  # 2001::/32
        return ip.teredo  # (server, client): both are reached
    if ip.sixtofour is not None:  # 2002::/16
        return (ip.sixtofour,)
    if ip in _IPV4_COMPATIBLE or ip in _SIIT or ip in _NAT64:
        return (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF),)
    return None


class SsrfRefused(PermanentFetchError):
    reason = "ssrf"


class SchemeRefused(PermanentFetchError):
    reason = "scheme"


class SsrfGuard:
    def __init__(self, allow_private: typing.Iterable[str] = ()) -> None:
        self._hosts: set[str] = set()
        self._cache: dict[tuple[str, int], tuple[float, list[IPAddress]]] = {}
        self._pins: dict[tuple[str, int], list[IPAddress]] = {}  # the last vetted answer per host
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in allow_private:
            entry = entry.strip().lower()
            try:
                self._networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self._hosts.add(entry.strip("[]").rstrip("."))

    def address_allowed(self, ip: IPAddress) -> bool:
        if self._listed(ip):
            return True
        embedded = embedded_ipv4(ip)
        if embedded is not None:  # ::ffff:127.0.0.1, 64:ff9b::7f00:1, 2002:7f00:1:: ... are 127.0.0.1
            return all(self._listed(v4) or _public(v4) for v4 in embedded)
        if isinstance(ip, ipaddress.IPv6Address) and any(ip in net for net in _REFUSED_V6):
            return False
        return _public(ip)

    def _listed(self, ip: IPAddress) -> bool:
        return any(ip in net for net in self._networks)

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """The addresses ``host`` may be reached at; raises SsrfRefused if any is forbidden.

        All answers must pass, not just one: otherwise an attacker's DNS could list a public
        and a private address and win whenever the private one is tried first.
        """
        host = host.strip("[]").rstrip(".").lower()
        literal = _ip_literal(host)
        if literal is not None:
            addresses = [literal]
        else:
            addresses = await self._lookup(host, port)
        if host not in self._hosts:
            refused = [str(ip) for ip in addresses if not self.address_allowed(ip)]
            if refused:
                raise SsrfRefused(f"{host} resolves to non-public address {', '.join(refused)}")
        _remember(self._pins, (host, port), addresses)
        return addresses

    async def pinned(self, host: str, port: int) -> list[IPAddress]:
        """The addresses to connect to: those the last check of ``host`` vetted (never a
        second, possibly different DNS answer), else a fresh vetted resolution."""
        addresses = self._pins.get((host.strip("[]").rstrip(".").lower(), port))
        if addresses is None:
            return await self.resolve(host, port)
        return addresses

    async def _lookup(self, host: str, port: int) -> list[IPAddress]:
        # Cached briefly: a batch asks for the same host hundreds of times (check, then
        # connect), and the connection goes to exactly the addresses that were checked.
        key = (host, port)
        hit = self._cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise _dns_error(host, exc) from None
        addresses: list[IPAddress] = []
        for info in infos:
            ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])
            if ip not in addresses:
                addresses.append(ip)
        if not addresses:
            raise _dns_error(host, OSError("no addresses"))
        _remember(self._cache, key, (time.monotonic() + DNS_TTL, addresses))
        return addresses

    async def check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme.lower() not in HTTP_SCHEMES:
            raise SchemeRefused(f"scheme {parts.scheme or '(none)'!r} is not http/https: {url}")
        if not parts.hostname:
            raise SchemeRefused(f"no host in {url}")
        try:
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        except ValueError:
            raise SchemeRefused(f"bad port in {url}") from None
        await self.resolve(parts.hostname, port)


def _public(ip: IPAddress) -> bool:
    return ip.is_global and not ip.is_multicast


def _remember(table: dict[typing.Any, typing.Any], key: typing.Any, value: typing.Any) -> None:
    table.pop(key, None)  # re-inserted last: the table is in order of use
    table[key] = value
    while len(table) > MAX_HOSTS:
        del table[next(iter(table))]


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    # Forms like "2130706433" or "0x7f.1" that the resolver would turn into 127.0.0.1.
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _dns_error(host: str, exc: BaseException) -> Exception:

    return ConnectionFailed(f"cannot resolve {host}: {exc}", reason="dns")


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore backend that connects only to addresses the guard accepts."""

    def __init__(self, guard: SsrfGuard) -> None:
        self._guard = guard
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._guard.pinned(host, port)
        last: Exception | None = None
        for ip in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(ip), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:  # try the next vetted address
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise SsrfRefused("unix sockets are never used")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
