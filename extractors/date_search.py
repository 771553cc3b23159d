"""htmldate's ``find_date`` with the year filter of its page-source search made cheaper, with
the same answer.

The extensive search's last step (``search_page``) runs a dozen date patterns over the whole
serialised page with ``findall``. Most of them begin with ``\\D`` (any non-digit), so the
regular expression engine starts a match attempt at nearly every character of the page: about
a quarter of htmldate's own CPU time on first-seen pages (0.67 s of the 600 pages of
``bench/e2e.py``). Every match of those patterns begins with a character that is not an ASCII
digit followed by an ASCII digit, so a match can only start just before a run of ASCII digits:
``_findall`` tries the pattern there only (the runs found in C) and keeps ``findall``'s
left-to-right, non-overlapping order, so it returns the same list.

The property is read off each pattern's text; only the texts listed in ``NONDIGIT_THEN_DIGIT``
(htmldate 1.11's) take the short cut, any other pattern (a htmldate upgrade that changes one)
keeps its plain ``findall``. ``tests/test_extract_date_search.py`` compares both.

The library stays as shipped (as for trafilatura and readability, see traf_prune.py): the
functions of ``htmldate.core`` are copied with their globals pointing at the filter below, so
other code in the process gets htmldate unchanged.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable

from htmldate import core as _core

from .traf_prune import rebind

# The patterns (by text; flags re.UNICODE) every match of which begins with a character that is
# not an ASCII digit (``\D``; a lookbehind takes no character) followed by the rest of the match
# (group 1), and for each a pattern that matches wherever that rest does: it begins with an
# ASCII digit class, which the engine scans for in C, and allows a superset of the rest (the
# same digit and separator classes, optional digits made ``[0-9]``-wide).
NONDIGIT_THEN_DIGIT: dict[str, re.Pattern[str]] = {
    text: re.compile(rest)
    for text, rest in (
        # THREE_LOOSE_PATTERN
        (r"\D([0-9]{4}[/.-][0-9]{2}[/.-][0-9]{2})\D", r"[0-9]{4}[/.-][0-9]{2}[/.-][0-9]{2}\D"),
        # SELECT_YMD_PATTERN
        (r"\D([0-3]?[0-9][/.-][0-1]?[0-9][/.-][0-9]{4})\D", r"[0-9][0-9]?[/.-][0-9][0-9]?[/.-][0-9]{4}\D"),
        # DATESTRINGS_PATTERN
        (r"(\D19[0-9]{2}[01][0-9][0-3][0-9]\D|\D20[0-9]{2}[01][0-9][0-3][0-9]\D)", r"[12][09][0-9]{6}\D"),
        # SLASHES_PATTERN
        (
            r"\D([0-3]?[0-9]/[0-1]?[0-9]/[0129][0-9]|[0-3][0-9]\.[01][0-9]\.[0129][0-9])\D",
            r"[0-9][0-9]?[/.][0-9][0-9]?[/.][0-9]{2}\D",
        ),
        # YYYYMM_PATTERN
        (r"\D([12][0-9]{3}[/.-](?:1[0-2]|0[1-9]))\D", r"[12][0-9]{3}[/.-][01][0-9]\D"),
        # MMYYYY_PATTERN
        (r"\D([0-1]?[0-9][/.-][12][0-9]{3})\D", r"[0-9][0-9]?[/.-][12][0-9]{3}\D"),
        # SIMPLE_PATTERN
        (r"(?<!w3.org)\D((?:199[0-9]|20[0-3][0-9]))\D", r"[12][09][0-9]{2}\D"),
    )
}


def findall_nondigit_then_digit(pattern: re.Pattern[str], rest: re.Pattern[str], string: str) -> list:
    """``pattern.findall(string)`` for a pattern of ``NONDIGIT_THEN_DIGIT`` and its ``rest``.

    ``findall`` takes the leftmost match at or after the end of the previous one. A match at
    ``i`` has ``rest`` matching at ``i + 1``, so trying ``pattern`` one character before each
    place where ``rest`` matches, in order and past the previous match's end, finds the same
    matches (a place where ``pattern`` then fails is skipped; the places ``rest`` finds are
    all there are). ``match`` at a position sees the text before it, as ``search`` does, so
    lookbehinds answer alike. None of these patterns matches the empty string."""
    out: list = []
    end = 0
    match = pattern.match
    search = rest.search
    groups = pattern.groups
    found = search(string, 1)
    while found is not None:
        start = found.start() - 1
        m = match(string, start) if start >= end else None
        if m is None:
            found = search(string, start + 2)
            continue
        end = m.end()
        if groups == 0:
            out.append(m.group())
        elif groups == 1:
            out.append(m.group(1) or "")
        else:
            out.append(m.groups(""))
        found = search(string, end + 1)
    return out


class _Findall:
    """What ``plausible_year_filter`` asks of its pattern (``findall``), the short way."""

    __slots__ = ("_pattern", "_rest")

    def __init__(self, pattern: re.Pattern[str], rest: re.Pattern[str]) -> None:
        self._pattern = pattern
        self._rest = rest

    def findall(self, string: str) -> list:
        return findall_nondigit_then_digit(self._pattern, self._rest, string)


_plain_filter = _core.plausible_year_filter


def plausible_year_filter(htmlstring: str, *, pattern: re.Pattern[str], **kwargs):
    """htmldate's ``plausible_year_filter``, its ``findall`` the short way where that is exact."""
    rest = NONDIGIT_THEN_DIGIT.get(pattern.pattern) if pattern.flags == re.UNICODE else None
    if rest is not None:
        return _plain_filter(htmlstring, pattern=_Findall(pattern, rest), **kwargs)
    return _plain_filter(htmlstring, pattern=pattern, **kwargs)


def _private_core() -> dict:
    scope = dict(vars(_core))
    scope["plausible_year_filter"] = plausible_year_filter
    for name, fn in vars(_core).items():
        if isinstance(fn, types.FunctionType) and fn.__module__ == _core.__name__:
            scope[name] = rebind(fn, scope)
    return scope


find_date: Callable[..., str | None] = _private_core()["find_date"]
