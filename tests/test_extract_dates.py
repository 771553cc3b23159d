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
