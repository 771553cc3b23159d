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
