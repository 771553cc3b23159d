"""Which extraction of an HTML page to keep, with the checks that catch each other's failures.

``html.choose`` picks between trafilatura (the primary) and readability (the second
opinion) by length and containment. On pages it was not tuned on, three failures came
out of that choice; each has a check here, measured against the page itself rather than
against the other extractor alone:

- **blow-ups**: readability's output has no upper bound; on a page whose story it misses
  it returns the whole page (comments, link lists), 10-20x the article. A candidate
  is only taken when it is not far longer than the page's main text block and than
  the other candidate (``Rules.max_over_block`` / ``max_over_primary``).
- **precision mode dropping the story**: trafilatura's precision mode, used on English
  pages, sometimes keeps a promo box and drops a story written as ``<div>``/``<br>``
  runs. The densest text block of the page (``main_block``) is the story on such pages;
  when the precision output holds little of it, the balanced mode's output is taken.
- **cost**: readability and the second trafilatura run are only computed when a
  measured feature says the first result is doubtful (``PageCandidates`` computes each
  candidate at most once, on demand).

Every threshold in ``Rules`` was chosen by k-fold cross-validation over all development
sets (``bench/extraction.py --cv``), not on one benchmark's pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lxml.etree import XPath
from lxml.html import HtmlElement

from . import html as html_path
from .furniture import words


@dataclass(frozen=True, slots=True, kw_only=True)
class Rules:
    """The chooser's thresholds (defaults: the cross-validated choice)."""

    # A second-opinion candidate longer than this many times the page's main block (in
    # words) is a blow-up (whole page), unless the primary is just as long.
    max_over_block: float = 3.0
    # ... or longer than this many times the primary when the primary is not collapsed.
    max_over_primary: float = 4.0
    # Precision output holding less than this share of the main block's shingles has
    # dropped the story: take the balanced output.
    min_block_share: float = 0.5
    # The main block must have at least this many words to speak for the page.
    min_block_words: int = 80
    # readability runs (outside full English mode) below this many primary words only.
    collapse_check_words: int = 300


RULES = Rules()


@dataclass(frozen=True, slots=True)
class Block:
    """The page's densest text block: its text and word count."""

    text: str
    n_words: int


_CONTAINERS = frozenset("div td article section main body span font center blockquote li".split())
_CONTAINER_PATH = XPath(
    "descendant-or-self::*[self::"
    + " or self::".join(sorted(_CONTAINERS))
    + "][not(ancestor::nav or ancestor::footer or ancestor::aside or ancestor::form or ancestor::header)]"
)


def main_block(tree: HtmlElement) -> Block:
    """The container whose own text runs and direct <p> children hold the most words.

    Text in ``<div>``/``<br>`` runs (text and tails directly in the container) counts as
    much as paragraphs, so a story with few ``<p>`` is found too. Linear in the page.
    """
    best: list[str] = []
    best_len = 0
    body = tree.find("body")
    if body is None:
        body = tree
    for el in _CONTAINER_PATH(body):
        parts = []
        if el.text and el.text.strip():
            parts.append(el.text)
        for child in el:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag == "p":
                parts.append(child.text_content())
            elif tag in ("a", "b", "i", "em", "strong", "span", "br", "font", "u", "small", "sup", "sub"):
                if tag != "br":
                    parts.append(child.text_content())
            if child.tail and child.tail.strip():
                parts.append(child.tail)
        total = sum(len(p) for p in parts)
        if total > best_len:
            best, best_len = parts, total
    text = " ".join(" ".join(best).split())
    return Block(text=text, n_words=len(words(text)))


@dataclass(slots=True)
class PageCandidates:
    """Each extraction of one page, computed on first use and kept (``make`` functions)."""

    make: dict[str, Callable[[], object]]
    done: dict[str, object] = field(default_factory=dict)

    def get(self, name: str):
        if name not in self.done:
            self.done[name] = self.make[name]()
        return self.done[name]


def n_words(c: html_path.Candidate | None) -> int:
    return len(words(c.text)) if c is not None and c.text else 0


def decide(cands: PageCandidates, *, english: bool, precise: bool, use_readability: bool, rules: Rules = RULES):
    """The kept candidate (``html.Candidate`` or None) of one page's ``cands``.

    ``cands`` makes "primary" (trafilatura, precision mode when ``precise``), "balanced"
    (trafilatura's default mode), "readability" and "block" (``main_block``).
    """
    primary: html_path.Candidate | None = cands.get("primary")
    lp = n_words(primary)
    if precise:
        block: Block = cands.get("block")
        if block.n_words >= rules.min_block_words and _share(block.text, primary.text if primary else "") < (
            rules.min_block_share
        ):
            balanced: html_path.Candidate | None = cands.get("balanced")
            if balanced is not None and _share(block.text, balanced.text) >= rules.min_block_share:
                primary, lp = balanced, n_words(balanced)
    if not use_readability or not (english or lp < rules.collapse_check_words):
        return primary
    readable: html_path.Candidate | None = cands.get("readability")
    chosen = html_path.choose(primary, readable, full=english)
    lr = n_words(readable)
    if chosen is readable and chosen is not primary and _blown(lr, cands.get("block"), lp, rules):
        if lp:
            return primary
        block = cands.get("block")
        if block.n_words >= rules.min_block_words:
            return html_path.Candidate(method="main-block", text=block.text)
    elif chosen is primary and lr >= rules.min_block_words and _blown(lp, cands.get("block"), lr, rules):
        return readable
    return chosen


def _blown(n: int, block: Block, other: int, rules: Rules) -> bool:
    """Is a candidate of n words far longer than both the main block and the other one?"""
    return n > rules.max_over_block * max(block.n_words, 1) and n > rules.max_over_primary * max(other, 1)


def _share(part: str, whole: str) -> float:
    """Share of ``part``'s word 4-grams found in ``whole``."""
    return html_path._inside(html_path._shingles(part), html_path._shingles(whole))
