"""The gate on the second opinion (issue 14, speed): readability is asked only where the
first result is doubtful, decided by measured features of the page's main block.

Pages written here: a clean article (one container holds the story: readability is not
run) and a story split over two containers (the first result is one of them: readability
runs and its whole story is kept). Whether readability ran is read from the candidates a
page computed (``PageCandidates.done``) or from ``extract_page(timings=...)``, never from
wall time.
"""

from __future__ import annotations

from wiredesk.core.records import RawPage
from wiredesk.extractors import extract_page
from wiredesk.extractors.chooser import RULES, PageCandidates, Rules, body_chars, decide, doubtful, main_block
from wiredesk.extractors.html import Candidate, parse_html

STORY = [
    "The harbour authority said on Tuesday that the old pier would close for repairs until the next spring season.",
    "Engineers found cracks in three of the supporting columns during a routine inspection carried out last month.",
    "Fishing boats that use the pier will be moved to the northern quay, which was dredged in August for them.",
    "Local traders worry that the closure will keep summer visitors away from the market square and its cafes.",
    "The council has promised a temporary footbridge so that the ferry terminal stays within easy reach of town.",
    "Repairs are expected to cost about four million euros, most of it paid by the regional development fund.",
    "A spokesman for the fishermen's cooperative said its members had been warned about the cracks for years.",
    "The pier was built in 1911 and last restored in the nineteen seventies after a winter storm damaged it.",
    "Divers will inspect the foundations next week before the contractor decides how much of the deck to replace.",
    "Residents are invited to a public meeting at the town hall on Thursday evening to hear about the timetable.",
    "The ferry company said its crossings to the islands would run as usual from the southern landing stage.",
    "Tourism officials expect the works to be finished before the regatta, which brings thousands of visitors.",
    "Several shops on the waterfront have already announced shorter opening hours for the months of the works.",
    "The mayor said the town could not afford to lose the pier, which appears on its coat of arms and its stamps.",
    "An engineering firm from the capital won the contract after a tender that drew offers from five companies.",
    "Work on the temporary footbridge is due to start on Monday, weather permitting, and last about three weeks.",
]
NAV = "".join(f'<li><a href="/s{i}">Section {i}</a></li>' for i in range(8))


def _clean_page() -> str:
    paras = "".join(f"<p>{s}</p>" for s in STORY)
    return (
        '<html lang="en"><head><title>Old pier to close for repairs</title></head><body>'
        f"<header><nav><ul>{NAV}</ul></nav></header>"
        f"<main><article><h1>Old pier to close for repairs</h1>{paras}</article></main>"
        "<footer><p>Harbour News, 1 Quay Street</p></footer></body></html>"
    )


def _split_page() -> str:
    """The story in two containers with a box between them: the densest block is one half."""
    first = "".join(f"<p>{s}</p>" for s in STORY[:9])
    second = "".join(f"<p>{s}</p>" for s in STORY[9:])
    return (
        '<html lang="en"><head><title>Old pier to close for repairs</title></head><body>'
        f"<header><nav><ul>{NAV}</ul></nav></header>"
        f'<div class="story-top">{first}</div>'
        '<div class="box"><span>Listen to this article</span></div>'
        f'<div class="story-rest">{second}</div>'
        "<footer><p>Harbour News, 1 Quay Street</p></footer></body></html>"
    )


def test_main_block_measures_the_runner_up_container_and_its_share() -> None:
    clean = main_block(parse_html(_clean_page()))
    assert clean.runner_up == 0.0 and clean.mass == 1.0  # nothing else on the page
    split = main_block(parse_html(_split_page()))
    assert STORY[0] in split.text and STORY[9] not in split.text
    assert 0.6 < split.runner_up < 0.9  # the other half: 7 sentences against 9
    assert 0.5 < split.mass < 0.7


def _cands(html: str, primary: Candidate, readable: Candidate) -> PageCandidates:
    tree = parse_html(html)
    return PageCandidates(
        make={
            "primary": lambda: primary,
            "readability": lambda: readable,
            "block": lambda: main_block(tree),
            "body_chars": lambda: body_chars(tree),
        }
    )


def test_clean_article_does_not_ask_readability() -> None:
    story = Candidate(method="trafilatura", text="\n".join(STORY))
    cands = _cands(_clean_page(), story, Candidate(method="readability", text="\n".join(STORY)))
    assert decide(cands, english=True, precise=False, use_readability=True) is story
    assert "readability" not in cands.done


def test_story_split_over_two_containers_still_gets_the_second_opinion() -> None:
    half = Candidate(method="trafilatura", text="\n".join(STORY[:9]))  # the first result lost the rest
    whole = Candidate(method="readability", text="\n".join(STORY))
    cands = _cands(_split_page(), half, whole)
    assert doubtful(cands, half, len(" ".join(STORY[:9]).split()), RULES)
    assert decide(cands, english=True, precise=False, use_readability=True) is whole
    assert "readability" in cands.done
    # without the runner-up and share checks the half looks confident: readability is not asked
    blind = Rules(confident_max_runner_up=1.0, confident_min_mass=0.0)
    cands = _cands(_split_page(), half, whole)
    assert decide(cands, english=True, precise=False, use_readability=True, rules=blind) is half
    assert "readability" not in cands.done


def test_extract_page_runs_readability_only_on_the_doubtful_page() -> None:
    timings: dict[str, float] = {}
    out = extract_page(RawPage(source="t", body=_clean_page().encode(), kind="html"), timings=timings)
    assert STORY[0] in out.text and STORY[-1] in out.text
    assert "primary" in timings and "readability" not in timings
    timings = {}
    out = extract_page(RawPage(source="t", body=_split_page().encode(), kind="html"), timings=timings)
    assert STORY[0] in out.text and STORY[-1] in out.text
    assert "readability" in timings


def test_non_english_pages_do_not_ask_readability_unless_the_rule_says_so() -> None:
    short = Candidate(method="trafilatura", text=" ".join(STORY[:2]))
    whole = Candidate(method="readability", text="\n".join(STORY))
    cands = _cands(_split_page(), short, whole)
    on = Rules(collapse_check_words=300)
    assert decide(cands, english=False, precise=False, use_readability=True, rules=on) is whole
    cands = _cands(_split_page(), short, whole)
    off = Rules(collapse_check_words=0)
    assert decide(cands, english=False, precise=False, use_readability=True, rules=off) is short
    assert "readability" not in cands.done
