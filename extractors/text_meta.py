"""Title, byline and date of a plain-text page (the fields HTML pages get from their markup).

A page of text, as a browser shows it, has the article's furniture in a fixed order just
above the story: the headline, then (in either order) a byline and a date line, then the
first paragraph. The line cleaner (``text.clean_lines``) already found where the story
starts, so the lines just above its first kept line are read back to front:

- a date line ("November 19, 2019", "Published 3 hours ago", "19.11.2019, 14:05 Uhr")
  gives ``published`` (ISO 8601 when the date can be read);
- a byline ("By Jane Doe", "Von Max Muster", "Par Jean Dupont | 19 nov. 2019") gives
  ``author`` and, when the byline carries one, the date;
- the nearest heading-like line (a few words, no sentence ending, not furniture) above
  them is the ``title``.

When the story's first line cannot be found in the page (nothing was kept) the first
heading-like line of the page is the title, with no byline or date. The window is short
on purpose: a byline five screens above the story is a teaser's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from urllib.parse import urlsplit

from .furniture import _BYLINE_LEAD, _BYLINE_TAIL, _DATETIME_LINE, _META_LINE, furniture_kind, line_facts, words
from .metadata import PageMeta
from .text import word_count

# How many non-empty lines above the story's first line are read (headline, standfirst,
# byline, date, a photo caption and credit fit in it; a menu's items do not count as
# headings, so they only use up the window).
WINDOW = 8
# Switches of the byline rules that reach further (bench/textpages_cv.py --meta).
MID_BYLINES = True  # "Posted 11. April 2018 by Name", "26. September 2019 Name"
FAR_BYLINES = True  # an explicit "By Name" line up to FAR_WINDOW lines above the story
FAR_WINDOW = 40
DATED_NAME_WORDS = 10
TITLE_MIN_WORDS, TITLE_MAX_WORDS = 2, 30
DATE_LINE_WORDS = 12  # a line this short that holds a readable date is a date line

# A line ending as a sentence does is no headline, in any script (a CJK or Urdu first
# paragraph taken for the title would be dropped from the body as its headline).
_SENTENCE_END = re.compile(r"[.:;,。．；：，、۔؛،।॥።]['\"”’»)\]」』）]*$")
_DATE_LABEL = re.compile(
    r"^(published|updated|posted|last updated|veröffentlicht|aktualisiert|publié( le)?|mis à jour( le)?|"
    r"publicado|actualizado|opublikowano|zaktualizowano|stand|date)\s*:?\s*(on\s+)?",
    re.IGNORECASE,
)
_HAS_DIGIT = re.compile(r"\d")
_AGO = re.compile(r"\bago\b|\bvor\b|\bil y a\b|\bhace\b", re.IGNORECASE)


def _heading_like(line: str) -> bool:
    toks = words(line)
    n = len(toks) if line.isascii() else word_count(line)  # scripts without spaces: by characters
    if not TITLE_MIN_WORDS <= n <= TITLE_MAX_WORDS or _SENTENCE_END.search(line):
        return False
    if line.isupper() or "@" in line or not line[0].isalnum() and line[0] not in "\"'“‘«„¿¡":
        return False  # "WORLD NEWS", "@handle", "• Share": labels and buttons
    if _BY_LEAD.match(line):
        return False  # "By Glen Owen And Brendan Carlin For The Mail On Sunday"
    if _HAS_DIGIT.search(line):
        if sum(1 for t in toks if t[0].isdigit()) * 2 >= len(toks):
            return False  # "Jan 04 09:34 2021", "030 20 25 11 11": dates, times, phone numbers
        if n <= 6 and parse_date(line):
            return False  # "Datum: 18.10.2021"
    return furniture_kind(line, line_facts(line)) is None and not _is_date_line(line) and _byline(line) is None


_BY_LEAD = re.compile(r"^(by|von|par|por)\s+(?-i:[A-Z])", re.IGNORECASE)
# A breadcrumb trail: "Startseite » Alle News » Title", "home / Betrieb / IT / Title".
_CRUMB = re.compile(r"\s+[»›>/|]\s+|\s*[»›]\s*")


def _crumb_tail(line: str) -> str:
    """The last step of a breadcrumb trail (the page's own title), or the line itself."""
    if not any(ch in line for ch in "»›>/|"):
        return line
    parts = _CRUMB.split(line)
    if len(parts) >= 3 and all(len(words(p)) <= 4 for p in parts[:-1]) and parts[-1].strip():
        return parts[-1].strip()
    return line


def _is_date_line(line: str) -> bool:
    if not _HAS_DIGIT.search(line) and not re.search(r"\b(yesterday|today|gestern|heute|hier)\b", line, re.I):
        return False
    return bool(_DATETIME_LINE.match(line.strip()) or _META_LINE.match(line.strip()))


_NAME_THEN_DATE = re.compile(
    r"^(?P<name>(?:[A-Z][\w.'’-]+\s){1,3}[A-Z][\w.'’-]+)\s*(?:[-–—|·•/,]|\s+on\s)\s*(?P<rest>.*\d.*)$"
)


def _byline(line: str) -> tuple[str, str | None] | None:
    """(author, rest after the name) of a byline, or None."""
    line = line.strip()
    if line[:3].lower() == "by " and len(words(line)) <= 12:
        line = "By " + line[3:]
    m = _BYLINE_LEAD.match(line)
    if not m:
        m2 = _NAME_THEN_DATE.match(line)
        if m2 and _is_date_line(m2.group("rest")):
            return m2.group("name"), m2.group("rest")
        return None
    parts = _BYLINE_TAIL.split(m.group(2), maxsplit=1)
    name = parts[0].strip()
    tokens = name.split()
    if not 0 < len(tokens) <= 6 or not all(
        t[0].isupper() or t.lower() in ("and", "und", "et", "y", "de", "van", "von") for t in tokens
    ):
        return None
    rest = m.group(2)[len(parts[0]) :].strip(" ,|·•–—-") or None
    return name, rest


# Bylines the strict reading above misses, as pages of text show them: a lower-case or
# prefixed lead ("von Sonia Mevißen Erstellt am 01.01.23", "Text von Christian Seiler
# Illustration von ..."), the lead alone on its line with the name on the next ("Von" /
# "Thomas Steinberg", "Kommentar von" / "Ingo Arzt"). A bare name line next to a date line
# was tried and left out: on rendered pages it was as often a heading as a name.
_LEAD_WORDS = r"(by|von|par|por|di|door|av|af|written by|posted by|geschrieben von|verfasst von)"
_LEAD_PREFIX = r"((text|kommentar|ein kommentar|beitrag|ein beitrag|artikel|bericht|analyse|interview|story|article|reportage)\s+)?"
_LEAD_ONLY = re.compile(rf"^{_LEAD_PREFIX}{_LEAD_WORDS}\s*:?$|^(autor|autorin|author|text|texte)\s*:$", re.IGNORECASE)
_LOOSE_LEAD = re.compile(rf"^{_LEAD_PREFIX}{_LEAD_WORDS}\s*:?\s+(?P<rest>.+)$", re.IGNORECASE)
_GLUED_BY = re.compile(r"^(By|Von)(?=[A-Z][a-z])")  # "ByAlex Bozarjian": a label glued to its name
_NAME_WORD = re.compile(r"^(?:[A-ZÀ-ÖØ-Þ][\w'’.-]*|[A-Z]\.)$")
_PARTICLES = {"van", "von", "de", "der", "den", "da", "di", "del", "la", "le", "du", "zu", "ten", "ter"}
_JOINERS = {"and", "und", "et", "y", "e", "&"}
_AFTER_NAME = {"on", "am", "le", "el", "il", "updated", "published", "veröffentlicht", "aktualisiert", "erstellt"}


def _name_prefix(text: str, *, whole: bool) -> str | None:
    """The person's name at the start of ``text``: two to five capitalised words (particles
    and one joiner allowed); with ``whole``, nothing but the name (and a comma) may follow."""
    out: list[str] = []
    for tok in text.replace(",", " , ").replace("@", " @ ").split():
        if tok in (",", "@") or tok.lower() in _AFTER_NAME:
            break
        if out and tok.lower() in _PARTICLES and sum(1 for t in out if t[0].isupper()) >= 2 and not whole:
            out.pop()  # "Hans Muster Illustration von ...": the word before "von" is a role
            break
        if _NAME_WORD.match(tok) and not tok.isupper() or (out and tok.lower() in _PARTICLES | _JOINERS):
            out.append(tok)
            if len(out) > 6:
                return None
            continue
        if whole:
            return None
        break
    while out and out[-1].lower() in _PARTICLES | _JOINERS:
        out.pop()
    if whole and len(text.replace(",", " , ").split()) > len(out) + 1:
        return None
    capitals = sum(1 for t in out if t[0].isupper())
    return " ".join(out) if 2 <= capitals and len(out) <= 6 else None


# A lead in the middle of a posting line: after a date or a posting verb ("Posted 11.
# April 2018 by Walter von Aachen", "8. Januar 2020 · by Aureliana · in Gefühle",
# "Geschrieben von Cooper am 25.08.2015", "Publicado por Alberto González").
_POSTED = re.compile(
    r"\b(posted|published|written|filed|veröffentlicht|geschrieben|gepostet|erstellt|verfasst|publicado|"
    r"publié|pubblicato|beitrag|artikel)\b",
    re.IGNORECASE,
)
_MID_HINT = re.compile(r"by|von|por|par|di|door", re.IGNORECASE)  # every _MID_LEAD hit holds one
_MID_LEAD = re.compile(r"(?:^|[\s·|,•–—-])(?:by|von|por|par|di|door)\s*:?\s+(?P<rest>\S.*)$", re.IGNORECASE)


def _mid_byline(line: str) -> str | None:
    """The name after a lead that follows a date or a posting verb on the same line."""
    if not _MID_HINT.search(line):
        return None  # most lines: no lead word at all
    m = _MID_LEAD.search(line)
    if not m or m.start() == 0:
        return None
    before = line[: m.start()]
    if not (_POSTED.search(before) or parse_date(before)):
        return None
    return _name_prefix(m.group("rest"), whole=False)


def _dated_name(line: str) -> str | None:
    """A name right after a date on a short line ("26. September 2019 Ulrike Stockhausen
    Schreibe einen Kommentar", "1. Februar 2022 , Daniel Dillenburg")."""
    line = line.lstrip(" ,|·•–—-")
    if not _HAS_DIGIT.search(line) or not (m := _ANY_DATE.match(line)) or len(words(line)) > DATED_NAME_WORDS:
        return None
    rest = line[m.end() :].strip(" ,|·•–—-")
    name = _name_prefix(rest, whole=False) if rest else None
    # what follows the name on such a line is a category or a button ("Kultur", "Schreibe
    # einen Kommentar"), capitalised in German: a first and a last name are taken
    return " ".join(name.split()[:2]) if name else None


def _loose_byline(window: list[str], k: int) -> tuple[str, str | None] | None:
    line = _GLUED_BY.sub("By ", window[k].strip())
    if len(words(line)) > 14:
        return None
    if MID_BYLINES and (name := _mid_byline(line) or _dated_name(line)):
        return name, line
    if m := _LOOSE_LEAD.match(line):
        name = _name_prefix(m.group("rest"), whole=False)
        return (name, m.group("rest")[len(name) :].strip(" ,|·•–—-") or None) if name else None
    if k > 0 and _LEAD_ONLY.match(window[k - 1].strip()):
        name = _name_prefix(line, whole=True)
        return (name, None) if name else None
    return None


_MONTH_NAMES = {
    1: "jan january januar janvier enero gennaio stycznia styczeń janeiro januari",
    2: "feb february februar février fevrier febrero febbraio lutego luty fevereiro februari",
    3: "mar march märz maerz mars marzo marca marzec março maart",
    4: "apr april avril abril aprile kwietnia kwiecień",
    5: "may mai mayo maggio maja maj maio mei",
    6: "jun june juni juin junio giugno czerwca czerwiec junho",
    7: "jul july juli juillet julio luglio lipca lipiec julho",
    8: "aug august août aout agosto sierpnia sierpień augustus",
    9: "sep sept september septembre septiembre settembre września wrzesień setembro",
    10: "oct october oktober octobre octubre ottobre października październik outubro",
    11: "nov november novembre noviembre listopada listopad novembro",
    12: "dec december dezember décembre decembre diciembre dicembre grudnia grudzień dezembro",
}
_MONTH = {name: num for num, names in _MONTH_NAMES.items() for name in names.split()}
_MONTH_RE = "|".join(sorted(_MONTH, key=len, reverse=True))
_D_M_Y = re.compile(rf"\b(\d{{1,2}})\.?\s+(?:de\s+)?({_MONTH_RE})\.?,?\s+(?:de\s+)?(\d{{4}})\b", re.IGNORECASE)
_M_D_Y = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.IGNORECASE)
# Any date form parse_date reads, for finding where a date ends on a line.
_ANY_DATE = re.compile(
    rf"\b\d{{1,2}}\.?\s+(?:de\s+)?(?:{_MONTH_RE})\.?,?\s+(?:de\s+)?\d{{4}}\b|"
    rf"\b(?:{_MONTH_RE})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b|"
    r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}([./])\d{1,2}\1\d{4}\b",
    re.IGNORECASE,
)
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?!\d)")
_NUMERIC = re.compile(r"\b(\d{1,2})([./])(\d{1,2})\2(\d{4})\b")


def parse_date(line: str) -> str | None:
    """ISO 8601 date of a date line, or None (relative dates like "3 hours ago" stay None).

    Own patterns (ISO, "19.11.2019", "11/19/2019", "November 19, 2019", "19 nov. 2019",
    "19 de noviembre de 2019"), not dateparser: its import and language detection cost
    ~30 ms a page, more than the whole line cleaner.
    """
    value = _DATE_LABEL.sub("", line.strip()).strip(" ,|·•–—-")
    if not value or _AGO.search(value):
        return None
    found = None
    if m := _ISO.search(value):
        found = int(m.group(1)), int(m.group(2)), int(m.group(3))
    elif m := _M_D_Y.search(value):
        found = int(m.group(3)), _MONTH[m.group(1).lower()], int(m.group(2))
    elif m := _D_M_Y.search(value):
        found = int(m.group(3)), _MONTH[m.group(2).lower()], int(m.group(1))
    elif m := _NUMERIC.search(value):
        a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
        # "." is day-first (Europe); "/" is month-first unless the first number cannot be a month
        day, month = (a, b) if m.group(2) == "." or a > 12 else (b, a)
        found = year, month, day
    if found is None:
        return None
    try:
        return date(*found).isoformat()
    except ValueError:
        return None


def text_metadata(text: str, kept: Sequence[str], url: str | None = None) -> PageMeta:
    """Title, author and date of a text page whose cleaned story lines are ``kept``."""
    lines = [" ".join(ln.split()) for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    start = _story_start(lines, kept)
    above = lines[:start] if start is not None else lines
    author = published = None
    if start is not None:
        window = lines[max(0, start - WINDOW) : start]
        for k in range(len(window) - 1, -1, -1):
            ln = window[k]
            by = _byline(ln) or _loose_byline(window, k)
            if by is not None:
                author = author or by[0]
                if published is None and by[1]:
                    published = parse_date(by[1])
            elif published is None and (_is_date_line(ln) or len(words(ln)) <= DATE_LINE_WORDS):
                # a short line with a readable date in it ("Datum: 18.10.2021", "Bonn,
                # 11.10.2021", "Veröffentlicht: 05.01.2020 | Autor: ...")
                published = parse_date(ln)
        if author is None and FAR_BYLINES:
            author = _far_byline(lines[max(0, start - FAR_WINDOW) : max(0, start - WINDOW)])
    return PageMeta(
        title=_title(above, lines[start] if start is not None else None, url), author=author, published=published
    )


def _far_byline(lines: list[str]) -> str | None:
    """A byline above the window: only an explicit one ("By Rob Picheta, CNN", "Von Lisa
    Petrich"), nearest first; a sidebar's bare names and teasers' dates are not read."""
    for ln in reversed(lines):
        if ln[0] in "BbVvPp" and _BY_LEAD.match(ln) and len(words(ln)) <= 10 and (by := _byline(ln)) is not None:
            return by[0]
    return None


def _title(above: list[str], first: str | None, url: str | None) -> str | None:
    """The headline: the heading-like line that best matches the URL's slug, else the
    nearest heading-like line above the story (or the story's first line, when the
    cleaner kept the headline)."""
    candidates = [c for c in (_crumb_tail(ln) for ln in above[-TITLE_WINDOW:]) if _heading_like(c)]
    if first is not None and _heading_like(first):
        candidates.append(first)
    slug = _slug_words(url)
    if slug:
        best = max(candidates, key=lambda ln: _overlap(slug, ln), default=None)
        if best is not None and _overlap(slug, best) >= SLUG_MIN_SHARE:
            return best
    if first is not None and _heading_like(first):
        return first
    informative = [ln for ln in candidates if len(words(ln)) >= TITLE_PREFERRED_WORDS]
    return (informative or candidates or [None])[-1]


# The headline is looked for in this many lines above the story (menus and share bars
# come before it; the window spares the page's first teaser headlines).
TITLE_WINDOW = 30
TITLE_PREFERRED_WORDS = 4  # a shorter heading ("Key Points") is a section label
SLUG_MIN_SHARE = 0.5  # share of the URL slug's words a headline must contain
_SLUG_SPLIT = re.compile(r"[-_+.]+")


def _slug_words(url: str | None) -> set[str]:
    if not url:
        return set()
    path = urlsplit(url).path.rstrip("/")
    last = max((part for part in path.split("/") if part.count("-") + part.count("_") >= 2), key=len, default="")
    return {w for w in _SLUG_SPLIT.split(last.lower()) if w.isalpha() and len(w) > 2}


def _overlap(slug: set[str], line: str) -> float:
    return len(slug & {w.lower() for w in words(line)}) / len(slug)


def _story_start(lines: list[str], kept: Sequence[str]) -> int | None:
    if not kept:
        return None
    first = " ".join(kept[0].split())
    for i, ln in enumerate(lines):
        if ln == first:
            return i
    return None
