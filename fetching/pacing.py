"""Per-host pacing shared between processes: the minimum interval between request starts to
one host holds for every fetcher that shares a pacer, not only within one Fetcher.

`wiredesk serve` runs each flow run in its own process, and several workers may ingest at
once: without this, two deployments fetching one host would each keep their own interval and
the host would see twice the rate. A pacer hands out start times per host, atomically:

- ``FilePacer``: a small file per host in a directory, updated under ``flock`` (every process
  on one machine that uses the same store directory);
- ``RedisPacer``: one key per host, updated by a Lua script on Redis's clock (workers on
  several machines).

The per-host concurrency limit stays per process; the interval is what a host's rate is.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from pathlib import Path
from typing import Protocol


class HostPacer(Protocol):
    def reserve(self, host: str, interval: float) -> float:
        """Take the next start slot for ``host`` (slots ``interval`` s apart); seconds to wait for it."""
        ...


def _key(host: str) -> str:
    return hashlib.sha1(host.lower().encode()).hexdigest()[:20]


class FilePacer:
    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def reserve(self, host: str, interval: float) -> float:
        fd = os.open(self.directory / f"{_key(host)}.next", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                raw = os.pread(fd, 64, 0).strip()
                try:
                    booked = float(raw) if raw else 0.0
                except ValueError:
                    booked = 0.0
                now = time.time()
                start = max(now, booked)
                data = f"{start + interval:.6f}".encode()
                os.pwrite(fd, data, 0)
                os.ftruncate(fd, len(data))
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        return start - now


_RESERVE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local booked = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(now, booked)
local interval = tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.6f', start + interval), 'PX', math.ceil((start - now + interval) * 1000) + 60000)
return string.format('%.6f', start - now)
"""


class RedisPacer:
    def __init__(self, url: str, *, prefix: str = "wiredesk:pace:") -> None:
        import redis

        self._client = redis.Redis.from_url(url)
        self._script = self._client.register_script(_RESERVE_LUA)
        self.prefix = prefix

    def reserve(self, host: str, interval: float) -> float:
        return float(self._script(keys=[self.prefix + _key(host)], args=[interval]))

    def close(self) -> None:
        self._client.close()


def open_pacer(location: str | None) -> HostPacer | None:
    """``redis://...`` -> RedisPacer; a directory path -> FilePacer; None -> no sharing."""
    if not location:
        return None
    if location.startswith(("redis://", "rediss://", "unix://")):
        return RedisPacer(location)
    return FilePacer(location)
