"""The plain-text line cleaner: a page as a browser shows it -> the article's lines.

trafilatura finds nothing in plain text, and wrapping lines in <p> keeps the menus, so
this is ours. The idea: an article is one contiguous run of prose with furniture around
it (menus, rails, footers) and a little inside it (ad markers, share bars, credit lines).
1. every line gets a score: long prose lines (many words, function words, a sentence
   ending) count for the article, short link-like lines and furniture count against;
2. page structure adjusts the scores: runs of headline-shaped lines (teaser rails),
   paragraphs with no paragraph next to them (teaser cards), prose after a rail header
   ("Related Stories") or a comment-section marker count less; a list introduced by a
   line ending in ':' counts as article text;
3. the best contiguous block is the maximum-sum segment of those scores (Kadane's scan),
   so a short paragraph between two long ones survives while a long menu does not;
4. inside the block, lines the shared rules call furniture, credit lines, lines repeated
   on the page, and lines the host profile knows as furniture are dropped.

The weights below were set on the textpages dev set (coarse grid, checked against the
seed labels); they are shapes of evidence, not per-site rules.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from .furniture import (
    Credit,
    LineFacts,
    credit_line,
    furniture_kind,
    is_comment_marker,
    is_rail_header,
    line_facts,
    words,
)
from .language import SCRIPT_CHARS, page_script, stopword_ratio

# Tunable weights (see the module docstring).
UNTERMINATED = 0.3  # weight of a long line without a sentence ending (headline-like)
ISOLATED = 0.15  # weight of a prose line with no prose neighbour (teaser card lede)
RAIL_DAMP = 0.3  # weight of prose after a rail header ("Related Stories") after the article
HEADLINE_RUN = 4  # this many unterminated longer lines in a row are a teaser rail
LIST_ITEM = 0.5  # score of a short line in a list that a line ending in ':' introduced
REPEAT_MAX_WORDS = 60  # longer repeated lines are kept (pull quotes of long paragraphs)
_MIN_PROSE_BEFORE_COMMENTS = 60.0  # a comment/rail marker only counts after this much prose
# Switches of the block-edge and in-block rules below (bench/textpages_cv.py turns them
# off and on to cross-validate them).
HEAD_TRIM = True  # headline, byline and date lines at the top of the block are not the story
CAPTION_TAIL = True  # a sentence with a credit after it ("...last week.Credit...A. Name/Agency")
TEASER_PAIRS = True  # rails of headline + one-line summary pairs
BIO_TAIL = True  # an author or company bio closing the block ("Jane Doe is a reporter ...")
RAIL_ITEMS = True  # the headlines right under a rail header ("Related") inside the block
PROMO = True  # newsletter, subscription and affiliate-commission lines inside the block
SHARE_GLUE = True  # share buttons rendered as one line ("Share on FacebookShare on Twitter")
LIST_ROWS = True  # rows of a list with the same separators right after the article
RAIL_RESUME = True  # a rail box followed by paragraphs again is inside the article
THOUGHTS_ON = True  # "12 thoughts on “...”", "3 Responses to ..." open a comment section
DEK_WORDS = 15  # an unterminated sentence-case line this long at the top is the standfirst
HEAD_TRIM_MAX = 6  # at most this many lines are trimmed from the top of the block
BIO_TAIL_LINES = 2  # a bio is looked for among the block's last lines

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# Scripts of South-East Asia written without spaces between words (Thai, Lao, Myanmar,
# Khmer): ~4 characters make a word, and a space ends a sentence or a phrase.
_SEA = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")
# A sentence end in any script: Latin/Cyrillic/Greek/Hebrew . ! ? … : ; (Greek's question
# mark U+037E), Arabic-script ۔ ؟ ؛ (Urdu's full stop, Arabic question mark and
# semicolon), Devanagari and other Indic । ॥, CJK 。！？ and full-width ．：；, Armenian ։,
# Ethiopic ።, Myanmar ။, Khmer ។, Thai ฯ; then closing quotes or brackets of any script.
_SENTENCE_END = re.compile(
    "[.!?…:;\u037e\u0589\u061b\u061f\u06d4\u0964\u0965\u104b\u1362\u17d4\u0e2f"
    "\u3002\uff01\uff1f\uff0e\uff1a\uff1b]"
    "['\"”’»)\\]」』】）〕\u05f4]*$"
)


def _ends(text: str) -> bool:
    """Whether the line ends like a sentence. The pattern is anchored at the end: searching
    only the last characters gives the same answer without scanning a long paragraph."""
    return bool(_SENTENCE_END.search(text, max(0, len(text) - _END_SPAN)))


_END_SPAN = 24  # a sentence end and the closing quotes or brackets after it fit in this

# Thai and its neighbours have no full stop: a long line of several space-separated
# phrases is running prose.
_SEA_PROSE_WORDS = 20


@dataclass(frozen=True, slots=True)
class TextResult:
    lines: tuple[str, ...]  # kept lines, in page order
    credits: tuple[Credit, ...] = ()  # credit lines found (dropped from lines)
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> lines dropped


@dataclass(slots=True)
class _Line:
    text: str
    facts: LineFacts
    key: str  # line_key(text)
    n: int  # word count (CJK characters count as half a word each)
    cjk: bool  # has CJK characters
    ends: bool  # ends like a sentence
    kind: str | None  # furniture kind, or None
    credit: Credit | None
    repeats: int = 0
    known: bool = False  # the host profile knows this line as furniture
    score: float = 0.0
    rail: bool = False  # a headline listed under a rail header ("Related")

    def again(self) -> _Line:
        """The same line read again (as read, before counts and scores)."""
        return _Line(self.text, self.facts, self.key, self.n, self.cjk, self.ends, self.kind, self.credit)


def _read_line(text: str) -> _Line:
    """Everything the rules below ask about a line, read once (furniture_kind, credit_line
    and the scores used to redo the same stripping and word splitting)."""
    facts = line_facts(text)
    if text.isascii():  # most lines: no CJK or Thai-like characters to count
        cjk = sea = 0
    else:
        cjk = len(_CJK.findall(text))
        sea = len(_SEA.findall(text)) if cjk == 0 else 0
    n = _count(len(facts.tokens), cjk, sea)
    ends = _ends(text)
    if sea and not ends:
        ends = n >= _SEA_PROSE_WORDS and len(facts.tokens) >= 3
    return _Line(
        text=text,
        facts=facts,
        key=_key(facts),
        n=n,
        cjk=cjk > 0 or sea > 0,
        ends=ends,
        kind=furniture_kind(text, facts),
        credit=credit_line(text, facts),
    )


def line_key(line: str) -> str:
    """How a line is recognised again (on the same page or on other pages of a host)."""
    return _key(line_facts(line))


def _key(facts: LineFacts) -> str:
    """The words of the line's core, lower-cased. Where lower-casing maps each character to
    one character of the same kind (facts.lower is set, see line_facts), it keeps the words
    where they are, so the words already split can be joined and lower-cased at once."""
    if facts.lower is not None:
        return " ".join(facts.tokens).lower()
    return " ".join(words(facts.core.lower()))


def word_count(line: str) -> int:
    return _count(len(words(line)), len(_CJK.findall(line)), len(_SEA.findall(line)))


def _count(n_words: int, n_cjk: int, n_sea: int = 0) -> int:
    # CJK scripts do not separate words; ~2 characters make a word (Thai & co.: ~4).
    if not (n_cjk or n_sea):
        return n_words
    return max(n_words, n_cjk // 2 + n_sea // 4)


# The joint of a glued teaser: a word's end (3+ lower-case letters, so "McDonald",
# "MacBook", "iPhone" do not count) or a sentence end, then a capital, no space.
_GLUE = re.compile(r"([a-z]{3}|[0-9?!.’'”)])(?=[A-Z][a-z]*\b)")
# What every joint has: a capital right after one of those characters. Searching for the
# capital first is fast, and most lines have no such pair, so _GLUE never runs on them.
_GLUE_HINT = re.compile(r"[A-Z](?<=[a-z0-9?!.’'”)][A-Z])")


def is_glued_teaser(text: str) -> bool:
    """A teaser card rendered inline: a Title Case headline glued to its summary with no
    space ("...Student-AthleteA 24-year-old woman was..."). Brand names (iPhone, MacBook)
    also have inner capitals, hence the checks on both sides of the joint."""
    if not _GLUE_HINT.search(text):
        return False
    for m in _GLUE.finditer(text):
        hw = words(text[: m.end()])
        if len(hw) < 3 or _title_case_share(hw[-6:]) < 0.6:
            continue  # the headline side is not Title Case (most joints: "U.S.", "p.m.")
        tw = words(text[m.end() :])
        # the summary side reads as a sentence right after the joint ("A party of six
        # left..."), unlike a brand name inside a headline ("HomeKit Entry Sensor")
        if len(tw) >= 5 and _title_case_share(tw[:12]) < 0.5 and _title_case_share(tw[1:4]) <= 0.34:
            return True
    return False


def _title_case_share(tokens: list[str]) -> float:
    alpha = [t for t in tokens if t[0].isalpha()]
    if not alpha:
        return 0.0
    return sum(1 for t in alpha if t[0].isupper()) / len(alpha)


# Function characters of Chinese (particles, pronouns, prepositions) and the kana Japanese
# writes its particles and endings in: running prose has them, headlines and labels
# (telegraphic: "台风逼近东南沿海 多地停课停航") have few.
_CJK_FUNCTION = re.compile(
    "[的了是在和有也就都而及与與着著或被把之其这這那为為对對从從以于於将將到说說並并但\u3040-\u309f]"
)


def _cjk_function_share(text: str) -> float:
    """Share of function characters among the CJK characters of a line (the CJK and
    Thai-like lines' counterpart of stopword_ratio). Thai & co. have none: their long lines
    count as prose through their length (_read_line)."""
    n = len(_CJK.findall(text))
    if not n:
        return 0.3 if _SEA.search(text) else 0.0
    return 2.5 * len(_CJK_FUNCTION.findall(text)) / n


def _menu_label(tokens: list[str]) -> bool:
    """Title Case (or, in a script without letter case, one to three words). One pass over
    the tokens: this runs on every short line of every page."""
    alpha = upper = cased = 0
    for t in tokens:
        c = t[0]
        if c.isalpha():
            alpha += 1
            if c.isupper():
                upper += 1
                cased += 1
            elif c.islower() or c.lower() != c.upper():
                cased += 1
    if alpha and not cased:  # a caseless script
        return alpha <= 3
    return alpha > 0 and upper / alpha >= 0.7


def _score(ln: _Line) -> float:
    """Evidence that the line belongs to the article (+) or to the furniture (-)."""
    if ln.kind == "ad":
        # Ad slots sit between an article's paragraphs: dropped, but no reason to end
        # the article there.
        return -0.5
    if ln.credit is not None or ln.kind is not None or ln.known:
        return -6.0
    ends, cjk = ln.ends, ln.cjk
    if ln.n >= 8 and is_glued_teaser(ln.text.strip()):
        return -4.0
    if ln.repeats > 1 and ln.n < REPEAT_MAX_WORDS:
        # The same line twice on one page: a rail or a menu shown twice (desktop/mobile).
        return -2.0
    if ln.n >= 10 and (ends or (_cjk_function_share(ln.text) if cjk else stopword_ratio(ln.facts.tokens)) >= 0.12):
        return ln.n * (1.0 if ends else UNTERMINATED)
    if ln.n >= 5 and ends:
        return ln.n * 0.5
    # Short lines: menus and link lists are runs of short Title Case labels; an article's
    # own short lines (subheadings, list items, "Meal 1") are fewer and cost less. Scripts
    # without letter case (Arabic, Hebrew, Indic, ...) cannot show Title Case: there a
    # label of one to three words is the menu shape.
    menu = ln.n <= 6 and not ends and not cjk and _menu_label(ln.facts.tokens)
    return -2.5 if menu else -1.0


def _lift_lists(lines: list[_Line]) -> None:
    """A prose line ending in ':' introduces a list; its short items are article text,
    not a menu, up to the first furniture line."""
    i = 0
    while i < len(lines):
        ln = lines[i]
        after_prose = i > 0 and lines[i - 1].score > 0 and lines[i - 1].n >= 10
        i += 1
        if not ln.text.rstrip().endswith(":") or ln.kind is not None:
            continue
        if ln.score <= 0 and not (after_prose and ln.n >= 3):
            continue
        ln.score = max(ln.score, LIST_ITEM)
        while (
            i < len(lines)
            and lines[i].kind is None
            and lines[i].credit is None
            and not lines[i].known
            and lines[i].score < 0
            and lines[i].repeats <= 1
        ):
            lines[i].score = LIST_ITEM
            i += 1


# The separators of a table row or list entry rendered as text ("June 9 – Tampa, FL @
# Arena", "England (Group A): 10th appearance", "1a etapa: 10 de março – Interlagos").
_ROW_SEPARATORS = re.compile(r"[–—:@|(/\t]|\s-\s")


def _row_shape(ln: _Line) -> str | None:
    """The separators of a line in order, when it can be a row of a list (a few words,
    no furniture, at least one separator)."""
    if ln.kind is not None or ln.credit is not None or not 3 <= ln.n <= ROW_MAX_WORDS:
        return None
    shape = "".join(m.group().strip() or "-" for m in _ROW_SEPARATORS.finditer(ln.text.strip()))
    return shape[:ROW_SHAPE_CHARS] or None


def _lift_rows(lines: list[_Line]) -> None:
    """A list that closes the article (tour dates, fixtures, a group table): ROWS_MIN lines
    or more in a row with the same separators, right after the article's last paragraph
    (or its heading). Menus and rails have no separators inside their labels, or not the
    same ones line after line."""
    n = len(lines)
    # where a list can start: a paragraph followed by a short line (most lines are no
    # paragraph, or a paragraph followed by another)
    starts = [
        i
        for i, (ln, nxt) in enumerate(zip(lines[: n - ROWS_MIN], lines[1:]))
        if ln.ends and nxt.n <= ROW_MAX_WORDS and ln.n >= 10 and ln.score > 0 and not (nxt.ends and nxt.n >= 10)
    ]
    done = 0
    for i in starts:
        if i < done:
            continue
        j = i + 1
        shape = _row_shape(lines[j])
        if shape is None and lines[j].kind is None and not lines[j].ends:
            j += 1  # the list's heading ("The Doobie Brothers Tour Dates")
            shape = _row_shape(lines[j])
        if lines[j].repeats > 1:
            shape = None
        k = j + 1
        while shape is not None and k < n and lines[k].repeats <= 1 and _row_shape(lines[k]) == shape:
            k += 1
        if shape is not None and k - j >= ROWS_MIN:
            for ln in lines[i + 1 : k]:
                ln.score = max(ln.score, LIST_ITEM)
            done = k


ROWS_MIN = 5  # rows in a row make a list
ROW_MAX_WORDS = 25  # a longer line is a paragraph
ROW_SHAPE_CHARS = 2  # rows agree on their first separators


# A character outside Latin letters and general punctuation/currency signs: only a line with
# one can be in one of language.SCRIPT_CHARS' scripts (all above U+0370, none in U+2000-U+20CF),
# so page_script needs to run on it only (accented Latin prose is most of the non-ASCII lines).
_OTHER_SCRIPT = re.compile("[^\u0000-\u024f\u2000-\u20cf]")


def _damp_foreign(lines: list[_Line]) -> None:
    """A page whose prose is in a non-Latin script (Urdu, Hindi, Chinese, ...) often has
    its menus, widgets and comment forms in another language (an English menu, a
    template's German comment form): a line with letters but none of the prose's script is
    furniture there. Pages whose prose is Latin are left alone (a Latin-script article
    quotes other scripts, and its furniture is mostly Latin anyway)."""
    if all(ln.text.isascii() for ln in lines):
        return
    weight: Counter[str | None] = Counter()
    for ln in lines:
        if ln.score > 0:
            weight[None if not _OTHER_SCRIPT.search(ln.text) else page_script(ln.text)] += ln.score
    script = max(weight, key=weight.__getitem__) if weight else None
    if script is None:
        return
    own = SCRIPT_CHARS[script]
    for ln in lines:
        if ln.score > -1.0 and not own.search(ln.text) and any(c.isalpha() for c in ln.text):
            ln.score = -1.0


def _damp_headline_runs(lines: list[_Line]) -> None:
    """Rails of teasers are runs of headline-shaped lines: several words, no sentence end.
    An article's own unterminated lines (subheadings, a dek) come one at a time."""
    run: list[_Line] = []
    for ln in lines + [None]:  # type: ignore[list-item]
        headline = ln is not None and ln.kind is None and ln.n >= 6 and not ln.ends
        if headline:
            run.append(ln)
            continue
        if len(run) >= HEADLINE_RUN:
            for h in run:
                h.score = min(h.score, -1.0)
        run = []


def _damp_isolated(lines: list[_Line]) -> None:
    """A paragraph with no paragraph next to it is a teaser card's lede more often than
    an article's; an article's paragraphs come in runs."""
    prose = [ln.score > 0 and ln.n >= 10 for ln in lines]
    for i, ln in enumerate(lines):
        if not prose[i]:
            continue
        j = i - 1
        while j >= 0 and lines[j].kind is not None:  # ad markers inside an article
            j -= 1
        k = i + 1
        while k < len(lines) and lines[k].kind is not None:
            k += 1
        if not ((j >= 0 and prose[j]) or (k < len(lines) and prose[k])):
            ln.score *= ISOLATED


def _mark_rail_items(lines: list[_Line]) -> None:
    """A rail header ("Related", "Read more") introduces headlines: the lines under it that
    have no sentence end, up to the first sentence, are links even inside the article
    (a "Related" box between two paragraphs)."""
    for i, ln in enumerate(lines):
        if ln.kind != "nav" or not is_rail_header(ln.text):
            continue
        for later in lines[i + 1 : i + 1 + RAIL_ITEMS_MAX]:
            if later.ends or later.kind is not None or later.n < 3:
                break
            later.rail = True


RAIL_ITEMS_MAX = 8  # headlines under one rail header


def _damp_rails(lines: list[_Line]) -> None:
    """Prose after a rail header ("Related Stories") that follows the article counts less:
    it is the rail's teasers. A rail box inside the article (a header, a few headlines,
    then the article's paragraphs again) does not end the article (RAIL_RESUME)."""
    prose = 0.0
    for i, ln in enumerate(lines):
        if prose >= _MIN_PROSE_BEFORE_COMMENTS and ln.kind == "nav" and is_rail_header(ln.text):
            if RAIL_RESUME and _prose_resumes(lines, i + 1):
                continue
            for later in lines[i + 1 :]:
                if later.score > 0:
                    later.score *= RAIL_DAMP
            return
        prose += max(ln.score, 0.0)


def _prose_resumes(lines: list[_Line], i: int) -> bool:
    """Whether the article's paragraphs go on after the rail box starting at ``i``: past
    its headlines (no sentence end, up to RAIL_ITEMS_MAX) and furniture (captions, ads),
    RESUME_PARAS paragraphs in a row. A rail of teasers has one summary sentence per
    headline at most, never several paragraphs in a row."""
    items = 0
    while i < len(lines) and (lines[i].kind is not None or lines[i].credit is not None or not lines[i].ends):
        if lines[i].kind is None and lines[i].credit is None:
            items += 1
            if items > RAIL_ITEMS_MAX:
                return False
        i += 1
    run = lines[i : i + RESUME_PARAS]
    return len(run) == RESUME_PARAS and all(
        ln.kind is None and ln.credit is None and ln.ends and ln.n >= 10 and ln.score > 0 for ln in run
    )


RESUME_PARAS = 2  # paragraphs in a row after a rail box: the article goes on


def _damp_comments(lines: list[_Line]) -> None:
    """Reader comments are prose too; after the first comment-section marker that follows
    a real amount of article prose, nothing counts for the article any more."""
    prose = 0.0
    for i, ln in enumerate(lines):
        if prose >= _MIN_PROSE_BEFORE_COMMENTS and (
            is_comment_marker(ln.text, ln.facts) or (THOUGHTS_ON and _THOUGHTS_ON.match(ln.text))
        ):
            for later in lines[i:]:
                later.score = min(later.score, -1.0)
            return
        prose += max(ln.score, 0.0)


# "12 thoughts on “Title”", "3 Responses to Title", "5 comments on": a comment section's
# heading (is_comment_marker knows the bare "12 comments").
_THOUGHTS_ON = re.compile(
    r"^\s*\d+\s+(thoughts?|comments?|responses?|replies|reactions?|kommentare?|commentaires?|comentarios?)"
    r"\s+(on|to|zu|sur|sobre|en)\b",
    re.IGNORECASE,
)


def _damp_teaser_pairs(lines: list[_Line]) -> None:
    """A rail of teasers after the article, rendered as headline + summary pairs: a
    headline-shaped line (several words, no sentence end) then one short sentence, three
    pairs or more in a row. An article's subheadings have paragraphs, not one-liners,
    under them, and the rule only starts after a real amount of article prose."""
    prose, i = 0.0, 0
    while i < len(lines):
        if prose < _MIN_PROSE_BEFORE_COMMENTS:
            prose += max(lines[i].score, 0.0)
            i += 1
            continue
        j = i
        while j + 1 < len(lines) and _teaser_head(lines[j]) and _teaser_summary(lines[j + 1]):
            j += 2
        if (j - i) // 2 >= TEASER_MIN:
            for ln in lines[i:j]:
                ln.score = min(ln.score, -1.0)
            i = j
        else:
            i += 1


TEASER_GAP_WORDS = 35  # a teaser's summary is one short sentence
TEASER_MIN = 3  # pairs in a row


def _teaser_head(ln: _Line) -> bool:
    return ln.kind is None and 5 <= ln.n <= 25 and not ln.ends


def _teaser_summary(ln: _Line) -> bool:
    return ln.kind is None and 5 <= ln.n < TEASER_GAP_WORDS and ln.ends


# A sentence end right after a word (not an initial or "U.S."), then what follows it.
_STOP = re.compile(r"(?<=[a-z0-9%)\]\"”’])[.!?…][\"”’)]*")
_CREDIT_LEAD = re.compile(r"^(credit|photo|image|foto|bild|source|quelle)s?\s*(\.\.\.|…|:)\s*", re.IGNORECASE)
_CREDIT_PAREN = re.compile(
    r"^\((?:(?:photo|image|picture|foto|bild|credit|courtesy|getty|ap|afp|reuters|epa)\b[^()]{0,80}|"
    r"[^()\s]{2,40}/[^()]{1,60})\)?$",
    re.IGNORECASE,
)


def _credited(text: str) -> bool:
    """A photo caption as a page of text shows it: a sentence with the photo's credit
    after it, glued or spaced ("...last week.Credit...Anna Moneymaker/The New York Times",
    "...on July 25.J. Scott Applewhite / AP file", "...the drug. Getty",
    "...Titan. (NASA/JPL-Caltech/ASU)"): a short Title Case name with no sentence end of
    its own after the last sentence end. Prose ends with its sentence."""
    t = text.rstrip()
    if not t or _ends(t) and not t.endswith(")"):
        return False
    stops = list(_STOP.finditer(t))
    for m in reversed(stops[-3:]):
        tail = _CREDIT_LEAD.sub("", t[m.end() :].strip())
        head_words = len(words(t[: m.start()]))
        if head_words < 6 or not tail:
            continue
        if tail.startswith("("):
            return bool(_CREDIT_PAREN.match(tail))
        toks = [w for w in words(tail) if w[0].isalpha()]
        if not toks or len(words(tail)) > 7:
            return False
        lower = sum(1 for w in toks if not w[0].isupper())
        return lower <= 1 and toks[0][0].isupper()
    return False


# A bio closing an article: "Phil Helsel is a reporter for NBC News.", "Jeff Foust
# (jeff@...) is the editor of ...", "Ascom is a global solutions provider ...", or an
# "About Jane Doe" heading ("Über", "Sobre", "À propos de", ...).
_BIO = re.compile(
    r"^(?:[A-Z][\w'’-]+\s+){1,2}[A-Z][\w'’-]+(?:\s+\([^)]{1,80}\))?\s+is\s+(?:a|an|the|[A-Z][\w'’.-]*['’]s)\s"
)
_ABOUT = re.compile(
    r"^(about|über|sobre|à propos de|a propos de|acerca de|o autorze|over|informazioni su|chi è)\s+"
    r"(the author|(?-i:[A-Z])[\w'’.-]*(\s+(?-i:[A-Z])[\w'’.-]*){0,3})\s*:?$",
    re.IGNORECASE,
)


def _bio_start(lines: list[_Line], start: int, end: int) -> int:
    """Where a closing bio starts among the block's last lines (end when there is none)."""
    for i in range(max(start + 1, end - BIO_TAIL_LINES), end):
        t = lines[i].text.strip()
        if _ABOUT.match(t) or _BIO.match(t):
            return i
    return end


def _trim_head(lines: list[_Line], start: int, end: int) -> int:
    """Past the headline, standfirst label, byline and date lines at the top of the block:
    lines before the first paragraph that have no sentence end or only a few words (the
    title is the page's metadata, as on the HTML path)."""
    first = next((i for i in range(start, end) if lines[i].ends and lines[i].n >= 10 and lines[i].score > 0), None)
    if first is None or first - start > HEAD_TRIM_MAX:
        return start
    while start < first and (not lines[start].ends or lines[start].n < 5):
        ln = lines[start]
        if ln.n >= DEK_WORDS and (ln.cjk or _title_case_share(ln.facts.tokens) < 0.5):
            # a standfirst in sentence case ("The first talks ... come amid pessimism"), or a
            # paragraph of a script that may have no sentence end (Thai): the story's own
            break
        start += 1
    return start


# Newsletter and subscription prompts and affiliate-commission notices: sentences with
# an end, so the shared cta rule (short lines without one) lets them through.
_PROMO = re.compile(
    r"\b(newsletters?|subscribe|sign up|inbox|delivered (to your|weekday|daily|every)|"
    r"(earn|receive|get) an? (small |affiliate )?commission|affiliate (commission|links?)|"
    r"share of the sale|(abonnieren|abonnez|suscríbete|iscriviti)\b)",
    re.IGNORECASE,
)
# Every _PROMO/_PROMO_LABEL hit holds one of these (lower-cased).
_PROMO_HINTS = ("newsletter", "subscri", "sign up", "inbox", "deliver", "commission", "affiliate", "share of")
_PROMO_HINTS += ("abonn", "suscr", "iscriv", "mail", "alert")
_PROMO_LABEL = re.compile(r"^([A-Z][\w'’-]*\s+){0,3}(e-?mails|newsletters?|alerts)$", re.IGNORECASE)
_SHARE_GLUED = re.compile(r"(share (on|to|via) \w+.*){2,}|\bsharing buttons$", re.IGNORECASE)


def _in_block_kind(ln: _Line) -> str | None:
    """Furniture that the shared rules let through and that a text page shows inside the
    article's block."""
    if ln.rail:
        return "rail"
    if ln.n > PROMO_WORDS and ln.ends and not ln.text.endswith(")"):
        return None  # a paragraph: none of the rules below can hold (the common case)
    t = ln.text.strip()
    if CAPTION_TAIL and ln.n >= 7 and _credited(t):
        return "caption"
    if ln.n > PROMO_WORDS:
        return None
    low = t.lower()  # the substring hints are much cheaper than the case-blind patterns
    if PROMO and any(h in low for h in _PROMO_HINTS) and (_PROMO.search(t) or (ln.n <= 4 and _PROMO_LABEL.match(t))):
        return "cta"
    if SHARE_GLUE and ln.n <= 30 and "shar" in low and _SHARE_GLUED.search(t):
        return "cta"
    return None


PROMO_WORDS = 35  # longer lines that mention a newsletter are the article's


def _best_segment(scores: list[float]) -> tuple[int, int]:
    """[start, end) of the maximum-sum contiguous run (Kadane)."""
    best, best_span = float("-inf"), (0, 0)
    run, start = 0.0, 0
    for i, s in enumerate(scores):
        if run <= 0:
            run, start = s, i
        else:
            run += s
        if run > best:
            best, best_span = run, (start, i + 1)
    return best_span


def clean_lines(text: str, *, is_known: Callable[[str], bool] | None = None, select_block: bool = True) -> TextResult:
    """Clean a page of text. ``is_known(key)`` says whether the host profile knows a line.

    ``select_block=False`` skips the block scan (for text that an HTML extractor already
    cut down to the article) and only applies the line rules.
    """
    raw = [ln.rstrip() for ln in text.splitlines()]
    raw = [ln for ln in raw if ln.strip()]
    # Pages repeat lines (menus, rails, a footer twice): each distinct line is read once.
    read: dict[str, _Line] = {}
    lines: list[_Line] = []
    for text_line in raw:
        seen = read.get(text_line)
        if seen is None:
            read[text_line] = seen = _read_line(text_line)
            lines.append(seen)
        else:
            lines.append(seen.again())
    counts = Counter(ln.key for ln in lines if ln.key)
    for ln in lines:
        ln.repeats = counts[ln.key] if ln.key else 0
        ln.known = bool(is_known and ln.key and is_known(ln.key))
    if select_block:  # the scores only choose the block: without one, no line needs its score
        for ln in lines:
            ln.score = _score(ln)
        _damp_foreign(lines)
        _damp_headline_runs(lines)
        if TEASER_PAIRS:
            _damp_teaser_pairs(lines)
        _lift_lists(lines)
        if LIST_ROWS:
            _lift_rows(lines)
        _damp_isolated(lines)
        _damp_rails(lines)
        _damp_comments(lines)
        if RAIL_ITEMS:
            _mark_rail_items(lines)
    start, end = _best_segment([ln.score for ln in lines]) if select_block else (0, len(lines))
    dropped: Counter[str] = Counter()
    dropped["outside-block"] = len(lines) - (end - start)
    if select_block and end > start:
        if HEAD_TRIM:
            head = _trim_head(lines, start, end)
            dropped["head"], start = head - start, head
        if BIO_TAIL:
            bio = _bio_start(lines, start, end)
            dropped["bio"], end = end - bio, bio
    kept: list[str] = []
    credits = [ln.credit for ln in lines if ln.credit is not None]
    for ln in lines[start:end]:
        reason = _drop_reason(ln, in_block=select_block)
        if reason:
            dropped[reason] += 1
        else:
            kept.append(ln.text.strip())
    return TextResult(lines=tuple(kept), credits=tuple(credits), dropped={k: v for k, v in dropped.items() if v})


def _drop_reason(ln: _Line, *, in_block: bool) -> str | None:
    if ln.credit is not None:
        return "credit"
    if ln.kind is not None:
        return ln.kind
    if ln.known:
        return "profile"
    if in_block and (kind := _in_block_kind(ln)):
        return kind
    if in_block and ln.repeats > 1 and ln.n < REPEAT_MAX_WORDS:
        # A short line that recurs on a page of text is a menu or a rail shown twice; in
        # an extractor's output (HTML path) repeats are the article's own (recipes, lists).
        return "repeated"
    return None
