"""robots.txt per RFC 9309: groups by user agent, longest match wins, Allow wins ties,
``*`` and ``$`` wildcards; plus the common extensions Crawl-delay and Sitemap.

Parsing only; fetching and caching per host live in the fetcher (it needs the shared
client, the SSRF guard and the politeness gates).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

MAX_ROBOTS_BYTES = 500 * 1024  # RFC 9309: parse at least 500 KiB, may ignore the rest


@dataclass(frozen=True, slots=True)
class _Rule:
    allow: bool
    path: str
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class RobotsRules:
    rules: tuple[_Rule, ...] = ()
    crawl_delay: float | None = None
    sitemaps: tuple[str, ...] = ()
    disallow_all: bool = False  # robots.txt unreachable (5xx, network): assume full disallow

    def allowed(self, url: str) -> bool:
        if self.disallow_all:
            return False
        parts = urlsplit(url)
        target = _normalise(parts.path or "/")
        if parts.query:
            target += "?" + _normalise(parts.query)
        if target == "/robots.txt":
            return True
        best: _Rule | None = None
        for rule in self.rules:
            if rule.pattern.match(target):
                if (
                    best is None
                    or len(rule.path) > len(best.path)
                    or (len(rule.path) == len(best.path) and rule.allow and not best.allow)
                ):
                    best = rule
        return best is None or best.allow


ALLOW_ALL = RobotsRules()
DISALLOW_ALL = RobotsRules(disallow_all=True)


@dataclass(slots=True)
class _Group:
    agents: list[str] = field(default_factory=list)
    rules: list[_Rule] = field(default_factory=list)
    crawl_delay: float | None = None


def parse_robots(text: str, agent: str) -> RobotsRules:
    """Rules of ``text`` that apply to the product token ``agent`` (e.g. ``wiredesk``)."""
    agent = agent.lower()
    groups: list[_Group] = []
    sitemaps: list[str] = []
    current: _Group | None = None
    in_agents = False  # consecutive user-agent lines share one group
    for raw in text[:MAX_ROBOTS_BYTES].splitlines():
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, value = (part.strip() for part in line.split(":", 1))
        key = key.lower()
        if key in ("user-agent", "useragent"):
            if current is None or not in_agents:
                current = _Group()
                groups.append(current)
            current.agents.append(value.lower())
            in_agents = True
            continue
        if key == "sitemap":
            if value:
                sitemaps.append(value)
            continue
        in_agents = False
        if current is None:
            continue
        if key in ("allow", "disallow"):
            if not value:
                continue  # "Disallow:" with no path allows everything
            current.rules.append(_Rule(key == "allow", value, _compile(value)))
        elif key == "crawl-delay":
            try:
                delay = float(value)
            except ValueError:
                continue
            if delay >= 0:
                current.crawl_delay = delay
    chosen = [g for g in groups if any(_agent_matches(a, agent) for a in g.agents)]
    if not chosen:
        chosen = [g for g in groups if "*" in g.agents]
    # RFC 9309 2.2.1: several groups for the same agent are merged.
    rules = tuple(rule for g in chosen for rule in g.rules)
    delays = [g.crawl_delay for g in chosen if g.crawl_delay is not None]
    return RobotsRules(
        rules=rules, crawl_delay=max(delays) if delays else None, sitemaps=tuple(dict.fromkeys(sitemaps))
    )


def _agent_matches(line_agent: str, agent: str) -> bool:
    if line_agent == "*":
        return False
    token = line_agent.split("/", 1)[0].strip()
    return token == agent


def _normalise(text: str) -> str:
    # Compare in one escaping: decode, then encode everything but the URL syntax characters.
    return quote(unquote(text), safe="/?=&;:@!$'()*+,-._~%")


def _compile(path: str) -> re.Pattern[str]:
    anchored = path.endswith("$")
    if anchored:
        path = path[:-1]
    body = ".*".join(re.escape(_normalise(piece)) for piece in path.split("*"))
    return re.compile(body + ("$" if anchored else ""))
