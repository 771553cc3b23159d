"""One HTTP exchange on the shared client, made safe: no automatic redirects (the fetcher
checks every hop), a whole-attempt timeout, the body streamed and cut at a byte cap, and
decompression done here under the same cap so a gzip bomb stops at ``max_bytes``.

Every failure is a ``FetchError`` subclass with a stable ``reason``; Transient ones are
worth retrying, Permanent ones are not.
"""

from __future__ import annotations

import asyncio
import email.utils
import ssl
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.cookiejar import DefaultCookiePolicy

import httpcore
import httpx

from wiredesk.core.errors import PermanentFetchError

from .failures import (
    BadContentEncoding,
    ConnectionFailed,
    DecompressionBomb,
    TimedOut,
    TooLarge,
    Truncated,
)
from .ssrf import GuardedBackend, SsrfGuard

_DRAIN_BYTES = 64 * 1024
_DRAIN_SECONDS = 1.0
ACCEPT_PAGES = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,*/*;q=0.1"
ACCEPT_FEEDS = "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,text/html;q=0.5,*/*;q=0.1"


@dataclass(frozen=True, slots=True)
class Response:
    url: str
    status: int
    headers: httpx.Headers
    body: bytes = b""
    raw_bytes: int = 0  # bytes on the wire (before decompression)

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for param in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip("'\"") or None
        return None


def build_client(
    *, guard: SsrfGuard, user_agent: str, connect_timeout: float, read_timeout: float, max_connections: int
) -> httpx.AsyncClient:
    """The one shared client: our own redirect handling, no proxies from the environment
    (an env proxy would bypass the SSRF guard), connections only to vetted addresses."""
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections, keepalive_expiry=30.0
    )
    transport = httpx.AsyncHTTPTransport(trust_env=False, limits=limits)
    # Same pool httpx would build, plus our network backend (connect-time SSRF check).
    transport._pool = httpcore.AsyncConnectionPool(  # noqa: SLF001 - no public hook exists
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=GuardedBackend(guard),
    )
    client = httpx.AsyncClient(
        transport=transport,
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout, pool=None),
        headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
    )
    # No cookies: every request is stateless and the same in every run, and one jar shared
    # by every site of a months-long run would only grow. (httpx copies a jar passed to the
    # constructor into a default-policy one, so the policy is set on the client's own jar.)
    client.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return client


async def get_once(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: dict[str, str],
    max_bytes: int,
    total_timeout: float,
    accept: Callable[[Response], None] | None = None,
    on_sent: Callable[[], None] | None = None,
) -> Response:
    """One GET without redirects. The body is read for 2xx only; ``accept`` (called with the
    header-only response) may raise to refuse a body before any of it is read. ``on_sent``
    is called when the request headers are out (the politeness interval counts from it)."""
    try:
        async with asyncio.timeout(total_timeout):
            return await _exchange(client, url, headers, max_bytes, accept, on_sent)
    except TimeoutError:
        raise TimedOut(f"no complete response within {total_timeout:g}s: {url}") from None
    except httpx.TimeoutException as exc:
        raise TimedOut(f"{type(exc).__name__}: {url}") from None
    except httpx.RemoteProtocolError as exc:
        raise Truncated(f"{exc}: {url}") from None
    except (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.CloseError) as exc:
        what = str(exc) or "connection failed"
        raise ConnectionFailed(f"{type(exc).__name__}: {what}: {url}") from None
    except httpx.DecodingError as exc:
        raise BadContentEncoding(f"{exc}: {url}") from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as exc:
        raise PermanentFetchError(f"bad URL {url}: {exc}", reason="bad-url") from None
    except httpx.ProtocolError as exc:  # we could not even speak HTTP with it
        raise PermanentFetchError(f"{type(exc).__name__}: {exc}: {url}", reason="protocol") from None
    except httpx.HTTPError as exc:
        raise ConnectionFailed(f"{type(exc).__name__}: {exc}: {url}") from None
    except ssl.SSLError as exc:
        raise ConnectionFailed(f"TLS: {exc}: {url}", reason="tls") from None
    except OSError as exc:
        raise ConnectionFailed(f"{exc}: {url}") from None


async def _exchange(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    max_bytes: int,
    accept: Callable[[Response], None] | None,
    on_sent: Callable[[], None] | None,
) -> Response:
    extensions = {}
    if on_sent is not None:

        async def trace(event: str, info: dict[str, object]) -> None:
            if event.endswith("send_request_headers.complete"):
                on_sent()

        extensions["trace"] = trace
    async with client.stream("GET", url, headers=headers, extensions=extensions) as resp:
        head = Response(url=str(resp.url), status=resp.status_code, headers=resp.headers)
        if not 200 <= resp.status_code < 300:
            # Drain a small body (redirects, 304s, error pages) so the connection can be
            # reused; a large one is dropped with the connection instead.
            # Briefly: a dripping error body must not cost the whole-request timeout.
            try:
                async with asyncio.timeout(_DRAIN_SECONDS):
                    drained = 0
                    async for chunk in resp.aiter_raw():
                        drained += len(chunk)
                        if drained > _DRAIN_BYTES:
                            break
            except (TimeoutError, httpx.HTTPError):
                pass
            return head
        declared = resp.headers.get("content-length")
        if declared and declared.strip().isdigit() and int(declared) > max_bytes:
            raise TooLarge(f"Content-Length {declared} > cap {max_bytes}: {url}")
        if accept is not None:
            accept(head)
        decoder = _Decoder(resp.headers.get("content-encoding", ""), max_bytes, url)
        raw = 0
        async for chunk in resp.aiter_raw():  # as the socket gives it: no re-chunking copy
            raw += len(chunk)
            if raw > max_bytes:
                raise TooLarge(f"body over cap {max_bytes} bytes: {url}")
            decoder.feed(chunk)
        body = decoder.finish()
        return Response(url=head.url, status=head.status, headers=head.headers, body=body, raw_bytes=raw)


class _Decoder:
    """Content-Encoding under a cap. Output past ``max_bytes`` is a decompression bomb."""

    def __init__(self, encoding: str, max_bytes: int, url: str) -> None:
        codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise BadContentEncoding(f"unsupported Content-Encoding {encoding!r}: {url}")
        self._coding = codings[0] if codings else ""
        self._max = max_bytes
        self._url = url
        self._out = bytearray()
        self._z: zlib._Decompress | None = None  # type: ignore[name-defined]
        self._first = True

    def feed(self, chunk: bytes) -> None:
        if not self._coding:
            self._out += chunk
            return
        if self._z is None:
            if self._coding == "deflate" and chunk and not _zlib_header(chunk):
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as some servers send
            else:
                self._z = zlib.decompressobj(16 + zlib.MAX_WBITS if "gzip" in self._coding else zlib.MAX_WBITS)
        try:
            self._out += self._z.decompress(chunk, self._max + 1 - len(self._out))
        except zlib.error as exc:
            raise BadContentEncoding(f"corrupt {self._coding} body: {exc}: {self._url}") from None
        if len(self._out) > self._max or self._z.unconsumed_tail:
            raise DecompressionBomb(f"{self._coding} body inflates past cap {self._max} bytes: {self._url}")

    def finish(self) -> bytes:
        if self._z is not None:
            try:
                self._out += self._z.flush()
            except zlib.error as exc:
                raise BadContentEncoding(f"corrupt {self._coding} body: {exc}: {self._url}") from None
            if len(self._out) > self._max:
                raise DecompressionBomb(f"body inflates past cap {self._max}: {self._url}")
            if not self._z.eof:
                raise Truncated(f"{self._coding} stream ends early: {self._url}")
        return bytes(self._out)


def _zlib_header(chunk: bytes) -> bool:
    return len(chunk) >= 2 and chunk[0] & 0x0F == 8 and ((chunk[0] << 8) | chunk[1]) % 31 == 0


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now_dt = datetime.fromtimestamp(now if now is not None else time.time(), UTC)
    return max(0.0, (when - now_dt).total_seconds())
