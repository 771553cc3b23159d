"""Page metadata: title, author, published date (ISO 8601), language, canonical URL.

trafilatura's metadata extractor does title/author/date well; what it does not give us
is whether the page points at ANOTHER host as its canonical home (a syndicated copy),
which the dedup stage uses to pick the representative copy, so that is read here.
"""

from __future__ import annotations

import re
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from html import unescape
from urllib.parse import urljoin, urlsplit

from lxml.etree import XPath
from lxml.html import HtmlElement

from wiredesk.core.hosts import host_key


@dataclass(frozen=True, slots=True, kw_only=True)
class PageMeta:
    title: str | None = None
    author: str | None = None
    published: str | None = None
    language: str | None = None
    canonical_url: str | None = None


_LANG = re.compile(r"^([a-zA-Z]{2,3})(?:[-_].*)?$")


@dataclass(slots=True)
class TrafMeta:
    """The fields of trafilatura's metadata that wiredesk uses (same names as its Document)."""

    title: str | None = None
    author: str | None = None
    date: str | None = None
    url: str | None = None


def trafilatura_metadata(tree: HtmlElement, url: str | None) -> TrafMeta | None:
    """Title, author and date as trafilatura.extract_metadata finds them, for about a
    third of its cost.

    extract_metadata also computes sitename, categories, tags, license, image and
    hostname, which wiredesk never reads, and its fallback author search (for pages
    without an author in meta tags or JSON-LD) evaluates XPaths with EXSLT regular
    expressions on a deep copy of the page: together over half of its time. Here only
    the steps for title, author, URL (which htmldate reads dates from) and date run, in
    extract_metadata's order and with trafilatura's own helpers, and the author search
    is _body_author. Checked on all 781 ScrapingHub and trafilatura-eval pages: the same
    title, author and date on every page. None when the page defeats the extractor:
    metadata is best effort, the text does not depend on it.

    The extraction path asks for the three parts separately (``metadata_head``,
    ``metadata_author``, ``metadata_date``): the author search and the date search only
    run where the page does not state its author or date for machines (stated.py wins).
    """
    try:
        head = _head(tree)
        meta = TrafMeta(title=head.title, author=_author(tree, head), url=_url(tree, head, url))
        meta.date = _trimmed(_find_date(tree, meta.url))
        return meta
    except Exception:  # metadata is best effort; the text does not depend on it
        return None


@dataclass(frozen=True, slots=True)
class TrafHead:
    """What trafilatura reads from meta tags and JSON-LD (plus its <title>/<h1> title)."""

    title: str | None  # final (trimmed)
    author: str | None  # as found (None: the body's byline is searched)
    url: str | None  # as found (None: extract_url)


def _head(tree: HtmlElement) -> TrafHead:
    from trafilatura.metadata import examine_meta, extract_title

    found = examine_meta(tree)
    if found.author and " " not in found.author:
        found.author = None  # as extract_metadata: a lone word is a handle, not a name
    try:
        found = _meta_json(tree, found)
    except Exception:  # trafilatura's JSON-LD walk trips over odd schemas
        pass
    return TrafHead(title=_trimmed(found.title or extract_title(tree)), author=found.author, url=found.url)


# trafilatura.metadata.JSON_MINIFY (r'("(?:\\.|[^"\\])*")|\s', whitespace outside JSON strings),
# written so Python's re runs it several times faster: the string alternative unrolled
# (the same strings, matched the same way) and whitespace removed a run at a time.
_JSON_MINIFY = re.compile(r'("[^"\\]*(?:\\.[^"\\]*)*")|\s+')
_JSON_SCRIPTS = XPath('.//script[@type="application/ld+json" or @type="application/settings+json"]')


def _meta_json(tree: HtmlElement, metadata):
    """trafilatura.metadata.extract_meta_json, with the faster minifying pattern above
    (on large JSON-LD blocks that pattern was most of its time)."""
    import json

    from trafilatura.json_metadata import extract_json, extract_json_parse_error, normalize_json

    for elem in _JSON_SCRIPTS(tree):
        if not elem.text:
            continue
        element_text = normalize_json(_JSON_MINIFY.sub(r"\1", elem.text))
        try:
            schema = json.loads(element_text, strict=False)
            metadata = extract_json(schema, metadata)
        except json.JSONDecodeError:
            metadata = extract_json_parse_error(element_text, metadata)
    return metadata


def _author(tree: HtmlElement, head: TrafHead) -> str | None:
    return _trimmed(head.author or _body_author(tree))


def _url(tree: HtmlElement, head: TrafHead, url: str | None) -> str | None:
    from trafilatura.metadata import extract_url

    return head.url or extract_url(tree, url)


def metadata_head(tree: HtmlElement) -> TrafHead | None:
    """trafilatura_metadata's first step (title, and author/URL where stated); None on failure."""
    try:
        return _head(tree)
    except Exception:  # best effort, as trafilatura_metadata
        return None


def metadata_author(tree: HtmlElement, head: TrafHead | None) -> str | None:
    """trafilatura_metadata's author (its byline search where meta tags name nobody)."""
    if head is None:
        return None
    try:
        return _author(tree, head)
    except Exception:
        return None


def metadata_date(tree: HtmlElement, head: TrafHead | None, url: str | None) -> str | None:
    """trafilatura_metadata's date (htmldate, see _find_date)."""
    if head is None:
        return None
    try:
        return _trimmed(_find_date(tree, _url(tree, head, url)))
    except Exception:
        return None


def _trimmed(value: str | None) -> str | None:
    """trafilatura's final clean-up of a metadata field (Document.clean_and_trim)."""
    from trafilatura.utils import line_processing

    if not isinstance(value, str):
        return value
    if len(value) > 10000:
        value = value[:9999] + "…"
    return line_processing(unescape(value))


def _find_date(tree: HtmlElement, url: str | None) -> str | None:
    """htmldate's publication date, with the extensive search only as a fallback.

    The extensive search (dateparser on free text, then date patterns over the whole
    page) only runs when the quick one (URL, meta tags, JSON-LD, date-like elements)
    found nothing: on the 485 dated trafilatura-eval pages that finds 422 exact dates,
    two more than the extensive search alone. It is now most of the metadata cost: the
    71 of 660 pages that need it cost more than the quick search on all of them. (No
    max_date: htmldate's default accepts dates up to the end of today.)
    """
    from .date_search import find_date

    date = find_date(tree, extensive_search=False, original_date=True, url=url)
    if date:
        return date
    date = find_date(tree, extensive_search=True, original_date=True, url=url)
    # The extensive search falls back to a bare year ("Copyright 2026") and dates it
    # 1 January: a year is no publication date, and an invented one would make the page
    # look like the earliest copy of a story. A page that does say 1 January keeps it.
    if date and date.endswith("-01-01") and not states_new_year(tree.text_content(), url, int(date[:4])):
        return None
    return date


# 1 January in the spellings htmldate's extensive search reads: numbers (2026-01-01,
# 01.01.2026, 1/1/2026) and month names of the languages it knows (with "1st", "1er", "1.").
_JAN = (
    r"(?:jan(?:uary|\.)?|janv(?:ier|\.)?|januar|j[aä]nner|enero|ene\.?|gennaio|janeiro|januari|"
    r"janvāris|stycze[nń]|ledna|leden|ocak|январ[яь]|ιανουαρίου)"
)
_DAY1 = r"(?:0?1(?:st|er|\.|º|°)?)"


def new_year_patterns(year: int) -> tuple[re.Pattern, re.Pattern]:
    """The numeric and the named forms of the date 1 January ``year``."""
    y = str(year)
    numeric = re.compile(rf"(?<!\d){y}[-/._]0?1[-/._]0?1(?!\d)|(?<!\d)0?1[-/.]0?1[-/.]{y}(?!\d)|(?<!\d){y}0101(?!\d)")
    named = re.compile(
        rf"(?<!\d){_DAY1}\s*(?:of\s+|de\s+)?{_JAN}\s*(?:de\s+)?,?\s*{y}(?!\d)|{_JAN}\s+{_DAY1},?\s+{y}(?!\d)",
        re.IGNORECASE,
    )
    return numeric, named


def states_new_year(text: str, url: str | None, year: int) -> bool:
    """Does the text (or URL) give the full date 1 January ``year``, not just the year?"""
    y = str(year)
    numeric, named = new_year_patterns(year)
    return any(y in s and (_near(numeric, s, y, 6) or _near(named, s, y)) for s in (text, url or ""))


def _near(rx: re.Pattern, s: str, y: str, before: int | None = None) -> bool:
    """``rx.search(s)``, for a pattern every match of which holds ``y``, looked for only
    around each occurrence of ``y`` (a page's whole text took these patterns up to 37 ms).

    A numeric date reaches at most ``before`` characters before the year and 6 after it.
    A named date ends with the year and reaches back over at most five words of at most
    19 characters ("1st", "of", the month, "de", ","), with any whitespace between them:
    eight steps back over a whitespace run and up to 40 other characters cover that. The
    year's lookbehind sees the text before the window (``search(s, pos)`` keeps it); a
    match ending at the window's end could have passed its not-a-digit lookahead only because
    the window ends, so that case asks the whole text.
    """
    p = s.find(y)
    while p != -1:
        start = max(0, p - before) if before is not None else _words_back(s, p)
        end = min(len(s), p + len(y) + (7 if before is not None else 1))
        m = rx.search(s, start, end)
        if m is not None:
            return m.end() < end or end == len(s) or rx.search(s) is not None
        p = s.find(y, p + 1)
    return False


def _words_back(s: str, i: int) -> int:
    for _ in range(8):
        while i > 0 and s[i - 1].isspace():
            i -= 1
        stop = max(0, i - 40)
        while i > stop and not s[i - 1].isspace():
            i -= 1
    return i


# trafilatura.xpaths.AUTHOR_XPATHS and AUTHOR_DISCARD_XPATHS as Python predicates, with
# the same regular expressions. libxml2 re-reads the attribute for every contains() and
# lxml calls back into Python for every EXSLT re:test(), so those XPaths cost several
# milliseconds a page; one walk over the elements tests them all for a fraction of that.
# tests/test_extract_metadata.py compares the result with extract_author's, so a
# trafilatura upgrade that changes those XPaths shows there.
_BYLINE_TAGS = (
    frozenset("a address div link p span strong".split()),  # AUTHOR_XPATHS[0]
    frozenset("a div h3 h4 p span".split()),
)  # AUTHOR_XPATHS[1]
_AUTHOR_CLASS_1 = re.compile("author-?name|AuthorName|authorName")
_AUTHOR_ID_2 = re.compile("author|zuozhe|bianji|xiaobian")
_AUTHOR_CLASS_2 = re.compile("author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name")
_AUTHOR_ID_3 = re.compile("[Aa]uthor")
_AUTHOR_CLASS_3 = re.compile("[Aa]uthor|screenname|writer|[Bb]yline")
_DISCARD_TAGS = frozenset("a div section span".split())
_DISCARD_ID = re.compile("^comments|comment-?list|ProductReviews")
_DISCARD_CLASS = re.compile(
    "^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram|"
    "article-(?:share|support)|print|category|meta-date|meta-reviewer"
)


# Every class or id that any of the three XPaths can select contains one of these; the
# few elements with the other attributes they test (rel= is mostly <link rel=...>) are
# collected up front, which is cheaper than asking every element for them.
_BYLINE_CLASS_CUE = re.compile(
    "[Aa]uthor|[Bb]yl|BBL|username|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|"
    "journalist-name|screenname|writer"
)
_BYLINE_ID_CUE = re.compile("[Aa]uthor|zuozhe|bianji|xiaobian")
_RARE_BYLINE_ATTRS = XPath("//@itemprop/..|//@rel/..|//@data-testid/..|//@data-component/..")


def _byline_candidates(tree: HtmlElement) -> tuple[list, list, list]:
    """The elements each of trafilatura's three author XPaths selects, in document order."""
    first, second, third = [], [], []
    rare = set(_RARE_BYLINE_ATTRS(tree))
    rare.update(tree.iter("author"))
    rare.update(rel.getparent() for rel in tree.iter("rel"))  # for the XPath's "rel='me'"
    for elem in tree.iter():
        cls, ident = elem.get("class"), elem.get("id")
        if (
            (cls is None or _BYLINE_CLASS_CUE.search(cls) is None)
            and (ident is None or _BYLINE_ID_CUE.search(ident) is None)
            and elem not in rare
        ):
            continue
        tag = elem.tag
        if not isinstance(tag, str):  # comments, processing instructions
            continue
        itemprop = elem.get("itemprop")
        if tag == "author" or (
            tag in _BYLINE_TAGS[0]
            and (
                elem.get("rel") == "author"
                or ident == "author"
                or cls == "author"
                or itemprop == "author name"
                # "rel='me'" in the XPath tests a child element <rel>, not the attribute
                or any(rel.text_content() == "me" for rel in elem.iterchildren("rel"))
                or elem.get("data-testid") in ("AuthorCard", "AuthorURL")
                or (cls is not None and _AUTHOR_CLASS_1.search(cls))
            )
        ):
            first.append(elem)
        if tag in _BYLINE_TAGS[1] and (
            cls in ("byline", "username", "byl", "BBL")
            or (itemprop is not None and "author" in itemprop)
            or (ident is not None and _AUTHOR_ID_2.search(ident))
            or (cls is not None and _AUTHOR_CLASS_2.search(cls))
        ):
            second.append(elem)
        if (
            (itemprop is not None and "author" in itemprop)
            or "Byline" in elem.get("data-component", "")
            or (ident is not None and _AUTHOR_ID_3.search(ident))
            or (cls is not None and _AUTHOR_CLASS_3.search(cls))
        ):
            third.append(elem)
    return first, second, third


def _discarded(elem: HtmlElement) -> bool:
    """Would trafilatura's AUTHOR_DISCARD_XPATHS delete this element?"""
    tag = elem.tag
    if tag in ("time", "figure"):
        return True
    if tag not in _DISCARD_TAGS:
        return False
    cls, ident = elem.get("class"), elem.get("id")
    return (
        ident == "comments"
        or cls in ("comments", "title", "date")
        or (ident is not None and _DISCARD_ID.search(ident) is not None)
        or (cls is not None and _DISCARD_CLASS.search(cls) is not None)
        or "Figure" in elem.get("data-component", "")
    )


def _body_author(tree: HtmlElement) -> str | None:
    """trafilatura.metadata.extract_author, same result for a quarter of the cost.

    extract_author deletes comment sections, sidebars, <time>, <figure> and the like
    from a deep copy of the page, then takes the first byline-like element whose text
    is 3-119 characters long. Here a candidate is skipped when it lies inside such a
    section, and only a candidate that contains one is copied (alone) and pruned.
    """
    from trafilatura.htmlprocessing import prune_unwanted_nodes
    from trafilatura.json_metadata import normalize_authors
    from trafilatura.utils import trim
    from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS

    for candidates in _byline_candidates(tree):
        for elem in candidates:
            if _discarded(elem) or any(_discarded(a) for a in elem.iterancestors()):
                continue  # deleted with its section
            if any(_discarded(d) for d in elem.iterdescendants()):
                elem = prune_unwanted_nodes(deepcopy(elem), AUTHOR_DISCARD_XPATHS)
            content = trim(" ".join(elem.itertext()))
            if content and 2 < len(content) < 120:
                return normalize_authors(None, content)
    return None


def html_language(tree: HtmlElement) -> str | None:
    """ISO 639-1 code from <html lang>, or from the content-language meta."""
    for source in _LANGUAGE_SOURCES:  # in order, and the later (whole-page) ones only if needed
        value = source(tree)
        if value:
            m = _LANG.match(value.strip())
            if m and len(m.group(1)) == 2:
                return m.group(1).lower()
    return None


_CONTENT_LANGUAGE = XPath(
    '//meta[@http-equiv][translate(@http-equiv,"CONTENLAGU","contenlagu")="content-language"]/@content'
)
_OG_LOCALE = XPath('//meta[@property="og:locale"]/@content')
_LANGUAGE_SOURCES = (
    lambda tree: tree.get("lang"),
    lambda tree: tree.get("xml:lang"),
    lambda tree: _first(_CONTENT_LANGUAGE(tree)),
    lambda tree: _first(_OG_LOCALE(tree)),
)


def canonical_url(tree: HtmlElement, base: str | None) -> str | None:
    """The page's own idea of its address: rel=canonical, else og:url (absolute)."""
    for source in (_canonical_href, _og_url):
        value = source(tree)
        if value and value.strip():
            url = urljoin(base or "", value.strip())
            if urlsplit(url).scheme in ("http", "https"):
                return url
    return None


_CANONICAL_FOLD = str.maketrans("CANONIL", "canonil")


def _canonical_href(tree: HtmlElement) -> str | None:
    """href of the first <link rel=canonical> (any case). A walk over the <link> tags is
    a quarter of the cost of the equivalent //link[...] XPath with translate()."""
    for link in tree.iter("link"):
        rel, href = link.get("rel"), link.get("href")
        if rel is not None and href is not None and "canonical" in rel.translate(_CANONICAL_FOLD):
            return href
    return None


def _og_url(tree: HtmlElement) -> str | None:
    """content of the first <meta property|name="og:url">."""
    for meta in tree.iter("meta"):
        content = meta.get("content")
        if content is not None and "og:url" in (meta.get("property"), meta.get("name")):
            return content
    return None


_CREDIT_HINT = (
    "original",
    "source",
    "appeared first",
    "quelle",
    "ursprünglich",
    "zuerst",
    "initialement",
    "fuente",
    "originalmente",
    "źródło",
    "republished",
    "reprinted",
    "via",
)


# any(h in text for h in _CREDIT_HINT) as one scan of the text (the test runs for every link)
_CREDIT_HINT_ANY = re.compile("|".join(map(re.escape, _CREDIT_HINT)))
_INLINE = frozenset(("span", "em", "strong", "b", "i", "small", "font"))


def _string(el: HtmlElement) -> str:
    """el.text_content(): for an element without children (most links), its text, without
    the XPath evaluation text_content() sets up for every call."""
    return el.text_content() if len(el) else (el.text or "")


def credit_links(tree: HtmlElement, base: str | None, is_credit) -> list[tuple[str, str]]:
    """(block text, absolute href) of links that sit in a credit line ("Read the original
    article on <a href=...>X</a>", "<a href=...>Source link</a>"): the URL of the original
    usually lives only in the href, not in the visible text."""
    found = []
    loose: dict[HtmlElement, str] = {}  # block -> its own loose text, lower-cased (links share blocks)
    for a in tree.iterfind(".//a[@href]"):
        block = a.getparent()
        while block is not None and block.tag in _INLINE:
            block = block.getparent()
        if block is None:
            continue
        # Cheap pre-check on the link text and the block's own loose text (not the whole
        # subtree: a link's parent can be a <div> holding the entire page). Lower-casing
        # the parts one by one finds the same (Latin-script) hints as lower-casing them joined.
        own = loose.get(block)
        if own is None:
            own = loose[block] = " ".join([block.text or ""] + [child.tail or "" for child in block]).lower()
        own = _string(a)[:200].lower() + " " + own
        if not _CREDIT_HINT_ANY.search(own):
            continue
        text = " ".join(block.text_content()[:400].split())
        if not text or len(text) > 300:
            continue
        if is_credit(text):
            href = urljoin(base or "", a.get("href", "").strip())
            if urlsplit(href).scheme in ("http", "https"):
                found.append((text, href))
    return found


def host_of(url: str | None) -> str:
    """The site's ``wiredesk.core.hosts.host_key`` (port kept unless default), or ''."""
    return host_key(url) or ""


def same_site(a: str, b: str) -> bool:
    """Hosts of one outlet: equal, or one a subdomain of the other (m.x.com / x.com) on
    the same port."""
    if not a or not b:
        return True  # unknown: never claim "another outlet" on missing data
    return a == b or a.endswith("." + b) or b.endswith("." + a)


_SITE_SUFFIX = re.compile(r"^(?P<head>.{8,}?)\s+[|–—-]\s+(?P<tail>[^|–—]{1,60})$")
_WORDS = re.compile(r"\w+", re.UNICODE)


def best_title(tree: HtmlElement, title: str | None) -> str | None:
    """The headline as readers see it.

    trafilatura's title comes from <title>/og:title and often carries the site name
    ("Headline - Site") or a different SEO wording; the page's <h1> is the visible
    headline. Prefer the first <h1> when it shares most words with the metadata title,
    else strip a trailing " - Site" / " | Site" from the metadata title.
    """
    h1 = None
    for el in tree.iterfind(".//h1"):
        text = " ".join(el.text_content().split())
        if text:
            h1 = text
            break
    if h1 and title and len(_WORDS.findall(h1)) <= 40:
        a, b = set(_WORDS.findall(h1.lower())), set(_WORDS.findall(title.lower()))
        if a and b and len(a & b) >= 0.6 * min(len(a), len(b)):
            return h1
    if title:
        m = _SITE_SUFFIX.match(title.strip())
        if m and len(_WORDS.findall(m.group("tail"))) <= 4 < len(_WORDS.findall(m.group("head"))) + 2:
            return m.group("head").strip()
        return title.strip()
    return h1


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def iso_date(value: str | None) -> str | None:
    """ISO 8601 (date or datetime) from the formats extractors return, else None."""
    if not value:
        return None
    value = value.strip()
    if _ISO_DAY.match(value):
        return value
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
    except ValueError:
        pass
    for fmt in ("%Y/%m/%d", "%d.%m.%Y", "%Y%m%d", "%d %B %Y", "%B %d, %Y"):
        try:
            return datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _first(values: list) -> str | None:
    return str(values[0]) if values else None
