"""Per-host memory of furniture: lines that recur across many pages of one host.

A line (or block, which renders as a line) seen on many different pages of one host is
site furniture (a footer, a newsletter box, a rail heading) even when no general rule
recognises it. The profile only keeps hashes of normalised lines with the number of
distinct pages each was seen on, is bounded in size, and is immutable: ``learn_profile``
returns a new one, which the store persists so it improves across runs.

Guard: the same page learned twice (a re-run) must not count twice, or an article's own
lines would become "furniture"; so the profile remembers a bounded set of page hashes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from wiredesk.core.records import RawPage

from .decoding import decode_page
from .text import line_key

PROFILE_VERSION = 1
MAX_LINES = 4000  # line hashes kept per host: enough for any site's furniture
MAX_SEEN = 2000  # page hashes kept to recognise re-learned pages
_MIN_KEY_CHARS = 3  # "|" or "1" recur everywhere and say nothing


def line_hash(key: str) -> str:
    return hashlib.blake2b(key.encode("utf-8"), digest_size=8).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class HostProfile:
    host: str
    pages: int = 0  # distinct pages learned
    # line hash -> (pages it was seen on, learn sequence when last seen)
    lines: Mapping[str, tuple[int, int]] = field(default_factory=lambda: MappingProxyType({}))
    seen: tuple[str, ...] = ()  # hashes of the most recently learned pages, oldest first

    def count(self, key: str) -> int:
        entry = self.lines.get(line_hash(key))
        return entry[0] if entry else 0

    def knows(self, key: str, *, min_pages: int = 3, min_share: float = 0.3) -> bool:
        """Is this normalised line furniture on this host?"""
        if len(key) < _MIN_KEY_CHARS or self.pages < min_pages:
            return False
        n = self.count(key)
        return n >= min_pages and n >= min_share * self.pages

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": PROFILE_VERSION,
                "host": self.host,
                "pages": self.pages,
                "lines": {h: list(v) for h, v in self.lines.items()},
                "seen": list(self.seen),
            },
            separators=(",", ":"),
            sort_keys=True,
        )

    def __reduce__(self) -> tuple:
        # MappingProxyType does not pickle; process-pool workers receive profiles pickled.
        return (HostProfile.from_json, (self.to_json(),))

    @classmethod
    def from_json(cls, s: str) -> HostProfile:
        d = json.loads(s)
        if d.get("version") != PROFILE_VERSION:
            # An older format is not worth migrating: furniture is relearned in a few pages.
            return cls(host=str(d.get("host", "")))
        return cls(
            host=d["host"],
            pages=int(d["pages"]),
            lines=MappingProxyType({h: (int(v[0]), int(v[1])) for h, v in d["lines"].items()}),
            seen=tuple(d["seen"]),
        )


def page_lines(page: RawPage) -> list[str]:
    """The visible lines of a page (text pages: as is; HTML: rendered one block per line)."""
    text = decode_page(page.body, kind=page.kind, header_encoding=page.encoding)
    if page.kind == "html":
        from .html import html_to_lines, parse_html

        tree = parse_html(text)
        if tree is None:
            return []
        text = html_to_lines(tree)
    return text.splitlines()


def learn_lines(profile: HostProfile | None, host: str, pages_lines: Iterable[Sequence[str]]) -> HostProfile:
    """A new profile updated with the given pages (each page: its visible lines)."""
    lines = dict(profile.lines) if profile else {}
    seen = list(profile.seen) if profile else []
    seen_set = set(seen)
    pages = profile.pages if profile else 0
    for plines in pages_lines:
        keys = {k for k in (line_key(ln) for ln in plines) if len(k) >= _MIN_KEY_CHARS}
        if not keys:
            continue
        page_hash = hashlib.blake2b("\n".join(sorted(keys)).encode(), digest_size=8).hexdigest()
        if page_hash in seen_set:
            continue  # the same page again: counting it twice would fake recurrence
        seen.append(page_hash)
        seen_set.add(page_hash)
        pages += 1
        for k in keys:
            h = line_hash(k)
            count, _ = lines.get(h, (0, 0))
            lines[h] = (count + 1, pages)
    if len(lines) > MAX_LINES:
        # Keep the lines seen on most pages, recent ones first among equals: furniture
        # recurs, so it survives; one-off article lines are what gets pruned.
        ranked = sorted(lines.items(), key=lambda kv: (kv[1][0], kv[1][1]), reverse=True)
        lines = dict(ranked[:MAX_LINES])
    seen = seen[-MAX_SEEN:]
    return HostProfile(host=host, pages=pages, lines=MappingProxyType(lines), seen=tuple(seen))


def pages_lines(pages: Sequence[RawPage]) -> list[list[str]]:
    """Each page's visible lines; pages that cannot be decoded are skipped (their failure
    is reported by extraction)."""
    out = []
    for page in pages:
        try:
            out.append(page_lines(page))
        except Exception:
            continue
    return out


def learn_profile(profile: HostProfile | None, host: str, pages: Sequence[RawPage]) -> HostProfile:
    """Return a NEW profile for ``host`` updated with these pages' lines."""
    return learn_lines(profile if profile and profile.host == host else None, host, pages_lines(pages))


def merge_learned(stored: str | None, host: str, lines: Sequence[Sequence[str]]) -> str:
    """The stored profile (JSON, or None) with these pages' lines added, as JSON.

    Meant to run inside the store's read-merge-write transaction (``Store.update_profiles``),
    so that concurrent batches of one host add to each other's counts instead of the last
    save replacing them; the lines themselves are computed before, outside the transaction.
    """
    profile = HostProfile.from_json(stored) if stored else None
    return learn_lines(profile if profile and profile.host == host else None, host, lines).to_json()
