"""SSRF guard: wiredesk only talks to public addresses, unless an operator allow-lists more.

Two layers, both built from one ``SsrfGuard``:
- ``check_url`` before a request (and before every redirect hop): scheme, then every
  address the host resolves to must be public or allow-listed;
- ``GuardedBackend``, the httpcore network backend under the shared client, resolves again
  at connect time and connects to a vetted IP only, so a DNS answer that changes between
  check and connect (DNS rebinding) cannot reach a private address either.
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


class SsrfRefused(PermanentFetchError):
    reason = "ssrf"


class SchemeRefused(PermanentFetchError):
    reason = "scheme"


class SsrfGuard:
    def __init__(self, allow_private: typing.Iterable[str] = ()) -> None:
        self._hosts: set[str] = set()
        self._cache: dict[tuple[str, int], tuple[float, list[IPAddress]]] = {}
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in allow_private:
            entry = entry.strip().lower()
            try:
                self._networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self._hosts.add(entry.strip("[]").rstrip("."))

    def address_allowed(self, ip: IPAddress) -> bool:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        if any(ip in net for net in self._networks):
            return True
        return ip.is_global and not ip.is_multicast

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
        if host in self._hosts:
            return addresses
        refused = [str(ip) for ip in addresses if not self.address_allowed(ip)]
        if refused:
            raise SsrfRefused(f"{host} resolves to non-public address {', '.join(refused)}")
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
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (time.monotonic() + DNS_TTL, addresses)
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
        addresses = await self._guard.resolve(host, port)
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
