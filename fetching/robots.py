"""robots.txt rules, parsed by protego (scrapy's parser): per-agent groups, longest match,
Allow over Disallow on ties, ``*`` and ``$`` wildcards, Crawl-delay and Sitemap.

Parsing only; fetching and caching per host live in the engine (it needs the shared
client, the SSRF guard and the politeness gates). Rules are matched against the URL as it
is sent, never against its canonical form: ``Disallow: /members/`` must not match
``/members`` and must match ``/members/``, exactly as the server sees the request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from protego import Protego

MAX_ROBOTS_BYTES = 500 * 1024  # RFC 9309: parse at least 500 KiB, may ignore the rest
# "User-agent: WireDesk/0.1 (+https://...)": RFC 9309 matches the product token only.
_AGENT_LINE = re.compile(r"^(\s*user-?agent\s*:\s*)([A-Za-z_-]+)[^\s#]*[^#\n]*", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True, slots=True)
class RobotsRules:
    """The rules of one host for one agent. ``text`` is what was parsed (kept so a cache
    can store it); ``disallow_all`` stands for an unreachable robots.txt."""

    text: str = ""
    agent: str = "*"
    disallow_all: bool = False  # robots.txt unreachable (5xx, network): assume full disallow
    _parser: Protego | None = field(default=None, repr=False, compare=False)

    def allowed(self, url: str) -> bool:
        if self.disallow_all:
            return False
        if self._parser is None:
            return True
        return bool(self._parser.can_fetch(url, self.agent))

    @property
    def crawl_delay(self) -> float | None:
        if self._parser is None:
            return None
        delay = self._parser.crawl_delay(self.agent)
        return float(delay) if delay is not None and delay >= 0 else None

    @property
    def sitemaps(self) -> tuple[str, ...]:
        if self._parser is None:
            return ()
        return tuple(dict.fromkeys(self._parser.sitemaps))


ALLOW_ALL = RobotsRules()
DISALLOW_ALL = RobotsRules(disallow_all=True)


def parse_robots(text: str, agent: str) -> RobotsRules:
    """Rules of ``text`` that apply to the product token ``agent`` (e.g. ``wiredesk``)."""
    text = text[:MAX_ROBOTS_BYTES]
    if not text.strip():
        return RobotsRules(text=text, agent=agent.lower())
    # protego keeps "wiredesk/0.1" and "wiredesk" apart and picks one of them; as product
    # tokens they are one agent, and RFC 9309 2.2.1 merges the groups of one agent.
    tokens_only = _AGENT_LINE.sub(lambda m: m.group(1) + m.group(2), text)
    return RobotsRules(text=text, agent=agent.lower(), _parser=Protego.parse(tokens_only))
