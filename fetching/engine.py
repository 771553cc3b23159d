"""The async core under Fetcher: one shared client, the politeness gates (with the per-host
circuit breaker), the robots.txt cache, and ``request`` — one URL through redirects and
retries to a final response or a classified error. It reads and writes no state; Fetcher
turns its results into records.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin

from wiredesk.core.errors import FetchError, PermanentFetchError, TransientFetchError

from .failures import ClientError, ServerError
from .http import Response, build_client, get_once, retry_after_seconds
from .pacing import HostPacer
from .politeness import HostGate, Politeness
from .robots import ALLOW_ALL, DISALLOW_ALL, RobotsRules, parse_robots
from .settings import FetchSettings
from .ssrf import SsrfGuard
from .state import SiteNotes
from .urls import host_key, origin

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ROBOTS_TTL = 24 * 3600.0  # RFC 9309 2.4: a cached robots.txt should not be used longer
ROBOTS_MIN_TTL = 60.0  # "max-age=0" must not mean one robots.txt request per URL
ROBOTS_RETRY_TTL = 600.0  # robots.txt unreachable: full disallow, asked again after this


class RobotsRefused(PermanentFetchError):
    reason = "robots"


class HostClosed(PermanentFetchError):
    """The host is closed for now (see HostGate.close); ``reason`` says why."""

    def __init__(self, message: str, *, reason: str, seconds: float) -> None:
        super().__init__(message, reason=reason)
        self.seconds = seconds


class RedirectLoop(PermanentFetchError):
    reason = "redirect-loop"


class TooManyRedirects(PermanentFetchError):
    reason = "too-many-redirects"


@dataclass(frozen=True, slots=True)
class Attempted:
    """What came of requesting one URL: a response, or the error that ended the tries."""

    response: Response | None
    error: FetchError | None
    final_url: str
    status: int | None  # last HTTP status seen, also when the end was an error
    attempts: int
    duration_ms: float
    retry_at: float | None = None  # seconds from now the server asked us to wait (Retry-After)


class Engine:
    """Create inside the event loop that will run it (asyncio primitives bind to it)."""

    def __init__(
        self, settings: FetchSettings, notes: SiteNotes | None = None, *, pacer: HostPacer | None = None
    ) -> None:
        self.settings = settings
        self.notes = notes
        self.robots_requests = 0  # robots.txt fetched from the network (not from the cache)
        self.guard = SsrfGuard(settings.allow_private)
        self.client = build_client(
            guard=self.guard,
            user_agent=settings.user_agent,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            max_connections=max(settings.global_concurrency, 1),
        )
        self.politeness = Politeness(
            per_host_concurrency=settings.per_host_concurrency,
            min_interval=settings.per_host_min_interval,
            global_concurrency=settings.global_concurrency,
            max_crawl_delay=settings.max_crawl_delay,
            pacer=pacer,
        )
        self._robots: dict[str, tuple[RobotsRules, float]] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self.loop = asyncio.get_running_loop()

    async def aclose(self) -> None:
        await self.client.aclose()

    # ---- robots.txt -------------------------------------------------------------------

    async def robots_for(self, url: str) -> RobotsRules:
        if not self.settings.obey_robots:
            return ALLOW_ALL
        key = origin(url)
        cached = self._robots.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        lock = self._robots_locks.setdefault(key, asyncio.Lock())
        async with lock:  # one robots.txt request per host, however many URLs wait for it
            cached = self._robots.get(key)
            if cached is not None and cached[1] > time.monotonic():
                return cached[0]
            rules, ttl = self._cached_robots(key)
            if rules is None:
                rules, ttl = await self._load_robots(key)
                if self.notes is not None and not rules.disallow_all:
                    expires = datetime.now(UTC) + timedelta(seconds=ttl)
                    self.notes.save_note("robots " + key, rules.text, expires)
            self._robots[key] = (rules, time.monotonic() + ttl)
            self.politeness.apply_crawl_delay(host_key(url), rules.crawl_delay)
            return rules

    def _cached_robots(self, site: str) -> tuple[RobotsRules | None, float]:
        if self.notes is None:
            return None, 0.0
        cached = self.notes.load_note("robots " + site)
        if cached is None:
            return None, 0.0
        text, expires = cached
        left = (expires - datetime.now(UTC)).total_seconds()
        if left <= 0:
            return None, 0.0
        return parse_robots(text, self.settings.robots_agent), min(left, ROBOTS_TTL)

    async def _load_robots(self, site: str) -> tuple[RobotsRules, float]:
        # RFC 9309: follow up to 5 redirects; 4xx = no rules; 5xx / unreachable = disallow all.
        url = site + "/robots.txt"
        failed = 0
        for _ in range(5 + self.settings.retries):
            self.robots_requests += 1
            try:
                await self.guard.check_url(url)
                async with self.politeness.request(host_key(url)) as gate:
                    resp = await get_once(
                        self.client,
                        url,
                        headers={},
                        max_bytes=self.settings.max_bytes,
                        total_timeout=self.settings.total_timeout,
                        on_sent=gate.note_sent if gate.interval else None,
                    )
            except TransientFetchError:
                resp = None
            except PermanentFetchError:
                return ALLOW_ALL, ROBOTS_TTL  # too large, refused redirect target, ...
            if resp is None or resp.status == 429 or resp.status >= 500:
                # One bad answer must not shut a whole site for the run: retry like a page.
                failed += 1
                if failed > self.settings.retries:
                    return DISALLOW_ALL, ROBOTS_RETRY_TTL
                await asyncio.sleep(_backoff(self.settings.retry_backoff, failed))
                continue
            if resp.status in REDIRECT_STATUSES and resp.headers.get("location"):
                url = urljoin(url, resp.headers["location"])
                continue
            if 200 <= resp.status < 300:
                text = resp.body.decode("utf-8", "replace")
                return parse_robots(text, self.settings.robots_agent), robots_lifetime(resp)
            return ALLOW_ALL, ROBOTS_TTL  # 4xx: no rules
        return ALLOW_ALL, ROBOTS_TTL  # redirected in circles: RFC 9309 says assume none

    # ---- one URL ----------------------------------------------------------------------

    async def request(
        self, url: str, *, headers: dict[str, str], accept: Callable[[Response], None] | None
    ) -> Attempted:
        """GET ``url`` (already checked for scheme, SSRF and robots by the caller), following
        redirects (each hop checked again) and retrying transient failures."""
        s = self.settings
        attempts = 0
        spent = [0.0]  # seconds inside HTTP exchanges (politeness waits excluded)
        last_status: list[int | None] = [None]
        final = [url]
        while True:
            attempts += 1
            try:
                resp = await self._follow(url, headers, accept, spent, last_status, final)
                return Attempted(resp, None, final[0], resp.status, attempts, spent[0] * 1000)
            except HostClosed as exc:  # refused before sending: this attempt did not happen
                return Attempted(
                    None, exc, final[0], last_status[0], attempts - 1, spent[0] * 1000, retry_at=exc.seconds
                )
            except TransientFetchError as exc:
                hinted = exc.retry_after if isinstance(exc, ServerError) else None
                wait = hinted if hinted is not None else _backoff(s.retry_backoff, attempts)
                if attempts > s.retries or wait > s.max_retry_after:
                    return Attempted(None, exc, final[0], last_status[0], attempts, spent[0] * 1000, retry_at=hinted)
                await asyncio.sleep(wait)
            except PermanentFetchError as exc:
                return Attempted(None, exc, final[0], last_status[0], attempts, spent[0] * 1000)

    def host_closed(self, host: str) -> HostClosed | None:
        """Why ``host`` (a host_key) is closed, or None when it is open."""
        gate = self.politeness.gate(host)
        seconds = gate.closed_for()
        if seconds <= 0:
            return None
        return HostClosed(
            f"{gate.closed_detail}; refused for {seconds:.0f}s more", reason=gate.closed_reason, seconds=seconds
        )

    def _note_result(self, gate: HostGate, host: str, failed: bool) -> None:
        """Circuit breaker: a host failing every attempt is closed for ``failure_backoff``,
        so one dead host cannot hold a batch for (URLs x retries x timeout) seconds."""
        limit = self.settings.host_failure_limit
        if not failed:
            gate.failures = 0
            return
        gate.failures += 1
        if limit and gate.failures >= limit:
            gate.close(
                self.settings.failure_backoff, "host-down", f"{gate.failures} failed attempts in a row on {host}"
            )

    async def _follow(
        self,
        url: str,
        headers: dict[str, str],
        accept: Callable[[Response], None] | None,
        spent: list[float],
        last_status: list[int | None],
        final: list[str],
    ) -> Response:
        s = self.settings
        # A loop is a URL requested twice in one chain. Never compare canonical forms:
        # "/story" -> 301 -> "/story/" is one hop (the web's commonest redirect).
        seen = {url}
        current = url
        for hop in range(s.max_redirects + 1):
            if hop:  # a redirect target gets every check the first URL got
                await self.guard.check_url(current)
                if not (await self.robots_for(current)).allowed(current):
                    raise RobotsRefused(f"robots.txt disallows redirect target {current}")
            final[0] = current
            host = host_key(current)
            async with self.politeness.request(host) as gate:
                # Checked after the wait: the host may have closed while we queued for it.
                closed = self.host_closed(host)
                if closed is not None:
                    raise closed
                started = time.perf_counter()
                try:
                    resp = await get_once(
                        self.client,
                        current,
                        headers=headers,
                        max_bytes=s.max_bytes,
                        total_timeout=s.total_timeout,
                        accept=accept,
                        # tracing costs ~10 callbacks a request: only
                        # when there is an interval to protect
                        on_sent=gate.note_sent if gate.interval else None,
                    )
                except TransientFetchError:
                    self._note_result(gate, host, failed=True)
                    raise
                finally:
                    spent[0] += time.perf_counter() - started
            self._note_result(gate, host, failed=resp.status >= 500 and resp.status != 503 and resp.status != 429)
            last_status[0] = resp.status
            if resp.status in REDIRECT_STATUSES:
                location = resp.headers.get("location", "").strip()
                if not location:
                    raise PermanentFetchError(f"{resp.status} without Location: {current}", reason="bad-redirect")
                current = urljoin(current, location).split("#", 1)[0]
                if current in seen:
                    raise RedirectLoop(f"redirect loop back to {current}")
                seen.add(current)
                continue
            if 200 <= resp.status < 300 or resp.status == 304:
                return resp
            if resp.status in (429, 503):
                wait = retry_after_seconds(resp.headers.get("retry-after"))
                # The server asked the whole host to slow down, not just this URL.
                pause = wait if wait is not None else _backoff(s.retry_backoff, 2)
                gate.pause_until(time.monotonic() + min(pause, s.max_retry_after))
                if pause > s.max_retry_after:  # longer than this run will wait: stop asking
                    gate.close(pause, "host-backoff", f"{host} answered {resp.status} with Retry-After {pause:.0f}s")
                raise ServerError(f"{resp.status} from {current}", status=resp.status, retry_after=wait)
            if resp.status >= 500:
                raise ServerError(f"{resp.status} from {current}", status=resp.status)
            if resp.status >= 400:
                raise ClientError(f"{resp.status} from {current}", status=resp.status)
            raise PermanentFetchError(f"unexpected status {resp.status} from {current}", reason=f"http-{resp.status}")
        raise TooManyRedirects(f"more than {s.max_redirects} redirects from {url}")


def robots_lifetime(resp: Response) -> float:
    """How long a robots.txt may be used: the server's max-age or Expires when it gives
    one, never over 24 hours (RFC 9309 2.4) and never under a minute."""
    for directive in resp.headers.get("cache-control", "").split(","):
        name, _, value = directive.strip().partition("=")
        if name.lower() == "max-age" and value.strip().strip('"').isdigit():
            return min(max(float(value.strip().strip('"')), ROBOTS_MIN_TTL), ROBOTS_TTL)
    expires = resp.headers.get("expires")
    if expires:
        left = retry_after_seconds(expires)
        if left is not None:
            return min(max(left, ROBOTS_MIN_TTL), ROBOTS_TTL)
    return ROBOTS_TTL


def _backoff(base: float, attempt: int) -> float:
    """Exponential back-off with full jitter: uniform in [base, base * 2**attempt]."""
    high = base * (2**attempt)
    return random.uniform(min(base, high), high)
