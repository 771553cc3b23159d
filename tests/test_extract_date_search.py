"""htmldate's page-source search with its year filter the short way (extractors/date_search.py):
the same ``findall`` lists, the same ``find_date`` answers, and htmldate itself left as shipped."""

from __future__ import annotations

import random
import re

import htmldate.core as htmldate_core
import pytest
from htmldate import find_date as shipped_find_date
from lxml import html as lxml_html

from wiredesk.extractors import date_search
from wiredesk.extractors.date_search import NONDIGIT_THEN_DIGIT, findall_nondigit_then_digit

PATTERNS = [
    value
    for value in vars(htmldate_core).values()
    if isinstance(value, re.Pattern) and value.pattern in NONDIGIT_THEN_DIGIT
]

TARGETED = [
    "",
    "2020-01-01",
    " 2020-01-01 ",
    "x2020-01-01x2021-02-02x",
    " 1.1.2020 2.2.2021 3/3/2022 ",  # one separator between dates: findall's consumption shows
    "a12/03/2019b 12/03/2019 12/03/19 03.04.19 ",
    "\u0663" + "2020-01-01 ",  # an Arabic-Indic digit is no \\D
    "w3.org/2001 w3.org 2001 (c) 2001, 1999, 2039 2040",
    "20200101 120200101x 19991231 ",
    "2019-12 2019/13 12-2019 1/2019 x11-1999y",
    "12345678901234567890 2021-05-06 ",
    "\n2021.05.06\n06.05.2021\n",
]


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.pattern[:40])
def test_findall_the_short_way_is_findall(pattern: re.Pattern[str]) -> None:
    rest = NONDIGIT_THEN_DIGIT[pattern.pattern]
    rng = random.Random(pattern.pattern)

    def digits(n: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(n))

    def token() -> str:
        if rng.random() < 0.3:  # date-like: two or three digit groups joined by one separator
            sep = rng.choice("/.-")
            return sep.join(digits(rng.randint(1, 4)) for _ in range(rng.randint(2, 3)))
        if rng.random() < 0.5:  # a run of digits, often year-, month- or day-like
            return rng.choice(["19", "20", "0", "1", "2", "3", ""]) + digits(rng.randint(0, 6))
        return rng.choice(["/", ".", "-", " ", "x", "_", ":", "\u0663", "w3.org", "\n"])

    strings = TARGETED + ["".join(token() for _ in range(rng.randint(1, 25))) for _ in range(4000)]
    for s in strings:
        assert findall_nondigit_then_digit(pattern, rest, s) == pattern.findall(s), s


def test_every_listed_pattern_is_htmldates() -> None:
    # a htmldate upgrade that rewrites one leaves it off the short way; this shows it
    assert {p.pattern for p in PATTERNS} == set(NONDIGIT_THEN_DIGIT)
    assert all(p.flags == re.UNICODE for p in PATTERNS)


PAGES = [
    "<html><body><div><p>Filed 12/03/2019 by the desk.</p><p>Earlier copy 11/02/2018</p></div></body></html>",
    "<html><body><p>Archive 2019/04 and 05-2017 and 201805</p><footer>&copy; 2015-2021</footer></body></html>",
    "<html><body><p>w3.org/1999 and nothing else, 2021 only</p></body></html>",
    "<html><body><span>31.12.2017</span> <span>1.1.2020 2.2.2021</span></body></html>",
    "<html><body><p>Stand 20190312 am Abend, 3/4/19</p></body></html>",
]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("extensive", [False, True])
def test_find_date_answers_as_htmldates(page: str, extensive: bool) -> None:
    for original in (False, True):
        ours = date_search.find_date(lxml_html.fromstring(page), extensive_search=extensive, original_date=original)
        theirs = shipped_find_date(lxml_html.fromstring(page), extensive_search=extensive, original_date=original)
        assert ours == theirs


def test_htmldate_itself_is_left_as_shipped() -> None:
    assert htmldate_core.plausible_year_filter is date_search._plain_filter
    assert date_search.find_date is not htmldate_core.find_date
    assert date_search.find_date.__code__ is htmldate_core.find_date.__code__
