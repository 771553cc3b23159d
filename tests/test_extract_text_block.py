"""The plain-text cleaner's block rules (extractors/text.py): what a page of text shows
around and inside an article, on pages written for these tests."""

from __future__ import annotations

import pytest

from wiredesk.extractors import text as text_mod
from wiredesk.extractors.text import clean_lines

MENU = ["Home", "World", "Politics", "Business", "Science", "Sport", "Opinion"]
STORY = [
    "The regional water board said on Monday that the reservoir had fallen to its lowest level in thirty years.",
    "Farmers in the valley have been asked to cut their use by a fifth until the autumn rains arrive, officials said.",
    "Engineers are inspecting the old canal network, which loses a large share of its water through leaks and cracks.",
    "The board expects to publish a plan for new storage basins before the end of the year, after a public hearing.",
    "Residents can follow the daily readings on the board's website, where the figures are updated every morning.",
]
FOOTER = ["About us", "Contact", "Privacy policy", "© 2024 Valley Courier"]


def _page(*parts: list[str]) -> str:
    return "\n\n".join(line for part in parts for line in part) + "\n"


def _kept(*parts: list[str]) -> tuple[str, ...]:
    return clean_lines(_page(*parts)).lines


def test_plain_article_is_kept_whole() -> None:
    assert _kept(MENU, STORY, FOOTER) == tuple(STORY)


def test_headline_byline_and_date_above_the_first_paragraph_are_not_body() -> None:
    # a headline long enough to score as text, and a date line glued to a reading time
    head = ["Reservoir falls to its lowest level in thirty years after a dry summer", "Nov 18, 2019 • 2 min read"]
    assert _kept(MENU, head, STORY, FOOTER) == tuple(STORY)
    assert _kept(MENU, head[:1], STORY, FOOTER) == tuple(STORY)


def test_sentence_case_standfirst_stays() -> None:
    # a standfirst without a full stop is the story's own (the seed pages label it content)
    dek = ["The first cuts in thirty years come amid warnings that the dry spell could last into next spring"]
    kept = _kept(MENU, ["Reservoir at record low"], dek, STORY, FOOTER)
    assert kept[0] == dek[0] and kept[1:] == tuple(STORY)


def test_caption_with_its_credit_is_dropped_inside_the_story() -> None:
    captions = [
        "The dam at the northern end of the reservoir, photographed last week.Credit...Jane Roe/The Valley Courier",
        "A farmer inspects a dry irrigation ditch near the village on Sunday. Getty",
        "The reservoir's shoreline has retreated by several metres since June. (Photo by John Doe/Agency)",
    ]
    kept = _kept(MENU, STORY[:2], captions, STORY[2:], FOOTER)
    assert kept == tuple(STORY)


def test_sentences_ending_in_a_name_are_not_captions() -> None:
    # an abbreviation before a Title Case run is no sentence end: "U.S. Geological Survey"
    line = "The readings were checked against data published this week by the U.S. Geological Survey."
    kept = _kept(MENU, STORY[:2], [line], STORY[2:], FOOTER)
    assert line in kept


def test_rail_of_headline_and_summary_pairs_after_the_story_is_cut() -> None:
    rail = []
    for k in range(4):
        rail += [
            f"Council approves new cycle lanes in the old town district {k}",
            f"The plan adds twelve kilometres of lanes over three years, part {k}.",
        ]
    assert _kept(MENU, STORY, ["More from the Courier"], rail, FOOTER) == tuple(STORY)


def test_headlines_under_a_related_header_inside_the_story_are_dropped() -> None:
    related = [
        "Related",
        "Drought forces ski resort to close early this season",
        "Why the valley's wells are running dry",
    ]
    kept = _kept(MENU, STORY[:3], related, STORY[3:], FOOTER)
    assert kept == tuple(STORY)


def test_closing_bio_and_about_heading_are_cut() -> None:
    assert _kept(MENU, STORY, ["Maria Lopez is a reporter for the Valley Courier."], FOOTER) == tuple(STORY)
    bio = ["About Maria Lopez", "Maria Lopez has covered the valley's farms and rivers since 2015."]
    assert _kept(MENU, STORY, bio, FOOTER) == tuple(STORY)


def test_a_closing_paragraph_about_a_person_stays() -> None:
    last = "Lopez is the board's chief engineer and will present the plan at the hearing."
    assert _kept(MENU, STORY, [last], FOOTER) == (*STORY, last)


def test_newsletter_affiliate_and_share_lines_inside_the_story_are_dropped() -> None:
    inside = [
        "Want more stories like this? Join the Valley Courier newsletter.",
        "If you buy something through our links, we may earn a small commission.",
        "Share on FacebookShare on TwitterShare via Email",
    ]
    assert _kept(MENU, STORY[:2], inside, STORY[2:], FOOTER) == tuple(STORY)


def test_thoughts_on_opens_the_comment_section() -> None:
    comments = [
        "3 thoughts on “Reservoir falls to its lowest level in thirty years”",
        "1. Peter",
        "We have been saving water at home for months now and the garden shows it, but it is worth it.",
        "2. Anna",
        "The canal leaks have been known for decades; it is good that somebody finally looks at them properly.",
    ]
    assert _kept(MENU, STORY, comments, FOOTER) == tuple(STORY)


@pytest.mark.parametrize(
    "switch",
    ["HEAD_TRIM", "CAPTION_TAIL", "TEASER_PAIRS", "BIO_TAIL", "THOUGHTS_ON", "RAIL_ITEMS", "PROMO", "SHARE_GLUE"],
)
def test_each_switch_turns_its_rule_off(monkeypatch: pytest.MonkeyPatch, switch: str) -> None:
    """The switches bench/textpages_cv.py cross-validates change what they say they do:
    with the rule off, its page keeps (at least) one line more."""
    pages = {
        "HEAD_TRIM": _page(
            MENU, ["Reservoir falls to its lowest level in thirty years after a dry summer"], STORY, FOOTER
        ),
        "CAPTION_TAIL": _page(
            MENU, STORY[:2], ["A farmer inspects a dry ditch near the village on Sunday. Getty"], STORY[2:]
        ),
        "TEASER_PAIRS": _page(
            MENU,
            STORY,
            [
                f"Council approves new cycle lanes in district {k}\n\nThe plan adds twelve kilometres of lanes, part {k}."
                for k in range(4)
            ],
            FOOTER,
        ),
        "BIO_TAIL": _page(MENU, STORY, ["Maria Lopez is a reporter for the Valley Courier."], FOOTER),
        "THOUGHTS_ON": _page(
            MENU,
            STORY,
            ["2 thoughts on “Reservoir”", "We have been saving water at home for months now and the garden shows it."],
        ),
        "RAIL_ITEMS": _page(MENU, STORY[:3], ["Related", "Drought forces ski resort to close early"], STORY[3:]),
        "PROMO": _page(
            MENU, STORY[:2], ["Want more stories like this? Join the Valley Courier newsletter."], STORY[2:]
        ),
        "SHARE_GLUE": _page(MENU, STORY[:2], ["Share on FacebookShare on TwitterShare via Email"], STORY[2:]),
    }
    on = clean_lines(pages[switch]).lines
    monkeypatch.setattr(text_mod, switch, False)
    off = clean_lines(pages[switch]).lines
    assert set(on) < set(off)
    assert set(STORY) <= set(on)


# A list that closes a story, one row per line with the same separators (as a table or
# a list of dates renders as text).
TOUR = [
    "March 3 – Springfield, IL @ Civic Arena",
    "March 5 – Peoria, IL @ Riverfront Hall (new date)",
    "March 8 – Madison, WI @ Lakeside Pavilion",
    "March 9 – Duluth, MN @ Harbor Center",
    "March 12 – Fargo, ND @ Prairie Stage",
    "March 14 – Sioux Falls, SD @ Grand Hall",
]
MORE = [
    "Board members said the storage basins would be paid for by the state and two neighbouring counties.",
    "A vote on the plan is expected in the spring, once the engineers have finished their survey of the canals.",
]


def test_rows_of_a_list_closing_the_story_are_kept() -> None:
    kept = _kept(MENU, STORY, ["The board's public hearings"], TOUR, FOOTER)
    assert kept == (*STORY, "The board's public hearings", *TOUR)
    # rows with different separators line after line are no such list (a menu, a rail)
    mixed = ["Home | News", "Sport: results", "Weather (live)", "Jobs – board", "Cars / Bikes", "Shop @ home"]
    assert _kept(MENU, STORY, mixed, FOOTER) == tuple(STORY)


def test_rows_away_from_the_story_are_not_lifted() -> None:
    # the same rows after the footer (a sidebar's listing) do not join the story
    assert _kept(MENU, STORY, FOOTER, TOUR) == tuple(STORY)
    # nor do too few rows
    assert _kept(MENU, STORY, ["The board's public hearings"], TOUR[:3], FOOTER) == tuple(STORY)


RELATED_BOX = ["Related Stories", "Ski Resort Closes Early", "Why Valley Wells Run Dry", "Canal Repairs Begin"]


def test_story_goes_on_after_a_related_box() -> None:
    kept = _kept(MENU, STORY, RELATED_BOX, MORE, FOOTER)
    assert kept == (*STORY, *MORE)


def test_one_summary_after_a_related_header_is_still_a_rail() -> None:
    # a teaser's single summary sentence after the rail header does not resume the story
    rail = [
        "Related Stories",
        "Drought forces ski resort to close early",
        "The resort on the northern slope said it would close three weeks early this season.",
        "Why the valley's wells are running dry",
    ]
    assert _kept(MENU, STORY, rail, FOOTER) == tuple(STORY)


@pytest.mark.parametrize("switch", ["LIST_ROWS", "RAIL_RESUME"])
def test_each_lifting_switch_turns_its_rule_off(monkeypatch: pytest.MonkeyPatch, switch: str) -> None:
    """The rules that keep more lines: with the rule off, its page keeps fewer."""
    pages = {
        "LIST_ROWS": _page(MENU, STORY, ["The board's public hearings"], TOUR, FOOTER),
        "RAIL_RESUME": _page(MENU, STORY, RELATED_BOX, MORE, FOOTER),
    }
    on = clean_lines(pages[switch]).lines
    monkeypatch.setattr(text_mod, switch, False)
    off = clean_lines(pages[switch]).lines
    assert set(off) < set(on)
    assert set(STORY) <= set(off)
