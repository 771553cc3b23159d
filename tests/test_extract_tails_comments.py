"""Two losses of text/precision on pages written here (issue 14, classes 1 and 2):

- trafilatura's precision mode deletes an empty element (a ticker widget's ``<span>``, an
  icon, a clearing ``<div>``) together with the text that follows it (``tails.py``);
- readability takes a short post with every comment under it (``chooser.without_comments``).
"""

from __future__ import annotations

import pytest

from wiredesk.core.records import RawPage
from wiredesk.extractors import extract_page, tails
from wiredesk.extractors.chooser import PageCandidates, Rules, comment_lines, decide, main_block
from wiredesk.extractors.html import Candidate, parse_html

STORY = [
    "The harbour authority said on Tuesday that the old pier would close for repairs until the spring.",
    "Engineers found cracks in three of the supporting columns during a routine inspection last month.",
    "Fishing boats that use the pier will be moved to the northern quay, which was dredged in August.",
    "Local traders worry that the closure will keep summer visitors away from the market square.",
    "The council has promised a temporary footbridge so that the ferry terminal stays within reach.",
    "Repairs are expected to cost about four million euros, most of it paid by the regional fund.",
]
TICKER = (
    'Shares of <a href="/q/hb">Harbour Holdings</a> Ltd. <span data-widget="ticker" data-symbol="HB"></span> '
    "fell by nine percent after the announcement, their steepest drop in a decade."
)
RUN = "The ferry company said its timetable would not change while the footbridge is being built next month."


def _page(paragraphs: str) -> bytes:
    return (
        '<html lang="en"><head><title>Old pier to close</title></head><body><article>'
        f"<h1>Old pier to close</h1>{paragraphs}</article></body></html>"
    ).encode()


def _extract(body: bytes) -> str:
    return extract_page(RawPage(source="t", body=body, kind="html", url=None)).text


def test_precision_mode_keeps_the_text_after_an_empty_inline_element(monkeypatch) -> None:
    body = _page("".join(f"<p>{s}</p>" for s in STORY) + f"<p>{TICKER}</p>")
    text = _extract(body)
    assert "fell by nine percent after the announcement, their steepest drop in a decade." in text
    # trafilatura's precision mode as shipped: the sentence stops at the widget
    monkeypatch.setattr(tails, "ENABLED", False)
    assert "fell by nine percent" not in _extract(body)
    assert "Harbour Holdings Ltd." in _extract(body)


def test_precision_mode_keeps_a_paragraph_that_starts_with_an_icon(monkeypatch) -> None:
    body = _page("".join(f"<p>{s}</p>" for s in STORY) + f'<p><i class="icon-ferry"></i>{RUN}</p>')
    assert RUN in _extract(body)
    monkeypatch.setattr(tails, "ENABLED", False)
    assert RUN not in _extract(body)


def test_the_tree_is_given_back_unchanged() -> None:
    tree = parse_html(_page(f"<p>{TICKER}</p><div><i></i>{RUN}</div>").decode())
    marked = tails.tailed_empties(tree)
    assert [el.tag for el in marked] == ["span", "i"]
    with tails.kept_tails(tree):
        assert all(el.text == "" for el in marked)
    assert all(el.text is None for el in marked)
    with pytest.raises(RuntimeError), tails.kept_tails(tree):
        raise RuntimeError("a failing extraction")
    assert all(el.text is None for el in marked)
    # an empty element followed by nothing but space is left alone
    assert tails.tailed_empties(parse_html("<html><body><p>Text <span></span> </p></body></html>")) == []


COMMENTS = [
    "Well, this is going to hurt tomorrow but I am looking forward to it anyway!",
    "Ran it this morning in the rain, took me almost two hours, worth every minute.",
    "How many meters is that exactly? I never know how to convert these distances.",
    "Thank you for posting this, my brother served with him and would have loved it.",
]


def _blog(wrapper_class: str = "post") -> str:
    comments = "".join(
        f'<div class="comments-body"><p>{c} #{i}</p><span class="comments-post">Comment #{i} by reader{i}</span></div>'
        for i in range(30)
        for c in COMMENTS
    )
    return (
        '<html lang="en"><head><title>Workout of the day</title></head><body>'
        f'<div class="{wrapper_class}"><p>{STORY[0]}</p><p>{STORY[1]}</p><p>{STORY[2]}</p></div>'
        f'<div class="comments-head">Comments</div>{comments}</body></html>'
    )


def _cands(html: str, **given: Candidate | None) -> PageCandidates:
    tree = parse_html(html)
    return PageCandidates(
        make={
            "tree": lambda: tree,
            "block": lambda: main_block(tree),
            "body_chars": lambda: len(" ".join(tree.find("body").text_content().split())),
            "comments": lambda: comment_lines(tree),
            **{k: (lambda v=v: v) for k, v in given.items()},
        }
    )


def test_readability_without_the_comment_section() -> None:
    html = _blog()
    # trafilatura read the post as one table-like line; readability took everything
    nav = "Home | Workouts | Archives | Video | Forum | Journal | Affiliates | Seminars | Contact us"
    primary = Candidate(
        method="trafilatura", text=" | ".join(STORY[:3]) + " | Posted by the coach\n" + "\n".join([nav] * 4)
    )
    everything = [*STORY[:3], *(f"{c} #{i}" for i in range(30) for c in COMMENTS)]
    readable = Candidate(method="readability", text="\n".join(everything))
    chosen = decide(
        _cands(html, primary=primary, readability=readable), english=True, precise=False, use_readability=True
    )
    assert chosen.method == "readability"
    assert chosen.text.split("\n") == STORY[:3]
    # with the rule off (the cross-validation's other value) the comments stay
    kept = decide(
        _cands(html, primary=primary, readability=readable),
        english=True,
        precise=False,
        use_readability=True,
        rules=Rules(drop_comments=False),
    )
    assert kept is readable


def test_a_wrapper_named_for_comments_that_holds_the_article_is_not_a_comment_section() -> None:
    html = (
        '<html><body><div id="content-and-comments"><article><h1>Pier</h1>'
        + "".join(f"<p>{s}</p>" for s in STORY)
        + '</article><div class="comment-list"><p>First!</p></div></div></body></html>'
    )
    found = comment_lines(parse_html(html))
    assert found == frozenset({"first"})
