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

import heapq
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from time import process_time

from lxml.etree import XPath
from lxml.html import HtmlElement

from . import html as html_path
from .furniture import _SENTENCE_END, WORD, words


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
    min_block_share: float = 0.3
    # The main block must have at least this many words to speak for the page.
    min_block_words: int = 80
    # readability runs (outside full English mode) below this many primary words only: it
    # can only rescue a collapsed primary there, which it did on no dev page with 50 words
    # or more (300 -> 50: readability on 9 % fewer pages, dev F1 unchanged; see
    # README "How the HTML chooser guards itself").
    collapse_check_words: int = 50
    # The first result is not doubtful (readability is not asked, see ``doubtful``) when it
    # has at least ``confident_min_words`` words, holds at least this share of the main
    # block, is at most ``confident_over_block`` times its length, has at least
    # ``confident_in_block`` of its own 4-grams inside it (0: not checked) and the page has
    # body text (``confident_needs_body``). 2.0 (> any share) asks readability everywhere.
    # Chosen on all dev sets (bench/extraction_gate.py --gate-cv; README "Extraction figures"):
    # no set below readability-everywhere, readability on 34 % of the dev pages (was 75 %
    # everywhere, 28 % with the older 0.9 / 1.5 / 100 gate, which lost up to 0.0075 F1).
    confident_block_share: float = 0.8
    confident_over_block: float = 1.2
    confident_min_words: int = 50
    confident_in_block: float = 0.0
    confident_needs_body: bool = True
    # ... and when no other container comes close to the main block (the runner-up's text
    # at most this share of the block's: a story split in two is doubtful) and the block
    # holds at least ``confident_min_mass`` of all the page's paragraph text.
    confident_max_runner_up: float = 0.5
    confident_min_mass: float = 0.3
    # Live blogs / multi-part pages: the run of entries replaces a chosen text that is one
    # of them when the entries hold this many times its words.
    entries_over_chosen: float = 1.8
    # A precision-mode result that stays under this many words after the checks (a
    # collapse: precision mode kept a caption or a teaser) gives way to the balanced
    # mode's output when that holds at least ``collapse_gain`` times its words and is
    # not the page's whole text, on a page with no dense block (under half
    # ``min_block_words``: a page with one is a short story, and precision was right;
    # 0 turns the check off).
    collapse_words: int = 80
    collapse_gain: float = 2.0
    # readability's output without the lines that are the page's comment section (see
    # ``comment_lines``); False keeps them.
    drop_comments: bool = True
    # trafilatura's full cascade (its readability port and justext, after fast mode) runs
    # where the fast output is short or has no <p>, unless that output holds at least
    # ``cascade_block_share`` of a main block of at least ``cascade_min_block_words``
    # words that is the page's story (no runner-up over ``confident_max_runner_up``, a
    # mass of at least ``confident_min_mass``, as for readability): the story is there
    # already (0: the cascade always runs there). Chosen by 5-fold CV over all dev pages
    # (README "Extraction figures": 22 % fewer cascades, no set lower).
    cascade_min_block_words: int = 80
    cascade_block_share: float = 0.5


RULES = Rules()


def holds_story(block: Block, text: str, rules: Rules = RULES) -> bool:
    """Does a fast trafilatura output hold the page's main block (no full cascade needed)?"""
    return (
        rules.cascade_min_block_words > 0
        and block.n_words >= rules.cascade_min_block_words
        and block.runner_up <= rules.confident_max_runner_up  # a story split in two: doubtful
        and block.mass >= rules.confident_min_mass
        and _share(block.text, text) >= rules.cascade_block_share
    )


@dataclass(frozen=True, slots=True)
class Block:
    """The page's densest text block (or run of entries): its text and word count."""

    text: str
    n_words: int
    parts: tuple[str, ...] = ()  # the entries' texts, for a run of entries
    # the runner-up container's score over this one's (0: none), and this one's share of
    # all containers' scores: a story split over two containers, or a page of many
    # similar ones, has a runner-up close to the block and a small share
    runner_up: float = 0.0
    mass: float = 1.0


def main_block(tree: HtmlElement) -> Block:
    """The container whose direct ``<p>`` children and ``<br>``-separated text runs hold
    the most text.

    Text in ``<div>``/``<br>`` runs counts as much as paragraphs, so a story with few
    ``<p>`` is found too. One pass over the paragraphs and line breaks (not over every
    container), skipping navigation, footers, asides, forms and headers.
    """
    body = tree.find("body")
    if body is None:
        body = tree
    score: dict[HtmlElement, int] = {}
    for el in _TEXT_PIECES(body):
        parent = el.getparent()
        if parent is None:
            continue
        if el.tag == "td":  # a table cell's own text (old layouts: no <p>, no <br>)
            own = len((el.text or "").strip()) + sum(len((c.tail or "").strip()) for c in el)
            score[el] = max(score.get(el, 0), own)
        elif el.tag == "p":
            score[parent] = score.get(parent, 0) + int(_TEXT_LEN(el))
        else:  # <br>: the run after it, and the container's own text before the first one
            if parent not in score:
                score[parent] = len((parent.text or "").strip())
            score[parent] += len((el.tail or "").strip())
    if not score:
        return Block(text="", n_words=0)
    best = max(score, key=score.__getitem__)
    parts = [best.text or ""]
    for child in best:
        if child.tag == "p":
            parts.append(child.text_content())
        parts.append(child.tail or "")
    text = " ".join(" ".join(parts).split())
    top, *rest = heapq.nlargest(2, score.values())
    total = sum(score.values())
    return Block(
        text=text,
        n_words=len(words(text)),
        runner_up=rest[0] / top if rest and top else 0.0,
        mass=top / total if total else 1.0,
    )


_SKIPPED = "ancestor::nav or ancestor::footer or ancestor::aside or ancestor::form or ancestor::header"
_TEXT_PIECES = XPath(
    f".//p[not({_SKIPPED})] | .//br[not({_SKIPPED})] | .//td[text()[normalize-space()]][not({_SKIPPED})]"
)
_TEXT_LEN = XPath("string-length(normalize-space(.))")


# Repeated siblings that are never the story's parts.
_NOT_ENTRY = re.compile(
    r"comment|reply|respon|related|teaser|card|promo|recommend|nav|menu|footer|sidebar|share|social|"
    r"widget|advert|sponsor|newsletter|tag|breadcrumb|pagination|thumb|gallery|slide",
    re.IGNORECASE,
)
_PARENTS = XPath("descendant-or-self::*[count(article|div|section|li) >= 3]")
_LIVE_HINT = re.compile(r"live|ticker|timeline", re.IGNORECASE)  # _any_live_hint looks for the same words
# _LIVE_HINT's words in any class or id (as the XPath
#   //*[contains(translate(@class, 'LIVETCKRMN', 'livetckrmn'), 'live') or contains(translate(@id, ...), 'live')
#       or contains(@class, 'ticker') or contains(@class, 'timeline') or contains(@id, 'ticker')]
# would find them, at a fraction of its cost: libxml2 runs translate() on every attribute).
_CLASSES = XPath("//@class", smart_strings=False)
_IDS = XPath("//@id", smart_strings=False)
_LIVE_FOLD = str.maketrans("LIVETCKRMN", "livetckrmn")


def _any_live_hint(tree: HtmlElement) -> bool:
    classes = "\0".join(_CLASSES(tree))  # NUL never occurs in an attribute value
    ids = "\0".join(_IDS(tree))
    return (
        "live" in classes.translate(_LIVE_FOLD)
        or "live" in ids.translate(_LIVE_FOLD)
        or "ticker" in classes
        or "timeline" in classes
        or "ticker" in ids
    )


_LIVE_JSONLD = XPath("//script[@type='application/ld+json'][contains(., 'LiveBlogPosting')]")
ENTRY_MIN_WORDS = 20  # an entry of a live blog has at least a sentence or two
ENTRY_MIN_COUNT = 3
ENTRY_MAX_LINK_SHARE = 0.3  # teaser lists are mostly link text


def entries(tree: HtmlElement) -> Block | None:
    """The entries of a live blog or multi-part page, as one text, or None.

    The largest group of at least three sibling elements with the same tag and class,
    each holding a few sentences of its own (little link text), that is not a comment
    list or a teaser rail. trafilatura and readability both take one such entry (the
    first ``<article>``) for the page's article.
    """
    body = tree.find("body")
    if body is None:
        return None
    # Only on pages that say they are live: repeated sections of ordinary pages (comment
    # threads, product lists, FAQ items) looked like entries on 17 of 280 dev pages.
    page_live = bool(_LIVE_JSONLD(tree))
    if not page_live and not _any_live_hint(tree):
        return None  # the scan below is skipped on almost every page
    best: list[HtmlElement] = []
    best_words = 0
    for parent in _PARENTS(body):
        groups: dict[tuple, list[HtmlElement]] = {}
        for child in parent:
            if not isinstance(child.tag, str) or child.tag not in ("article", "div", "section", "li"):
                continue
            groups.setdefault((child.tag, child.get("class", "")), []).append(child)
        for (tag, cls), members in groups.items():
            if len(members) < ENTRY_MIN_COUNT or _NOT_ENTRY.search(f"{cls} {members[0].get('id', '')}"):
                continue
            where = f"{cls} {members[0].get('id', '')} {parent.get('class', '')} {parent.get('id', '')}"
            if not page_live and not _LIVE_HINT.search(where):
                continue
            # lengths by XPath (in C); ~6 characters a word
            sizes = [int(_TEXT_LEN(m)) for m in members]
            if sum(n >= ENTRY_MIN_WORDS * 6 for n in sizes) < ENTRY_MIN_COUNT or sum(sizes) <= best_words * 6:
                continue
            links = sum(len(" ".join(a.text_content().split())) for m in members for a in m.iter("a"))
            if links > ENTRY_MAX_LINK_SHARE * sum(sizes):
                continue
            best, best_words = members, sum(sizes) // 6
    if not best:
        return None
    parts = tuple(html_path.html_to_lines(m) for m in best)
    text = "\n".join(parts)
    return Block(text=text, n_words=len(words(text)), parts=parts)


@dataclass(slots=True, weakref_slot=True)
class PageCandidates:
    """Each extraction of one page, computed on first use and kept (``make`` functions)."""

    make: dict[str, Callable[[], object]]
    done: dict[str, object] = field(default_factory=dict)
    # name -> CPU seconds of its own (not of the candidates it asked for), when a
    # benchmark wants to know why a page was slow
    spent: dict[str, float] | None = None
    _inner: float = 0.0

    def get(self, name: str):
        if name not in self.done:
            if self.spent is None:
                self.done[name] = self.make[name]()
            else:
                self._timed(name)
        return self.done[name]

    def _timed(self, name: str) -> None:
        outer, self._inner = self._inner, 0.0
        t0 = process_time()
        try:
            self.done[name] = self.make[name]()
        finally:
            total = process_time() - t0
            self.spent[name] = total - self._inner
            self._inner = outer + total


def n_words(c: html_path.Candidate | None) -> int:
    return _n_words(c.text) if c is not None and c.text else 0


@lru_cache(maxsize=8)
def _n_words(text: str) -> int:
    return len(words(text))  # asked of the same candidates by several checks


def decide(cands: PageCandidates, *, english: bool, precise: bool, use_readability: bool, rules: Rules = RULES):
    """The kept candidate (``html.Candidate`` or None) of one page's ``cands``.

    ``cands`` makes "primary" (trafilatura, precision mode when ``precise``), "balanced"
    (trafilatura's default mode), "readability" and "block" (``main_block``).
    """
    chosen = _decide(cands, english=english, precise=precise, use_readability=use_readability, rules=rules)
    if rules.drop_comments and chosen is not None and chosen.method == "readability":
        chosen = without_comments(chosen, cands)
    if (
        precise
        and rules.collapse_words
        and n_words(chosen) < rules.collapse_words
        and cands.get("block").n_words < rules.min_block_words // 2  # no dense block speaks for the short text
    ):
        balanced: html_path.Candidate | None = cands.get("balanced")  # only now: a trafilatura run
        lb = n_words(balanced)
        if (
            lb >= rules.min_block_words
            and lb >= rules.collapse_gain * max(n_words(chosen), 1)
            and len(balanced.text) <= WHOLE_PAGE_SHARE * cands.get("body_chars")
        ):
            return balanced
    return chosen


# Comment sections: an element whose class or id names comments ("comments-body",
# "comment-content", "commentlist", "disqus_thread"), outside the story's own wrapper.
_COMMENT_BOX = re.compile(
    r"(^|[\s_-])(comments?|commentlist|commentbody|comment[_-]?(body|content|text|list|item|entry|thread)s?|disqus[_-]?thread)($|[\s_-])"
)
# //body//*[contains(@class, 'omment') or contains(@id, 'omment') or contains(@id, 'disqus')][...],
# stepping onto the attributes first: libxml2 tests only the elements that have a class or an
# id (2x faster; tests/test_extract_prune.py compares the two).
_COMMENT_CANDIDATES = XPath(
    "(//body/descendant::*/@class[contains(., 'omment')]/.."
    " | //body/descendant::*/@id[contains(., 'omment') or contains(., 'disqus')]/..)"
    "[not(descendant::article or descendant::h1)]"
)


def comment_lines(tree: HtmlElement) -> frozenset[str]:
    """The line keys of the text in the page's comment sections (empty on most pages).

    readability has no notion of comments: on a page whose article is short (a blog post,
    a workout of the day) it takes the post with every comment under it, 10-30x the
    article. trafilatura leaves comments out (``include_comments=False``); this lets the
    chooser do the same to readability's output."""
    boxes = [
        el
        for el in _COMMENT_CANDIDATES(tree)
        if _COMMENT_BOX.search(f"{el.get('class', '')} {el.get('id', '')}".lower())
    ]
    inside = set(boxes)
    keys = set()
    for el in boxes:
        if any(a in inside for a in el.iterancestors()):
            continue  # its text is read with the outermost box
        keys.update(filter(None, map(_line_key, html_path.html_to_lines(el).split("\n"))))
    return frozenset(keys)


def without_comments(chosen: html_path.Candidate, cands: PageCandidates) -> html_path.Candidate:
    """``chosen`` without the lines found in the page's comment sections, except lines
    the primary (trafilatura, comments excluded) kept too; unchanged when nothing would be
    left."""
    if "comments" not in cands.make and "comments" not in cands.done:
        return chosen  # candidates given without the page's tree (a caller's own set)
    comments: frozenset[str] = cands.get("comments")
    if not comments:
        return chosen
    lines = chosen.text.split("\n")
    drop = [ln for ln in lines if _line_key(ln) in comments]
    if not drop:
        return chosen
    primary = cands.get("primary")
    kept_by_primary = {_line_key(ln) for ln in primary.text.split("\n")} if primary is not None else set()
    kept = [ln for ln in lines if _line_key(ln) not in comments or _line_key(ln) in kept_by_primary]
    if len(kept) == len(lines) or not "".join(kept).strip():
        return chosen
    return html_path.Candidate(method=chosen.method, text="\n".join(kept))


def _line_key(line: str) -> str:
    return " ".join(_WORD.findall(line.lower()))


WHOLE_PAGE_SHARE = 0.8  # a balanced output with this share of the body's text is the whole page


def _decide(cands: PageCandidates, *, english: bool, precise: bool, use_readability: bool, rules: Rules):
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
    if not doubtful(cands, primary, lp, rules):
        return primary  # holds the page's main text and little else: readability is not asked
    readable: html_path.Candidate | None = cands.get("readability")
    chosen = html_path.choose(primary, readable, full=english)
    lr = n_words(readable)
    if (
        chosen is readable
        and readable is not None
        and not lp
        and cands.get("block").n_words == 0
        and len(readable.text) > BODY_SLACK * cands.get("body_chars")
    ):
        # nothing in the body, yet a long second opinion: read from elsewhere (a <title>
        # that swallowed the page), never the article. Only there: on CleanEval's
        # pages with text outside <body> (kept by its truth), a wider check cost 0.04 F1.
        return primary
    if (
        chosen is readable
        and chosen is not primary
        and lp < rules.min_block_words
        and _blown(lr, cands.get("block"), lp, rules)
    ):
        if lp:
            return primary
        block = cands.get("block")
        if block.n_words >= rules.min_block_words:
            return html_path.Candidate(method="main-block", text=block.text)
    elif chosen is primary and lr >= rules.min_block_words and _blown(lp, cands.get("block"), lr, rules):
        return readable
    return chosen


def doubtful(cands: PageCandidates, primary: html_path.Candidate | None, lp: int, rules: Rules = RULES) -> bool:
    """Is the first result doubtful enough to ask readability (the gate on the second opinion)?

    Not doubtful: at least ``confident_min_words`` words, a main block of at least
    ``min_block_words`` words that the result holds (``confident_block_share`` of its
    4-grams) without being much longer (``confident_over_block``), no other container
    close to the block (``confident_max_runner_up``: a story split over two containers,
    where readability finds the other half) and the block holding a good share of all the
    page's paragraph text (``confident_min_mass``), the result's own text mostly inside
    the block (``confident_in_block``, off by default), and a page with text in its
    ``<body>`` (``confident_needs_body``: text outside it is a broken page). Everything
    read here is cheap next to readability (the main block and the 4-gram shares).
    """
    if primary is None or lp < rules.confident_min_words:
        return True
    block: Block = cands.get("block")
    return not (
        block.n_words >= rules.min_block_words
        and lp <= rules.confident_over_block * block.n_words
        and _share(block.text, primary.text) >= rules.confident_block_share
        and block.runner_up <= rules.confident_max_runner_up
        and block.mass >= rules.confident_min_mass
        and (not rules.confident_in_block or _share(primary.text, block.text) >= rules.confident_in_block)
        and (not rules.confident_needs_body or cands.get("body_chars") > 0)
    )


def with_entries(chosen: html_path.Candidate | None, cands: PageCandidates, rules: Rules = RULES):
    """A chosen text that is one entry of a live blog becomes the run of all entries."""
    if chosen is None or not chosen.text.strip():
        return chosen
    found: Block | None = cands.get("entries")
    if found is None or found.n_words < rules.entries_over_chosen * n_words(chosen):
        return chosen
    if not any(_share(chosen.text, part) >= ENTRY_COVERAGE for part in found.parts):
        return chosen  # the chosen text is not one of the entries: another part of the page
    return html_path.Candidate(method="entries", text=found.text)


ENTRY_COVERAGE = 0.6  # share of the chosen text's shingles that must lie in ONE entry

# Rails of links inside the article element: headlines of other stories after the story
# ("Milan Design Week | FLOS pays tribute to ...", "- NASA Europa Mission Could ...") or
# before it (a promo strip under its heading), and unlabelled tag lists ("stock car
# brasil, stock car interlagos, ..."). The text cannot tell those from a story's own list
# (tour dates, product specs); the page can: each line, or each item, is a link's text.
RAIL_MIN_LINES = 2
RAIL_MAX_WORDS = 30  # longer lines are prose, link or not
RAIL_HEADER_WORDS = 8  # a heading over a leading rail ("2019 American Music Awards")
LINK_LIST_MIN_ITEMS = 3
# A rail inside the story ("read also" boxes between paragraphs): at least this many
# consecutive short lines, each the whole text of a link; 0 turns the check off.
RAIL_INSIDE_MIN_LINES = 3
_LIST_SEP = re.compile(r"\s*[,|;•·]\s*")


def link_texts(tree: HtmlElement) -> frozenset[str]:
    """The words of each link's text in the page's <body>, lower-cased."""
    # a link without children: its text is its text_content(), without an XPath evaluation
    return frozenset(filter(None, (_key(a.text_content() if len(a) else (a.text or "")) for a in _LINKS(tree))))


_LINKS = XPath("//body//a[normalize-space()]")


def _key(text: str) -> str:
    return " ".join(words(text.lower()))


def _short(line: str, max_words: int = RAIL_MAX_WORDS) -> bool:
    return _at_most(line, max_words) and not _SENTENCE_END.search(line)


def _at_most(line: str, k: int) -> bool:
    """len(words(line)) <= k, without splitting a long line into all its words: k + 1
    words take at least 2k + 1 characters, and counting stops at the (k + 1)-th."""
    return len(line) <= 2 * k or sum(1 for _ in islice(WORD.finditer(line), k + 1)) <= k


def _unbounded_short(line: str) -> bool:
    """_short(line, 10**6) without counting the words: a line of more than 10**6 words
    has more than 2 * 10**6 characters (a word and a separator each), so shorter lines
    pass the count whatever their words."""
    return not _SENTENCE_END.search(line) and (len(line) < 2 * 10**6 or len(words(line)) <= 10**6)


def _list_shape(line: str) -> bool:
    """A line that could be a tag list: three or more items, no sentence end."""
    return len(_LIST_SEP.split(line.strip())) >= LINK_LIST_MIN_ITEMS and _unbounded_short(line)


def drop_link_rails(lines: tuple[str, ...], links: Callable[[], frozenset[str]]) -> tuple[str, ...]:
    """``lines`` without rails of links at either end and without tag lists made of links.
    ``links`` gives link_texts; it is only called when the lines have such a shape."""
    n = len(lines)
    lead_shape = n > RAIL_MIN_LINES and all(map(_short, lines[: RAIL_MIN_LINES + 1]))
    tail_shape = n > RAIL_MIN_LINES and all(map(_short, lines[-RAIL_MIN_LINES:]))
    lists = [i for i, ln in enumerate(lines) if _list_shape(ln)]
    inside = RAIL_INSIDE_MIN_LINES and _short_run(lines, RAIL_INSIDE_MIN_LINES)
    if not (lead_shape or tail_shape or lists or inside):
        return lines  # the page's links are not read
    texts = links()

    def linked(line: str) -> bool:
        return _at_most(line, RAIL_MAX_WORDS) and _key(line) in texts

    start = 1 if _at_most(lines[0], RAIL_HEADER_WORDS) and not linked(lines[0]) else 0
    i = start
    while i < n and linked(lines[i]):
        i += 1
    lead = i if i - start >= RAIL_MIN_LINES and i < n else 0
    k = n
    while k > lead and linked(lines[k - 1]):
        k -= 1
    tail = n - k if n - k >= RAIL_MIN_LINES and k > lead else 0
    out = []
    shaped = set(lists)  # a line of three or more items is one of these
    dropped = _inside_rails(lines, lead, n - tail, linked) if inside else set()
    for i in range(lead, n - tail):
        ln = lines[i]
        if i in dropped:
            continue
        if i in shaped:
            items = [_key(x) for x in _LIST_SEP.split(ln.strip()) if x.strip()]
            if len(items) >= LINK_LIST_MIN_ITEMS and all(x in texts for x in items):
                continue
        out.append(ln)
    return tuple(out)


def _short_run(lines: tuple[str, ...], k: int) -> bool:
    """Are there k consecutive short non-sentence lines (the shape of a rail)?"""
    run = 0
    for ln in lines:
        run = run + 1 if _short(ln) else 0
        if run >= k:
            return True
    return False


def _inside_rails(lines: tuple[str, ...], start: int, end: int, linked: Callable[[str], bool]) -> set[int]:
    """Indexes of runs of at least RAIL_INSIDE_MIN_LINES consecutive linked short lines
    between ``start`` and ``end``."""
    out: set[int] = set()
    i = start
    while i < end:
        j = i
        while j < end and _short(lines[j]) and linked(lines[j]):
            j += 1
        if j - i >= RAIL_INSIDE_MIN_LINES:
            out.update(range(i, j))
        i = max(j, i + 1)
    return out


BODY_SLACK = 1.2  # whitespace and line breaks differ between the two measures


def body_chars(tree: HtmlElement) -> int:
    """Characters of visible text in the page's <body> (0 when it has none)."""
    body = tree.find("body")
    return 0 if body is None else int(_TEXT_LEN(body))


def _blown(n: int, block: Block, other: int, rules: Rules) -> bool:
    """Is a candidate of n words far longer than both the main block and the other one?"""
    return n > rules.max_over_block * max(block.n_words, 1) and n > rules.max_over_primary * max(other, 1)


_WORD = re.compile(r"\w+")
SHARE_SAMPLE = 64  # 4-grams of ``part`` looked up: enough for a share to +-0.06


def _share(part: str, whole: str) -> float:
    """Share of ``part``'s word 4-grams found in ``whole`` (a spread sample of them).

    An evenly spaced sample of ``part``'s 4-grams, each looked for in ``whole``'s words
    joined by single spaces: the shares the checks compare with thresholds need no exact
    count, and this is a fraction of the cost of counting every shingle of both. (Words
    hold no spaces, so " a b c d " occurs in " w1 w2 ... wn " exactly where a b c d are
    consecutive words; this is cheaper than building the set of all of ``whole``'s
    4-grams, which it replaced with the same answers.) The checks ask about the same few
    texts again and again (the main block against each candidate): their tokens are kept
    for the last few texts.
    """
    a = _tokens(part)
    if len(a) < 4:
        return 1.0 if not a else float(" ".join(a) in " ".join(_tokens(whole)))
    joined = _joined(whole)
    n = len(a) - 3
    step = max(1, n // SHARE_SAMPLE)
    picks = range(0, n, step)
    return sum(f" {a[i]} {a[i + 1]} {a[i + 2]} {a[i + 3]} " in joined for i in picks) / len(picks)


@lru_cache(maxsize=8)
def _tokens(text: str) -> list[str]:
    """Lower-cased words (callers must not change the list: it is shared)."""
    return _WORD.findall(text.lower())


@lru_cache(maxsize=8)
def _joined(text: str) -> str:
    """The text's words, each with a space on either side."""
    return f" {' '.join(_tokens(text))} "
