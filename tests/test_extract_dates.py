"""Published dates: ISO 8601 from the page's metadata; a bare copyright year is not a date."""

from __future__ import annotations

from wiredesk.core.records import RawPage
from wiredesk.extractors import extract_page

BODY = "".join(
    f"<p>Paragraph {i} of a story long enough to be an article, with words that carry it along.</p>" for i in range(8)
)


def _page(head: str, foot: str = "") -> RawPage:
    html = f"<html lang='en'><head>{head}</head><body><article><h1>A story</h1>{BODY}</article>{foot}</body></html>"
    return RawPage(source="t", body=html.encode(), kind="html")


def test_meta_date_is_iso() -> None:
    got = extract_page(_page("<meta property='article:published_time' content='2023-07-10T08:30:00+02:00'>"))
    assert got.published is not None and got.published.startswith("2023-07-10")


def test_copyright_year_is_not_a_publication_date() -> None:
    got = extract_page(_page("", "<footer><p>Copyright 2026 Example Gazette. All rights reserved.</p></footer>"))
    assert got.published is None


def test_a_story_dated_1_january_keeps_its_date() -> None:
    # Only in the text: the extensive search finds it, and it is a real date, not a bare year.
    for line in (
        "<p class='dateline'>Published January 1, 2026</p>",
        "<p>1 January 2026 — by Staff</p>",
        "<p>Stand: 01.01.2026</p>",
    ):
        got = extract_page(_page("", line + "<footer><p>Copyright 2026 Example Gazette.</p></footer>"))
        assert got.published is not None and got.published.startswith("2026-01-01"), line


def test_a_1_january_date_in_metadata_is_kept() -> None:
    got = extract_page(_page("<meta property='article:published_time' content='2025-01-01T09:00:00Z'>"))
    assert got.published is not None and got.published.startswith("2025-01-01")


def test_states_new_year_needs_the_day() -> None:
    from wiredesk.extractors.metadata import states_new_year

    assert states_new_year("Posted on Jan. 1, 2026 at noon", None, 2026)
    assert states_new_year("", "https://x.example/2026/01/01/story", 2026)
    assert not states_new_year("Copyright 2026 Example. 11 January 2026", None, 2026)
    assert not states_new_year("January 2026 archive", None, 2026)
    assert not states_new_year("1 January 2025", None, 2026)


def _whole_text_answer(text: str, url: str | None, year: int) -> bool:
    """states_new_year as first written: both patterns over the whole text."""
    from wiredesk.extractors.metadata import new_year_patterns

    numeric, named = new_year_patterns(year)
    return any(numeric.search(s) or named.search(s) for s in (text, url or ""))


def test_states_new_year_near_the_year_is_the_whole_text_search() -> None:
    """The search around each occurrence of the year gives the whole-text answer: random
    texts of date pieces, digits glued on either side, long whitespace runs (a date's
    parts may be far apart), several years, the year at the very start and end."""
    import random

    from wiredesk.extractors.metadata import states_new_year

    pieces = [
        "1", "01", "1st", "1er", "1.", "1º", "0", "11", "2", "of", "de", ",", ".", "-", "/", "_", "Jan", "jan.",
        "January", "JANUARY", "janvier", "Januar", "enero", "stycznia", "января", "ιανουαρίου", "Feb", "2026",
        "20260101", "2025", "12026", "20261", "x", "Posted", "on", "©",
    ]  # fmt: skip
    gaps = ["", " ", "  ", "\n", "\t \n", " " * 300, "\u00a0", "\u3000 "]
    rng = random.Random(7)
    found = 0
    for _ in range(6000):
        text = "".join(rng.choice(pieces) + rng.choice(gaps) for _ in range(rng.randint(1, 14)))
        url = rng.choice([None, "https://x.example/2026/01/01/a", "https://x.example/2026-1-1", "https://x.example/p"])
        year = rng.choice([2026, 2026, 2025])
        want = _whole_text_answer(text, url, year)
        assert states_new_year(text, url, year) == want, (text, url, year)
        found += want
    assert 300 < found < 5700, "both answers well represented"
