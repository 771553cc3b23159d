"""Politeness gates: per-host concurrency, per-host minimum interval between request starts,
one global concurrency limit. They live in the Fetcher (one process, one event loop), so
they hold across fetch() calls and without any Prefect server.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from .pacing import HostPacer


class HostGate:
    """One host: at most ``concurrency`` requests in flight, starts ``interval`` s apart."""

    def __init__(self, concurrency: int, interval: float, *, host: str = "", pacer: HostPacer | None = None) -> None:
        self.host = host
        self.pacer = pacer  # shared with other processes: their starts to this host count too
        self._slots = asyncio.Semaphore(concurrency)
        self._lock = asyncio.Lock()
        self.interval = interval
        self._next_start = 0.0  # monotonic time before which no request may start
        self.active = 0
        self.max_active = 0  # observed, for reports and the bench
        self.failures = 0  # consecutive failed attempts (no answer, or 5xx) on this host
        self.closed_until = 0.0  # monotonic: no request to this host before this
        self.closed_reason = ""  # "host-down" (too many failures) / "host-backoff" (Retry-After)
        self.closed_detail = ""
        # Set when the last request started here has its headers out (or ended): the next
        # one waits for it, so a slow connect cannot let a later request reach the server
        # first, inside the interval.
        self._previous_sent = asyncio.Event()
        self._previous_sent.set()

    def close(self, seconds: float, reason: str, detail: str) -> None:
        """Stop sending to this host for ``seconds``: requests waiting or coming are refused
        with ``reason`` instead of queueing behind a host that cannot or will not answer."""
        until = time.monotonic() + seconds
        if until > self.closed_until:
            self.closed_until, self.closed_reason, self.closed_detail = until, reason, detail

    def closed_for(self) -> float:
        """Seconds this host stays closed (0: open)."""
        return max(0.0, self.closed_until - time.monotonic())

    @property
    def spacing(self) -> float:
        # 2% over the interval (at most 50 ms): the server stamps arrivals a little after we
        # send, unevenly, and the gap it sees must not come out below the interval.
        return self.interval + min(0.02 * self.interval, 0.05)

    def note_sent(self) -> None:
        """The request's headers just left: the interval counts from here when that is later
        than its start (a slow connect must not squeeze the gap the server sees)."""
        self._next_start = max(self._next_start, time.monotonic() + self.spacing)
        self._previous_sent.set()

    def pause_until(self, when: float) -> None:
        """Hold every request to this host until ``when`` (monotonic): Retry-After, 503."""
        self._next_start = max(self._next_start, when)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._slots:
            async with self._lock:
                # Sleep holding the lock: starts are serialised, each one interval after the last.
                # Loop: note_sent / pause_until may move the mark while we sleep.
                while True:
                    if self.interval:
                        await self._previous_sent.wait()
                    if (delay := self._next_start - time.monotonic()) <= 0:
                        break
                    await asyncio.sleep(delay)
                if self.pacer is not None:
                    await asyncio.sleep(await asyncio.to_thread(self.pacer.reserve, self.host, self.spacing))
                self._next_start = time.monotonic() + self.spacing
                if self.interval:
                    self._previous_sent.clear()  # set by note_sent, or below when we end
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            try:
                yield
            finally:
                self.active -= 1
                self._previous_sent.set()


class Politeness:
    """All gates of one Fetcher. Create inside the event loop that will use it."""

    def __init__(
        self,
        *,
        per_host_concurrency: int,
        min_interval: float,
        global_concurrency: int,
        max_crawl_delay: float,
        pacer: HostPacer | None = None,
    ) -> None:
        self._pacer = pacer
        self._per_host = per_host_concurrency
        self._interval = min_interval
        self._max_crawl_delay = max_crawl_delay
        self._global = asyncio.Semaphore(global_concurrency)
        self.gates: dict[str, HostGate] = {}

    def gate(self, host: str) -> HostGate:
        gate = self.gates.get(host)
        if gate is None:
            gate = self.gates[host] = HostGate(self._per_host, self._interval, host=host, pacer=self._pacer)
        return gate

    def apply_crawl_delay(self, host: str, delay: float | None) -> None:
        if delay is not None:
            gate = self.gate(host)
            gate.interval = max(self._interval, min(delay, self._max_crawl_delay))
            # robots.txt was just fetched, spaced by the old interval: the next request
            # keeps the new one from now.
            gate.pause_until(time.monotonic() + gate.spacing)

    @contextlib.asynccontextmanager
    async def request(self, host: str) -> AsyncIterator[HostGate]:
        """Hold a slot for one request to ``host``; call ``gate.note_sent()`` once it is sent."""
        # Host slot first: waiting on a slow host must not hold a global slot.
        gate = self.gate(host)
        async with gate.slot():
            async with self._global:
                yield gate
