"""Live blogs and multi-part pages are one article of all entries (issue 14, class 4)."""

from __future__ import annotations

from wiredesk.core.records import RawPage
from wiredesk.extractors import extract_page
from wiredesk.extractors.chooser import PageCandidates, entries, with_entries
from wiredesk.extractors.html import Candidate, parse_html, run_readability

ENTRIES = [
    (
        "10:02",
        "The storm reached the northern coast this morning, with gusts of up to 140 km/h recorded at "
        "the lighthouse. Ferries to the islands have been cancelled for the rest of the day.",
    ),
    (
        "09:41",
        "Police have closed the coastal road between the harbour and the airport after several trees "
        "fell across it. Drivers are asked to use the inland route instead.",
    ),
    (
        "09:15",
        "The weather service has raised its warning to the highest level for the whole region. Schools "
        "in three districts will stay closed until further notice, the council said.",
    ),
    (
        "08:50",
        "Power cuts are reported in about twelve thousand homes, mostly in villages along the river. "
        "The grid operator expects to restore supply by the evening.",
    ),
]
COMMENTS = "".join(
    f'<div class="comment"><p>Reader {i}: stay safe everyone, the wind here on the hill is terrible and '
    f"the whole street has no power since early this morning.</p></div>"
    for i in range(5)
)


def _live_page() -> str:
    posts = "".join(
        f'<article class="live-post"><header><h2>Update {t}</h2></header><div class="entry-content"><p>{x}</p></div>'
        "</article>"
        for t, x in ENTRIES
    )
    return (
        '<html lang="en"><head><title>Storm live</title></head><body><div id="page">'
        f'<div class="sidebar"><p>About us</p></div>{posts}<div class="comments">{COMMENTS}</div></div></body></html>'
    )


def test_one_entry_chosen_becomes_all_entries() -> None:
    tree = parse_html(_live_page())
    one = Candidate(method="readability", text=run_readability(tree, url=None))
    assert ENTRIES[0][1] in one.text and ENTRIES[1][1] not in one.text  # the failure: one entry
    cands = PageCandidates(make={"entries": lambda: entries(tree)})
    chosen = with_entries(one, cands)
    assert chosen is not None and chosen.method == "entries"
    assert all(x in chosen.text for _, x in ENTRIES)
    assert "stay safe everyone" not in chosen.text  # the comment list is not an entry run


def test_article_that_is_not_an_entry_is_kept() -> None:
    tree = parse_html(_live_page())
    other = Candidate(method="trafilatura", text="A different story about the harbour that is not one of the entries.")
    assert with_entries(other, PageCandidates(make={"entries": lambda: entries(tree)})) is other


def test_teaser_rail_is_not_a_live_blog() -> None:
    cards = "".join(
        f'<div class="item"><a href="/s{i}">Headline number {i} about the storm and the ferries and the '
        f"power cuts in the region tonight and tomorrow morning</a></div>"
        for i in range(6)
    )
    tree = parse_html(f"<html><body><div>{cards}</div></body></html>")
    assert entries(tree) is None


def test_live_page_extracts_every_entry() -> None:
    out = extract_page(RawPage(source="t", body=_live_page().encode(), kind="html"))
    assert all(x in out.text for _, x in ENTRIES)
    assert "stay safe everyone" not in out.text


def test_repeated_sections_of_an_ordinary_page_are_not_entries() -> None:
    # the same markup without any live-blog signal (class names, LiveBlogPosting)
    tree = parse_html(_live_page().replace('class="live-post"', 'class="post"'))
    assert entries(tree) is None


def test_live_blog_posting_json_ld_marks_the_page_live() -> None:
    page = _live_page().replace('class="live-post"', 'class="post"')
    page = page.replace("<title>", '<script type="application/ld+json">{"@type": "LiveBlogPosting"}</script><title>')
    found = entries(parse_html(page))
    assert found is not None and len(found.parts) == len(ENTRIES)
