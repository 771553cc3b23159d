"""FetchSettings: every knob of the fetch stage, typed and frozen.

The lead maps the YAML ``fetch:`` section onto these fields one to one (same names).
Defaults are the polite production values; tests and the bench loosen them explicitly.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from wiredesk.core.errors import ConfigError

# Operators should add a contact URL or address, e.g. "wiredesk/0.1 (+https://example.org/bot)".
DEFAULT_USER_AGENT = "wiredesk/0.1 (news archiver)"


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchSettings:
    # SSRF allow-list: host names or CIDRs ("127.0.0.1", "10.0.0.0/8", "intranet.local").
    # Empty: every loopback/private/link-local/reserved address is refused.
    allow_private: tuple[str, ...] = ()
    user_agent: str = DEFAULT_USER_AGENT
    # The product token matched against robots.txt ``User-agent:`` lines.
    robots_agent: str = "wiredesk"
    obey_robots: bool = True

    # Politeness. A "host" is scheme-less host:port, so two ports are two hosts.
    per_host_concurrency: int = 2
    per_host_min_interval: float = 1.0  # seconds between request starts on one host
    # 16: plenty for a politeness-bound crawl, and httpx's pool costs CPU per connection
    # (measured: 1.0 ms/page at 16 against 1.6 at 32, bench/fetch.py).
    global_concurrency: int = 16
    max_crawl_delay: float = 30.0  # robots Crawl-delay above this is clamped (a run must end)

    # Safety limits.
    connect_timeout: float = 10.0
    read_timeout: float = 20.0  # between two chunks of the response
    total_timeout: float = 60.0  # one HTTP attempt, headers and body included
    max_bytes: int = 10 * 1024 * 1024  # body cap, compressed and decompressed
    max_redirects: int = 5

    # Retries inside one fetch() call (transient failures only).
    retries: int = 2  # extra attempts after the first
    retry_backoff: float = 0.5  # base seconds; doubled per retry, with full jitter
    max_retry_after: float = 30.0  # a longer Retry-After ends this run's attempts

    # Back-off across runs for URLs that failed.
    failure_backoff: float = 3600.0  # seconds after the first failed fetch; doubled per failure
    max_failure_backoff: float = 7 * 24 * 3600.0
    give_up_after: int = 5  # consecutive failed fetches before a URL is given up
    # Failed attempts in a row (timeouts, resets, 5xx) after which a host is closed for
    # failure_backoff seconds: its remaining URLs are skipped as "host-down". 0: never.
    host_failure_limit: int = 6

    # Discovery limits (hostile sitemaps can nest and fan out without end).
    max_sitemap_depth: int = 3
    max_sitemaps: int = 50  # sitemap documents fetched per discover() call
    max_urls_per_source: int = 50_000

    def __post_init__(self) -> None:
        positive = {
            "per_host_concurrency": self.per_host_concurrency,
            "global_concurrency": self.global_concurrency,
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "total_timeout": self.total_timeout,
            "max_bytes": self.max_bytes,
            "give_up_after": self.give_up_after,
        }
        for name, value in positive.items():
            if value <= 0:
                raise ConfigError(f"fetch.{name} must be > 0, got {value!r}")
        for name in (
            "per_host_min_interval",
            "retries",
            "host_failure_limit",
            "retry_backoff",
            "max_redirects",
            "failure_backoff",
            "max_retry_after",
            "max_crawl_delay",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"fetch.{name} must be >= 0, got {getattr(self, name)!r}")
        if not self.user_agent.strip():
            raise ConfigError("fetch.user_agent must not be empty")
        if isinstance(self.allow_private, str):
            raise ConfigError("fetch.allow_private must be a list of hosts or CIDRs")
        # YAML gives lists; keep the frozen settings hashable and truly immutable.
        object.__setattr__(self, "allow_private", tuple(self.allow_private))
        for entry in self.allow_private:
            _check_allow_entry(entry)


def _check_allow_entry(entry: str) -> None:
    if not isinstance(entry, str) or not entry.strip():
        raise ConfigError(f"fetch.allow_private: bad entry {entry!r}")
    if "/" in entry:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise ConfigError(f"fetch.allow_private: bad CIDR {entry!r}: {exc}") from None
