"""Large files (web archives, their listings) downloaded to disk through the safe client.

The same guard as page fetches (SSRF check on every hop and at connect time, no proxies
from the environment, connect and read timeouts, redirects followed by hand), but the body
is streamed to a ``.part`` file instead of memory, under its own byte cap. An interrupted
download is resumed with an HTTP Range request from the bytes already on disk, within a
run (transient failures are retried) and across runs (the ``.part`` file stays).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import random
from pathlib import Path
from urllib.parse import urljoin

import httpx

from wiredesk.core.errors import PermanentFetchError, TransientFetchError

from .failures import ClientError, ConnectionFailed, ServerError, TimedOut, TooLarge, Truncated
from .http import build_client
from .settings import FetchSettings
from .ssrf import SsrfGuard


def download(url: str, dest: Path, *, settings: FetchSettings, max_bytes: int) -> Path:
    """Download ``url`` to ``dest`` (resuming ``dest.part`` if present); returns ``dest``.
    Raises a FetchError subclass after the retries allowed by ``settings``."""
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_download(url, dest, settings, max_bytes))
    # Called from sync code inside an event loop (a notebook, an async framework): ours
    # cannot nest in theirs, so it runs in a helper thread.
    with concurrent.futures.ThreadPoolExecutor(1, "wiredesk-download") as pool:
        return pool.submit(asyncio.run, _download(url, dest, settings, max_bytes)).result()


async def _download(url: str, dest: Path, settings: FetchSettings, max_bytes: int) -> Path:
    guard = SsrfGuard(settings.allow_private)
    client = build_client(
        guard=guard,
        user_agent=settings.user_agent,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        max_connections=2,
    )
    part = dest.with_name(dest.name + ".part")
    try:
        attempt = 0
        while True:
            try:
                await _attempt(client, guard, url, part, settings, max_bytes)
                break
            except TransientFetchError:
                if attempt >= settings.retries:
                    raise
                attempt += 1
                await asyncio.sleep(random.uniform(0, settings.retry_backoff * 2**attempt))
    finally:
        await client.aclose()
    os.replace(part, dest)
    return dest


async def _attempt(
    client: httpx.AsyncClient, guard: SsrfGuard, url: str, part: Path, settings: FetchSettings, max_bytes: int
) -> None:
    have = part.stat().st_size if part.exists() else 0
    target = url
    for _hop in range(settings.max_redirects + 1):
        await guard.check_url(target)
        headers = {"Accept-Encoding": "identity"}  # the bytes as stored: a .gz stays gzip
        if have:
            headers["Range"] = f"bytes={have}-"
        try:
            async with client.stream("GET", target, headers=headers) as resp:
                if resp.status_code in (301, 302, 303, 307, 308) and "location" in resp.headers:
                    target = urljoin(target, resp.headers["location"])
                    continue
                if resp.status_code == 416 and have:  # nothing left past what we have
                    return
                if resp.status_code >= 500 or resp.status_code == 429:
                    raise ServerError(f"HTTP {resp.status_code}: {target}", status=resp.status_code)
                if resp.status_code >= 400:
                    raise ClientError(f"HTTP {resp.status_code}: {target}", status=resp.status_code)
                if resp.status_code == 200:
                    have = 0  # the server ignored the Range: start over
                elif resp.status_code != 206:
                    raise PermanentFetchError(f"HTTP {resp.status_code}: {target}", reason=f"http-{resp.status_code}")
                total = _total(resp, have)
                if total is not None and total > max_bytes:
                    raise TooLarge(f"{total} bytes > cap {max_bytes}: {target}")
                with open(part, "r+b" if have else "wb") as out:
                    out.seek(have)
                    out.truncate()
                    async for chunk in resp.aiter_raw():  # as the socket gives it: a cut keeps what came
                        have += len(chunk)
                        if have > max_bytes:
                            raise TooLarge(f"over the cap of {max_bytes} bytes: {target}")
                        out.write(chunk)
                if total is not None and have < total:
                    raise Truncated(f"{have} of {total} bytes: {target}")
                return
        except httpx.TimeoutException as exc:
            raise TimedOut(f"{type(exc).__name__}: {target}") from None
        except httpx.RemoteProtocolError as exc:
            raise Truncated(f"{exc}: {target}") from None
        except (httpx.ConnectError, httpx.ReadError, httpx.WriteError) as exc:
            raise ConnectionFailed(f"{type(exc).__name__}: {exc or 'connection failed'}: {target}") from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise PermanentFetchError(f"bad URL {target}: {exc}", reason="bad-url") from None
    raise PermanentFetchError(f"more than {settings.max_redirects} redirects: {url}", reason="redirects")


def _total(resp: httpx.Response, have: int) -> int | None:
    """The full size of the file, from Content-Range (206) or Content-Length (200)."""
    if resp.status_code == 206:
        _, _, size = resp.headers.get("content-range", "").rpartition("/")
        return int(size) if size.strip().isdigit() else None
    length = resp.headers.get("content-length", "")
    return int(length) if length.strip().isdigit() else None
