"""The line cleaner's shortcuts give the answers of the plain definitions they replace.

core() strips with str.lstrip/rstrip instead of a regex, case-insensitive rules get a
pre-check on the lower-cased line, credit lines a combined anchored pre-check, line keys
reuse the words already split, guess_language counts distinct tokens. Each test below
compares a shortcut with the definition it stands for.
"""

from __future__ import annotations

import re
import sys
from collections import Counter

import pytest

from wiredesk.extractors import furniture as F
from wiredesk.extractors.language import STOPWORDS, guess_language, stopword_ratio
from wiredesk.extractors.text import clean_lines, is_glued_teaser, line_key

# The definition core() had: a regex substitution.
_STRIP = re.compile(r"^[\s\-–—•·*|>»«›‹▸►▶◆■□●○#:]+|[\s\-–—•·*|<»«›‹:]+$")

LINES = [
    "",
    " ",
    "- Advertisement -",
    "•••",
    "» Related Stories «",
    "<< Back",
    "Read more >>",
    "\u3000Ｔｏｋｙｏ\u3000",
    "\xa0Share\x85",
    "# Title #:",
    "::",
    "a",
    "-–—•·*|>»«›‹▸►▶◆■□●○#:x<:",
    "x\n",
    ": abc -\n",
    "Photo: Getty Images",
    "PHOTO: REUTERS/Jane Doe",
    "(AP Photo/David Zalubowski)",
    "© 2024 Example Media GmbH. Alle Rechte vorbehalten.",
    "ALL RIGHTS RESERVED",
    "SIGN UP FOR OUR NEWSLETTER",
    "Sign up for our daily newsletter",
    "Tags: politics, economy",
    "Follow us on Twitter",
    "Click to share on Twitter (Opens in new window)",
    "November 19, 2019 at 6:34 am",
    "19.11.2019, 14:05 Uhr",
    "MÄRZ 3, 2021",
    "By Jane Doe | Reuters",
    "34 Comments",
    "joe says:",
    "Leave a Reply",
    "More Politics",
    "more politics",
    "MORE FROM CNN",
    "The advertisement campaign ran for six weeks before regulators intervened.",
    # characters whose case folding in re differs from str.lower()
    "İSTANBUL HABERLERİ",
    "Photo: İstanbul Belediyesi",
    "ſign up for our newsletter",
    "ALL RİGHTS RESERVED",
    "all rıghts reserved",
    "ΣΧΟΛΙΑ",
    "Ꮇore ſtories",
    "ᲃᲄᲂ",
    "Читайте также",
    "ЧИТАЙТЕ ТАКЖЕ",
    "Kelvin sign: 5 \u212a",
    "Straße gesperrt, sagte der Minister.",
    "STRASSE",
    "ÜBER UNS",
    "Über uns",
]


def test_core_strips_what_the_regex_stripped() -> None:
    extra = ["".join(chr(c) for c in range(0x2000, 0x2010)) + "x" + "\u3000\u205f"]
    for line in LINES + extra:
        assert F.core(line) == _STRIP.sub("", line).strip(), repr(line)


def test_core_knows_every_whitespace_character() -> None:
    spaces = {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    assert spaces <= set(F._LEAD) and spaces <= set(F._TAIL)
    assert all(re.match(r"\s", ch) for ch in spaces)


def test_core_strips_no_word_characters() -> None:
    """So words(line) == words(core(line)), which LineFacts.tokens relies on."""
    for ch in set(F._LEAD) | set(F._TAIL):
        assert not re.match(r"\w", ch), repr(ch)


FOLDED = [rule for rule in vars(F).values() if isinstance(rule, F._Folded)]


def test_the_rules_have_pre_checks() -> None:
    assert len(FOLDED) >= 12


def _outside_case_sensitive_parts(pattern: str) -> str:
    """The pattern without escapes and without its (?-i:...) groups."""
    pattern = re.sub(r"\\.", "", pattern)
    out, depth = [], 0
    i = 0
    while i < len(pattern):
        if depth == 0 and pattern.startswith("(?-i:", i):
            depth, i = 1, i + 5
            continue
        ch = pattern[i]
        if depth:
            depth += {"(": 1, ")": -1}.get(ch, 0)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


@pytest.mark.parametrize("rule", FOLDED, ids=lambda r: r.rx.pattern[:30])
def test_pre_checked_patterns_are_written_in_lower_case(rule: F._Folded) -> None:
    assert rule.rx.flags & re.IGNORECASE
    letters = _outside_case_sensitive_parts(rule.rx.pattern)
    assert letters == letters.lower()


def test_unsafe_characters_cover_every_case_folding_disagreement() -> None:
    """For every other character x, a pattern letter p that re matches case-insensitively
    against x is x.lower(), and x.lower() is one character of the same kind (word, space,
    digit): then the pre-check matches wherever the pattern does."""
    unsafe = set(F._UNSAFE_CASE.findall("".join(map(chr, range(sys.maxunicode + 1)))))
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    letters = set()
    for rule in FOLDED:
        letters |= set(re.sub(r"\\.", "", rule.rx.pattern).replace("A-Z", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    letters |= set("abcdefghijklmnopqrstuvwxyz")  # [a-z] ranges, \w
    for p in letters:
        for x in set(re.findall(re.escape(p), everything, re.IGNORECASE)):
            assert x in unsafe or x.lower() == p.lower(), (p, x)
    kinds = [re.compile(r"\w"), re.compile(r"\s"), re.compile(r"\d")]
    for x in everything:
        low = x.lower()
        if low != x and x not in unsafe:
            assert len(low) == 1, repr(x)
            assert all(bool(k.match(x)) == bool(k.match(low)) for k in kinds), repr(x)


@pytest.mark.parametrize("rule", FOLDED, ids=lambda r: r.rx.pattern[:30])
def test_pre_check_never_hides_a_match(rule: F._Folded) -> None:
    for line in LINES:
        f = F.line_facts(line)
        c = f.core
        assert bool(rule.search(c, f.lower)) == bool(rule.rx.search(c)), (rule.rx.pattern[:30], line)
        assert bool(rule.match(c, f.lower)) == bool(rule.rx.match(c)), (rule.rx.pattern[:30], line)


def test_unsafe_lines_skip_the_pre_check() -> None:
    assert F.line_facts("ALL RİGHTS RESERVED").lower is None
    assert F.line_facts("Σχόλια").lower is None
    assert F.line_facts("Alle Rechte vorbehalten").lower == "alle rechte vorbehalten"
    # re matches "ı" to "i": the line is still legal text, the pre-check must not say no
    assert F.furniture_kind("all rıghts reserved by the publisher of this page") == "legal"


CREDITS = [
    "Read the original article on Business Insider",
    "This article originally appeared on Example.com.",
    "The post Ten things to know appeared first on The Daily Planet.",
    "Source link",
    "SOURCE: Reuters",
    "Originally published at example.org",
    "Der Artikel erschien zuerst bei Tagesspiegel.",
    "Cet article a été initialement publié sur Le Monde.",
    "via: https://example.com/a",
    "Read the full story",
    "Sources say the deal is close.",
    "Reprinted with permission from The Times.",
]


def test_combined_credit_pre_check_matches_when_any_pattern_does() -> None:
    for line in CREDITS + LINES:
        c = F.core(line)
        assert bool(F._ANY_CREDIT.match(c)) == any(rx.match(c) for rx in F._CREDIT_RE), line


def test_line_key_is_the_lower_cased_words_of_the_core() -> None:
    for line in LINES + CREDITS + ["ΟΔΟΣ'Α", "Ἀθῆναι ΟΔΟΣ", "İzmir'de", "ǅemal Bijedić"]:
        assert line_key(line) == " ".join(F.words(F.core(line).lower())), line


def test_glued_teaser_still_found() -> None:
    assert is_glued_teaser(
        "Police Arrest Former College Student-AthleteA 24-year-old woman was "
        "arrested on Tuesday after a long investigation"
    )
    assert not is_glued_teaser("The U.S. economy grew in the third quarter, officials said.")


def _reference_guess(text: str, min_hits: int = 8) -> str | None:
    """guess_language as first written: each token against each language's set."""
    counts = dict.fromkeys(STOPWORDS, 0)
    for token in re.findall(r"\w+", text[:20_000].lower()):
        for lang, words in STOPWORDS.items():
            if token in words:
                counts[lang] += 1
    best = max(counts, key=counts.__getitem__)
    ranked = sorted(counts.values(), reverse=True)
    if ranked[0] < min_hits or ranked[0] < 1.5 * ranked[1]:
        return None
    return best


@pytest.mark.parametrize(
    "text",
    [
        "The cat sat on the mat and the dog was in the house with the owner, who said it was fine.",
        "Der Hund ist in dem Haus und die Katze ist auf dem Dach, sagte er, aber nicht für lange.",
        "de la de la de la de la en en en en",  # shared function words, ties
        "",
        "Le chat est sur la table et le chien est dans la maison avec les enfants pour le jeu.",
    ],
)
def test_guess_language_counts_like_before(text: str) -> None:
    for min_hits in (1, 3, 8):
        assert guess_language(text, min_hits=min_hits) == _reference_guess(text, min_hits)


def test_stopword_ratio() -> None:
    tokens = ["The", "cat", "OF", "der", "Haus", "und"]
    assert stopword_ratio(tokens) == 4 / 6
    assert stopword_ratio([]) == 0.0


def test_repeated_lines_are_counted_per_occurrence() -> None:
    page = "\n".join(
        ["Home", "News", "Home", "News"]
        + ["The council approved the budget on Tuesday after a long debate about the schools."] * 2
    )
    out = clean_lines(page, select_block=False)
    assert out.dropped.get("nav") == 2 and Counter(out.lines) == Counter(
        {"News": 2, "The council approved the budget on Tuesday after a long debate about the schools.": 2}
    )


# --- hints: substrings one of which every match of a pre-check contains ------------------
_SEP = "\0"  # stands for any stretch the analysis cannot spell out (a class, a repeat)


def _skeletons(items, limit: int = 4096) -> set[str]:
    """What every string matched by a parsed pattern spells out literally, one string per
    way through its alternatives: literal runs, with _SEP where the pattern matches
    something not spelled out. Zero-width assertions (\\b, ^, $) add nothing."""
    from re import _constants as C  # noqa: PLC0415
    from re import _parser  # noqa: PLC0415, F401 (parsed items come from it)

    out = {""}
    for op, av in items:
        if op is C.LITERAL:
            alts = {chr(av)}
        elif op is C.AT:
            alts = {""}
        elif op is C.IN and len(av) <= 4 and all(o is C.LITERAL for o, _ in av):
            alts = {chr(v) for _, v in av}  # [:©]
        elif op is C.SUBPATTERN:
            _group, add_flags, _del_flags, inner = av
            alts = {_SEP} if add_flags & re.IGNORECASE else _skeletons(inner, limit)
        elif op is C.BRANCH:
            alts = set().union(*(_skeletons(b, limit) for b in av[1]))
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
            lo, hi, inner = av
            if (lo, hi) == (0, 1):
                alts = {""} | _skeletons(inner, limit)
            elif lo >= 1:
                alts = {_SEP + s + _SEP for s in _skeletons(inner, limit)}
            else:
                alts = {_SEP}
        else:
            alts = {_SEP}
        out = {a + b for a in out for b in alts}
        assert len(out) <= limit, "too many ways through the pattern to check"
    return out


HINTED = [rule for rule in FOLDED if rule.hints]


def test_some_rules_have_hints() -> None:
    assert len(HINTED) >= 4


@pytest.mark.parametrize("rule", HINTED, ids=lambda r: r.rx.pattern[:30])
def test_every_match_of_a_hinted_pre_check_holds_a_hint(rule: F._Folded) -> None:
    from re import _parser  # noqa: PLC0415

    for skeleton in _skeletons(_parser.parse(rule.pre.pattern, rule.pre.flags)):
        assert any(h in part for part in skeleton.split(_SEP) for h in rule.hints), (rule.rx.pattern[:30], skeleton)


def test_the_skeleton_check_can_fail() -> None:
    from re import _parser  # noqa: PLC0415

    sk = _skeletons(_parser.parse(r"\bthis (web)?site|[a-z]+ of|ab(c|d)e"))
    assert sk == {"this site", "this website", _SEP * 3 + " of", "abce", "abde"}
    assert not any("this site" in s for s in ("this website", "this" + _SEP + "site"))


HINT_LINES = [
    "(AP Photo/David Zalubowski)",
    "Ein Bild. Foto: Max Muster",
    "fot. Jan Kowalski",
    "© Reuters",
    "A shopper in Berlin. Getty Images",
    "The scene on Monday. REUTERS/Jane Doe",
    "Protesters outside. dpa",
    "05/10/2018 - Publicado por: Ana - Categoria: Brasil",
    "Filed under： Politics",
    "Alle Rechte vorbehalten.",
    "Tous droits réservés",
    "Todos los derechos reservados",
    "Example is a registered trademark of Example Inc.",
    "The information provided on this website is for general purposes only.",
    "This site uses cookies to improve your experience.",
    "These statements have not been evaluated by the Food and Drug Administration.",
    "If you enjoyed this article, please share it.",
    "For your personal, non-commercial use only.",
    "Follow AP's full coverage of the elections.",
    "Follow Jane Doe on Twitter for more updates on the trial.",
    "Follow janedoe on Instagram",
    "Sign up for our weekly newsletter",
    "Share this with your friends",
    "Like this story?",
    "Our apps for iOS and Android",
    "Write a letter to the editor",
    "Please log in",
    "To continue reading the full article",
    "The minister said the plan would go ahead next year.",
]


@pytest.mark.parametrize("rule", HINTED, ids=lambda r: r.rx.pattern[:30])
def test_hints_never_hide_a_match(rule: F._Folded) -> None:
    hits = 0
    for line in HINT_LINES + LINES:
        f = F.line_facts(line)
        assert bool(rule.search(f.core, f.lower)) == bool(rule.rx.search(f.core)), (rule.rx.pattern[:30], line)
        hits += bool(rule.rx.search(f.core))
    assert hits >= 2  # the lines exercise the rule
