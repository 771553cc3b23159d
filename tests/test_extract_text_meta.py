"""Metadata of plain-text pages (issue 14, class 6): title, byline and date lines."""

from __future__ import annotations

from wiredesk.core.records import RawPage
from wiredesk.extractors import extract_page
from wiredesk.extractors.text_meta import parse_date, text_metadata

STORY = [
    "The harbour authority said on Tuesday that the old pier would close for repairs until the spring.",
    "Engineers found cracks in three of the supporting columns during a routine inspection last month.",
    "Fishing boats that use the pier will be moved to the northern quay, which was dredged in August.",
    "Local traders worry that the closure will keep summer visitors away from the market square.",
]
MENU = ["Home", "News", "Sport", "Weather", "Subscribe", "Most read: Council approves new bus lanes"]


def _page(*head: str) -> str:
    return "\n\n".join([*MENU, *head, *STORY, "Share this article", "© 2019 Harbour Times"])


def test_title_byline_and_date_above_the_story() -> None:
    text = _page("Old pier to close for repairs until spring", "By Jane Doe", "Published November 19, 2019")
    out = extract_page(RawPage(source="t", body=text.encode(), kind="text"))
    assert out.title == "Old pier to close for repairs until spring"
    assert out.author == "Jane Doe"
    assert out.published == "2019-11-19"
    assert STORY[0] in out.text


def test_name_then_date_byline_and_other_languages() -> None:
    meta = text_metadata(_page("Alter Pier wird bis zum Frühjahr gesperrt", "Von Max Muster | 19.11.2019"), STORY)
    assert (meta.title, meta.author, meta.published) == (
        "Alter Pier wird bis zum Frühjahr gesperrt",
        "Max Muster",
        "2019-11-19",
    )
    meta = text_metadata(_page("Old pier to close", "Chris Davies - Nov 19, 2019, 8:15 pm CST"), STORY)
    assert meta.author == "Chris Davies" and meta.published == "2019-11-19"


def test_url_slug_picks_the_headline_among_headings() -> None:
    text = _page("Old pier to close for repairs until spring", "Key Points", "Photos from the inspection")
    meta = text_metadata(text, STORY, "https://example.org/news/old-pier-to-close-for-repairs")
    assert meta.title == "Old pier to close for repairs until spring"


def test_no_story_found_gives_the_first_heading_and_no_byline() -> None:
    meta = text_metadata("Weather warning for the coast tonight\n\nBy Jane Doe", [])
    assert meta.title == "Weather warning for the coast tonight" and meta.author is None


def test_relative_and_unreadable_dates_stay_empty() -> None:
    assert parse_date("Updated 3 hours ago") is None
    assert parse_date("Published: 2019-11-19") == "2019-11-19"
    assert parse_date("sometime soon") is None


def test_split_lower_case_and_prefixed_bylines() -> None:
    meta = text_metadata(_page("Alter Pier wird gesperrt", "Von", "Max Muster", "19.11.2019, 12:00 Uhr"), STORY)
    assert meta.author == "Max Muster"
    meta = text_metadata(_page("Alter Pier wird gesperrt", "von Erika Beispiel Erstellt am 19.11.2019"), STORY)
    assert meta.author == "Erika Beispiel" and meta.published == "2019-11-19"
    meta = text_metadata(_page("Alter Pier wird gesperrt", "Text von Hans Muster Illustration von Eva Roth"), STORY)
    assert meta.author == "Hans Muster"
    meta = text_metadata(_page("Old pier to close", "ByJane Doe", "Eric Levitz@EricLevitz"), STORY)
    assert meta.author == "Jane Doe"
    # a bare name-shaped line is no byline: it is as often a heading
    meta = text_metadata(_page("Old pier to close", "Harbour Travel Guide", "November 19, 2019"), STORY)
    assert meta.author is None


def test_breadcrumbs_dates_and_bylines_are_not_the_title() -> None:
    meta = text_metadata(_page("Home » News » Harbour » Old pier to close for repairs"), STORY)
    assert meta.title == "Old pier to close for repairs"
    meta = text_metadata(_page("Old pier to close for repairs", "Datum: 18.10.2021"), STORY)
    assert meta.title == "Old pier to close for repairs" and meta.published == "2021-10-18"
    meta = text_metadata(
        _page("Old pier to close for repairs", "By Jane Doe And John Roe For The Harbour Times"), STORY
    )
    assert meta.title == "Old pier to close for repairs"


def test_short_lines_with_a_date_give_the_date_long_ones_do_not() -> None:
    meta = text_metadata(_page("Old pier to close", "Bonn, 11.10.2021"), STORY)
    assert meta.published == "2021-10-11"
    long = "The pier was last repaired on 11.10.2001, when a storm tore away the western railings and two benches."
    meta = text_metadata(_page("Old pier to close", long), STORY)
    assert meta.published is None


def test_lead_after_a_date_or_a_posting_verb_and_a_name_after_a_date() -> None:
    meta = text_metadata(_page("Old pier to close", "Posted 11. April 2018 by Walter von Aachen"), STORY)
    assert meta.author == "Walter von Aachen"
    meta = text_metadata(_page("Alter Pier wird gesperrt", "8. Januar 2020 · by Erika Beispiel · in Hafen"), STORY)
    assert meta.author == "Erika Beispiel"
    meta = text_metadata(_page("Alter Pier wird gesperrt", "Geschrieben von Max Muster am 25.08.2015"), STORY)
    assert meta.author == "Max Muster"
    meta = text_metadata(_page("Alter Pier wird gesperrt", "26. September 2019 Ulrike Beispiel Kommentar"), STORY)
    assert meta.author == "Ulrike Beispiel"
    meta = text_metadata(_page("Alter Pier wird gesperrt", "1. Februar 2022 , Daniel Muster"), STORY)
    assert meta.author == "Daniel Muster"
    # a "by" with no date or posting verb before it is part of a headline, not a byline
    meta = text_metadata(_page("Old pier closed by Harbour Authority"), STORY)
    assert meta.author is None
    # a date followed by words that are no name
    meta = text_metadata(_page("Old pier to close", "November 19, 2019 in local news"), STORY)
    assert meta.author is None


def test_explicit_byline_far_above_the_story() -> None:
    # a headline, a standfirst, a photo and its caption, a share bar: the byline is 12 lines up
    between = [f"Share button {k}" for k in range(11)]
    meta = text_metadata(_page("Old pier to close", "By Rob Harbour, Harbour Times", *between), STORY)
    assert meta.author == "Rob Harbour"
    # a bare name that far up is a sidebar's, not the byline
    meta = text_metadata(_page("Old pier to close", "Rob Harbour", *between), STORY)
    assert meta.author is None
