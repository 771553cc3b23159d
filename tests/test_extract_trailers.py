"""What closes a story on news pages and is not the story (issue 14, ScrapingHub losses):
staff credits, membership pitches, reprint and share-widget lines, dates in Portuguese and
Spanish. Pages written for these tests."""

from __future__ import annotations

import lxml.html
import pytest

from wiredesk.core.records import RawPage
from wiredesk.extractors import chooser, extract_page
from wiredesk.extractors.furniture import furniture_kind

STORY = [
    "The harbour authority said on Tuesday that the old pier would close for repairs until the spring.",
    "Engineers found cracks in three of the supporting columns during a routine inspection last month.",
    "Fishing boats that use the pier will be moved to the northern quay, which was dredged in August.",
    "Local traders worry that the closure will keep summer visitors away from the market square.",
]


@pytest.mark.parametrize(
    "line",
    [
        "(Reporting by Jane Doe in Lisbon; Editing by John Roe)",
        "Reporting by Jane Doe; additional reporting by Max Muster and Ana Silva; Editing by John Roe",
        "Additional reporting by Ana Silva",
        "(Editing by John Roe)",
        "The Harbour Gazette’s Jane Doe contributed to this report.",
        "Staff writer Ana Silva contributed reporting.",
        "Write to Jane Doe at jane.doe@example.com",
        "If you enjoyed this article, we have an offer for you: join our members for unlimited access.",
        "This copy is for your personal, non-commercial use only. To order copies for your colleagues visit our site.",
        "Follow the Harbour Gazette’s opinion desk on Facebook, Twitter (@gazette) and Instagram.",
        "Follow our full coverage of the harbour works at https://example.com/harbour",
        "Order Reprints",
        "Print Article",
        "An error has occurred, please try again later.",
        "This article has been sent to",
        "segunda-feira, 22 de janeiro de 2018 às 0:13",
        "martes, 5 de marzo de 2019",
        "12 de setembro de 2019",
    ],
)
def test_trailer_lines_are_furniture(line: str) -> None:
    assert furniture_kind(line) is not None


@pytest.mark.parametrize(
    "line",
    [
        "The reporting by the Gazette showed that the harbour master had known about the cracks.",
        "Several engineers contributed to the delay by asking for a second inspection.",
        "He wrote to the board at the time, asking for the pier to be closed.",
        "If you enjoyed the old pier, the new one will please you too, the mayor said.",
        "A obra começou em 22 de janeiro de 2018 e deve terminar no próximo ano.",
        "Print runs of the local paper were cut after the closure.",
    ],
)
def test_story_lines_are_kept(line: str) -> None:
    assert furniture_kind(line) is None


def test_html_page_drops_staff_credits_and_pitches_after_the_story() -> None:
    trailer = [
        "(Reporting by Jane Doe in Lisbon; Editing by John Roe)",
        "Write to Jane Doe at jane.doe@example.com",
        "If you enjoyed this article, we have an offer for you: join our members for unlimited access.",
        "This copy is for your personal, non-commercial use only. To order copies for your colleagues visit our site.",
    ]
    paras = "".join(f"<p>{s}</p>" for s in STORY + trailer)
    html = (
        '<html lang="en"><head><title>Pier</title></head><body><ul><li>Order Reprints</li>'
        f"<li>Print Article</li></ul><article>{paras}</article></body></html>"
    )
    out = extract_page(RawPage(source="t", body=html.encode(), kind="html"))
    assert all(s in out.text for s in STORY)
    assert not any(t in out.text for t in trailer)
    assert "Reprints" not in out.text and "Print Article" not in out.text


RAIL = ["Harbour Week 2019 | The new ferry terminal opens its doors", "Harbour Week 2019 | A walk along the old quay"]
DATES = ["June 9 – West Quay, Harbour Town @ The Old Market Hall", "June 10 – North Pier @ The Lifeboat Station"]
TAGS = "harbour week, north pier, ferry terminal, old quay"


def _links() -> frozenset[str]:
    paras = "".join(f"<p>{s}</p>" for s in STORY)
    rail = "".join(f'<li><a href="/{i}">{t}</a></li>' for i, t in enumerate(RAIL))
    dates = "".join(f"<li>{d}</li>" for d in DATES)
    tags = ", ".join(f'<a href="/tag/{i}">{t}</a>' for i, t in enumerate(TAGS.split(", ")))
    tree = lxml.html.fromstring(
        f"<html><body><article>{paras}<ul>{dates}</ul><ul>{rail}</ul><p>{tags}</p></article>"
        "<nav><a>Home</a></nav></body></html>"
    )
    return chooser.link_texts(tree)


def test_rails_of_links_around_the_story_are_cut() -> None:
    links = _links()
    story = tuple(STORY)
    assert chooser.drop_link_rails(story + tuple(RAIL), lambda: links) == story
    assert chooser.drop_link_rails(("Harbour Week", *RAIL, *STORY), lambda: links) == story
    assert chooser.drop_link_rails((*STORY[:2], TAGS, *STORY[2:]), lambda: links) == story


def test_lists_that_are_not_links_are_kept() -> None:
    links = _links()
    for lines in (
        (*STORY, *DATES),  # a closing list that is not links (tour dates)
        (*STORY, RAIL[0]),  # one link line
        tuple(RAIL),  # nothing else
        (*STORY, "north pier, old quay, the lifeboat station"),  # not every item is a link
        (*STORY[:2], "We visited the north pier, the old quay, and the ferry terminal.", *STORY[2:]),
    ):
        assert chooser.drop_link_rails(lines, lambda: links) == lines


def test_link_texts_are_only_read_for_lines_of_that_shape() -> None:
    def fail() -> frozenset[str]:
        raise AssertionError("link texts read for a story of prose lines")

    assert chooser.drop_link_rails(tuple(STORY), fail) == tuple(STORY)


TEASERS = [
    "Harbour Week: The new ferry terminal opens its doors",
    "Lifeboats: Volunteers train for the winter storms",
    "Old quay: Traders ask for a new roof over the market",
]


def _teaser_links(extra: str = "") -> frozenset[str]:
    box = "".join(f'<li><a href="/t/{i}">{t}</a></li>' for i, t in enumerate(TEASERS))
    paras = "".join(f"<p>{s}</p>" for s in STORY)
    tree = lxml.html.fromstring(f"<html><body><article>{paras}<ul>{box}</ul>{extra}</article></body></html>")
    return chooser.link_texts(tree)


def test_a_rail_of_links_inside_the_story_is_cut() -> None:
    links = _teaser_links()
    story = tuple(STORY)
    inside = (*STORY[:2], *TEASERS, *STORY[2:])
    assert chooser.drop_link_rails(inside, lambda: links) == story
    with_bullets = (*STORY[:2], *(f"- {t}" for t in TEASERS), *STORY[2:])
    assert chooser.drop_link_rails(with_bullets, lambda: links) == story


def test_short_runs_and_unlinked_lines_inside_the_story_are_kept() -> None:
    links = _teaser_links()
    for lines in (
        (*STORY[:2], *TEASERS[:2], *STORY[2:]),  # two links in a row: not a rail
        (*STORY[:2], TEASERS[0], "Ferry times", TEASERS[1], TEASERS[2], *STORY[2:]),  # broken by an unlinked line
        (*STORY[:2], *DATES, "June 11 – South Beach", *STORY[2:]),  # a list that is not links
    ):
        assert chooser.drop_link_rails(lines, lambda: links) == lines


def test_the_inside_rail_check_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    links = _teaser_links()
    inside = (*STORY[:2], *TEASERS, *STORY[2:])
    monkeypatch.setattr(chooser, "RAIL_INSIDE_MIN_LINES", 0)
    assert chooser.drop_link_rails(inside, lambda: links) == inside
