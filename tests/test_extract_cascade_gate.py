"""The gate on trafilatura's full cascade (issue 14/16, speed): after its fast mode,
trafilatura's own comparison with its readability port and justext runs on a short or
``<p>``-less output only when that output does not already hold the page's story (a main
block of ``cascade_min_block_words`` words or more, no close runner-up container, a good
share of the page's paragraph text; ``chooser.holds_story``).

Pages written here: a short story in one container (the fast output holds it: no
cascade) and the same story split over two containers (doubtful: the cascade runs).
Whether the cascade ran is read from the trafilatura runs a page asked for, never from
wall time.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from wiredesk.core.records import RawPage
from wiredesk.extractors import chooser, extract_page
from wiredesk.extractors import html as html_path
from wiredesk.extractors.html import parse_html

STORY = [
    "The harbour authority said on Tuesday that the old pier would close for repairs until spring.",
    "Engineers found cracks in three of the supporting columns during a routine inspection last month.",
    "Fishing boats that use the pier will be moved to the northern quay, which was dredged in August.",
    "Local traders worry that the closure will keep summer visitors away from the market square.",
    "The council has promised a temporary footbridge so that the ferry terminal stays within reach.",
    "Repairs are expected to cost about four million euros, most of it paid by the regional fund.",
    "Divers will inspect the foundations next week before the contractor decides on the deck.",
]
NAV = "".join(f'<li><a href="/s{i}">Section {i}</a></li>' for i in range(8))


def _page(body: str) -> RawPage:
    html = (
        '<html lang="en"><head><title>Old pier to close</title></head><body>'
        f"<header><nav><ul>{NAV}</ul></nav></header>{body}"
        "<footer><p>Harbour News, 1 Quay Street</p></footer></body></html>"
    )
    return RawPage(source="test", body=html.encode(), kind="html", url="https://example.org/pier")


def _one_container() -> RawPage:
    return _page("<main><article>" + "".join(f"<p>{s}</p>" for s in STORY) + "</article></main>")


def _split() -> RawPage:
    first = "".join(f"<p>{s}</p>" for s in STORY[:4])
    rest = "".join(f"<p>{s}</p>" for s in STORY[4:])
    return _page(f'<div class="a">{first}</div><div class="box"><span>Listen</span></div><div class="b">{rest}</div>')


@pytest.fixture
def full_runs(monkeypatch):
    """The number of trafilatura runs without fast mode (its full cascade) per extraction."""
    runs = []
    real = html_path.run_trafilatura

    def counting(tree, **kw):
        if not kw.get("fast") and not kw.get("favor_recall"):
            runs.append(kw)
        return real(tree, **kw)

    monkeypatch.setattr(html_path, "run_trafilatura", counting)
    return runs


def test_a_short_story_held_by_the_fast_output_runs_no_cascade(full_runs) -> None:
    page = _one_container()
    block = chooser.main_block(parse_html(page.body.decode()))
    assert block.n_words >= chooser.RULES.cascade_min_block_words and block.runner_up == 0.0
    assert len(" ".join(STORY)) < html_path._FULL_CASCADE_BELOW_CHARS  # short: the cascade's trigger
    out = extract_page(page)
    assert full_runs == []
    assert STORY[0] in out.text and STORY[-1] in out.text
    # with the gate off, the same page runs the cascade and keeps the same story
    off = extract_page(page, rules=replace(chooser.RULES, cascade_min_block_words=0))
    assert len(full_runs) >= 1
    assert off.text == out.text


def test_a_story_split_over_two_containers_runs_the_cascade(full_runs) -> None:
    page = _split()
    block = chooser.main_block(parse_html(page.body.decode()))
    assert block.runner_up > chooser.RULES.confident_max_runner_up  # doubtful: a runner-up close to it
    extract_page(page)  # (its block is also under 80 words)
    assert len(full_runs) >= 1
    # a block limit the half passes: the runner-up alone keeps the cascade ...
    rules = replace(chooser.RULES, cascade_min_block_words=50)
    full_runs.clear()
    extract_page(page, rules=rules)
    assert len(full_runs) >= 1
    # ... and without the runner-up check the fast output (which holds the half) is kept
    full_runs.clear()
    extract_page(page, rules=replace(rules, confident_max_runner_up=1.0))
    assert full_runs == []


def test_holds_story_needs_the_block_in_the_text() -> None:
    tree = parse_html(_one_container().body.decode())
    block = chooser.main_block(tree)
    assert chooser.holds_story(block, "\n".join(STORY))
    assert not chooser.holds_story(block, "\n".join(STORY[:2]))  # most of the block missing
    assert not chooser.holds_story(block, "\n".join(STORY), replace(chooser.RULES, cascade_min_block_words=0))
    assert not chooser.holds_story(block, "\n".join(STORY), replace(chooser.RULES, cascade_min_block_words=500))
