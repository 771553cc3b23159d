"""What a page states about itself in markup meant for machines: its publication time and
its author. Stated metadata beats any guess (htmldate's text search, a byline heuristic)
and beats a feed's date: a feed item's date may be a comment's, a re-post's, or the
feed generator's.

Date, in order: ``article:published_time`` / ``itemprop=datePublished`` meta, JSON-LD
``datePublished``, then the first ``<time datetime>`` of the article that is not inside a
comment section (WordPress themes put a ``<time>`` on every comment).

Author, in order: JSON-LD ``author`` (name), ``<meta name=author>``, ``rel=author`` link
text, then the byline markup CMSs emit (``itemprop=author``, WordPress's post-author block
and ``author vcard``). Never link text that is an invitation rather than a name ("View all
posts by X", "Follow", "More from X"), which author boxes put in ``rel=author`` links too,
and never a name from the comment section (a guessed author that is a commenter's name is
dropped: WordPress block themes mark comment authors ``comment-author-name``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache

from lxml.etree import XPath
from lxml.html import HtmlElement

from wiredesk.core.schemaorg import ARTICLE_TYPES

from .metadata import iso_date

_DATE_META = ("article:published_time", "og:article:published_time", "datepublished", "dc.date.issued")
# Link texts and bylines that are not names.
_NOT_A_NAME = re.compile(
    r"\b(view|see|read|show)\s+(all|more)\b|\bposts?\s+by\b|\bmore\s+(from|by|posts|articles|stories)\b"
    r"|^\s*follow\b|\barticles?\s+by\b|\bstories\s+by\b|\babout\s+the\s+author\b|\bprofile\b|https?://|@",
    re.IGNORECASE,
)
_COMMENTS = re.compile(
    r"(^|[\s_-])(comments?|comment-list|commentlist|comments-area|respond|wp-block-comments)($|[\s_-])"
)
_BY = re.compile(r"^\s*(by|von|par|por|door)\s+", re.IGNORECASE)
# Each class test first asks contains(@class, word) (cheap, and implied by the exact
# whitespace-separated test after it): libxml2 then builds the normalised string only for
# the few elements whose class has the word at all.
# The scans below step onto the attribute first (//@rel, //@class, //@itemprop) and up to its
# element: libxml2 then tests the predicates only on elements that have the attribute, not
# on every element of the page (2x faster; tests/test_extract_prune.py compares each with
# the //*[predicate] form it replaces).
_REL_AUTHOR = XPath(
    "//a/@rel[contains(., 'author')]/parent::*[contains(concat(' ', normalize-space(@rel), ' '), ' author ')]"
)
_BYLINE_MARKUP = XPath(
    "//*[@itemprop='author']//*[@itemprop='name'] | //*[@itemprop='author'][not(.//*[@itemprop='name'])]"
    " | //*[contains(@class, 'wp-block-post-author__name')]"
    "[contains(concat(' ', normalize-space(@class), ' '), ' wp-block-post-author__name ')]"
    " | //*[contains(@class, 'wp-block-post-author-name')]"
    "[contains(concat(' ', normalize-space(@class), ' '), ' wp-block-post-author-name ')]"
    " | //*[contains(@class, 'vcard')][contains(@class, 'author')][contains(concat(' ', normalize-space(@class), ' '), ' author ')"
    " and contains(concat(' ', normalize-space(@class), ' '), ' vcard ')]"
)

_XML_SPACE = re.compile(r"[ \t\r\n]+")  # what XPath's normalize-space() splits on


# The only elements the walk below can keep (in document order, selected in C): the
# tests there ask for one of these itemprops or one of these words in the class.
_BYLINE_CUES = XPath(
    "//@itemprop[.='name' or .='author']/.. | //@class[contains(., 'author') or contains(., 'vcard')]/.."
)


def byline_markup(tree: HtmlElement) -> list[HtmlElement]:
    """_BYLINE_MARKUP's elements in one walk (its five ``//*`` scans cost ~1.5 ms a page).

    The same elements in the same (document) order; tests/test_extract_prune.py compares.
    """
    out = []
    for el in _BYLINE_CUES(tree):
        prop, cls = el.get("itemprop"), el.get("class")
        if prop == "name" and any(a.get("itemprop") == "author" for a in el.iterancestors()):
            out.append(el)
        elif prop == "author" and not any(d.get("itemprop") == "name" for d in el.iterdescendants()):
            out.append(el)
        elif cls is not None and ("author" in cls or "vcard" in cls):
            tokens = set(_XML_SPACE.split(cls))
            if (
                "wp-block-post-author__name" in tokens
                or "wp-block-post-author-name" in tokens
                or ("author" in tokens and "vcard" in tokens)
            ):
                out.append(el)
    return out


# compiled once (tree.xpath(str) compiles its expression on every call)
_DATE_METAS = XPath("//meta[@property or @name or @itemprop]")
_DATE_PUBLISHED = XPath("//@itemprop[.='datePublished']/parent::*[@datetime or @content]")
_ARTICLE = XPath("//article")
_MAIN = XPath("//main")
_AUTHOR_METAS = XPath("//meta[@name='author' or @property='article:author' or @name='dc.creator']")
_COMMENTER_CANDIDATES = XPath("//@class[contains(., 'author')]/.. | //cite")
_JSONLD = XPath("//script[@type='application/ld+json']")


def stated_published(tree: HtmlElement) -> str | None:
    """The page's own publication date (ISO 8601, with its time when stated)."""
    for node in _DATE_METAS(tree):
        key = (node.get("property") or node.get("name") or node.get("itemprop") or "").strip().lower()
        if key in _DATE_META:
            when = iso_date(node.get("content"))
            if when:
                return when
    for thing in _jsonld_things(tree):
        when = iso_date(_text(thing.get("datePublished")))
        if when:
            return when
    for node in _DATE_PUBLISHED(tree):
        when = iso_date(node.get("datetime") or node.get("content"))
        if when:
            return when
    scope = _ARTICLE(tree) or _MAIN(tree) or [tree]
    for node in scope[0].iter("time"):
        if node.get("datetime") and not _in_comments(node) and "updated" not in (node.get("class") or ""):
            when = iso_date(node.get("datetime"))
            if when:
                return when
    return None


def stated_author(tree: HtmlElement) -> str | None:
    """The author's name as the page states it for machines, else None."""
    for thing in _jsonld_things(tree):
        name = _author_name(thing.get("author"))
        if name:
            return name
    for node in _AUTHOR_METAS(tree):
        name = clean_author(node.get("content"))
        if name:
            return name
    for xpath in (_REL_AUTHOR, byline_markup):
        for node in xpath(tree):
            if _in_comments(node):
                continue
            name = clean_author(node.text_content())
            if name:
                return name
    return None


def commenter_names(tree: HtmlElement) -> set[str]:
    """Names in the comment section: a heuristic author that is one of them is a commenter."""
    names = set()
    for node in _COMMENTER_CANDIDATES(tree):
        if _in_comments(node):
            text = " ".join(node.text_content().split())
            if text:
                names.add(text)
    return names


def clean_author(value: str | None) -> str | None:
    """A byline as a name: "By Jane Doe" -> "Jane Doe"; invitations and URLs -> None."""
    if not value:
        return None
    name = " ".join(value.split())
    name = _BY.sub("", name).strip(" ,;:|-")
    if not name or len(name) > 100 or _NOT_A_NAME.search(name):
        return None
    return name


def _author_name(value: object) -> str | None:
    if isinstance(value, list):
        names = [n for n in (_author_name(v) for v in value) if n]
        return ", ".join(dict.fromkeys(names)) or None
    if isinstance(value, dict):
        return clean_author(_text(value.get("name")))
    if isinstance(value, str):
        return clean_author(value)
    return None


def _text(value: object) -> str | None:
    if isinstance(value, list) and value:
        value = value[0]
    return value if isinstance(value, str) else None


def _jsonld_things(tree: HtmlElement) -> Iterator[dict]:
    """Article-typed JSON-LD objects of the page (top level or in an @graph)."""
    for script in _JSONLD(tree):
        data = _json(script.text or "")
        if data is _INVALID:
            continue
        items = data if isinstance(data, list) else [data]
        for item in items:
            if not isinstance(item, dict):
                continue
            graph = item.get("@graph")
            for thing in graph if isinstance(graph, list) else [item]:
                if isinstance(thing, dict) and _is_article(thing):
                    yield thing


_INVALID = object()


@lru_cache(maxsize=16)
def _json(text: str) -> object:
    """A JSON-LD block, parsed once for the date and the author (callers only read it)."""
    try:
        return json.loads(text)
    except ValueError:
        return _INVALID


def _is_article(thing: dict) -> bool:
    kind = thing.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return any(isinstance(k, str) and k.rsplit("/", 1)[-1].lower() in ARTICLE_TYPES for k in kinds)


def _in_comments(node: HtmlElement) -> bool:
    for parent in node.iterancestors():
        if parent.tag in ("body", "html"):
            return False
        marks = f"{parent.get('id') or ''} {parent.get('class') or ''}".lower()
        if _COMMENTS.search(marks):
            return True
    return False
