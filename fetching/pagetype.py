"""Is a fetched page an article, or a listing (home, section, tag, author, date archive,
search, ``page/2``, a CMS's static page)? And which links does a listing lead to?

Listings are for discovery only: their links are followed, they never become articles.
The signals are the ones real CMSs emit, most specific first:

1. the source's own ``article_urls`` pattern, when configured;
2. the body classes WordPress (``single-post`` vs ``archive``, ``home``, ``blog``,
   ``search``, ``page-id-N``) and Drupal (``page-node-type-article`` vs
   ``page-taxonomy-term``, ``path-frontpage``, ``page-user``) put on every page;
3. JSON-LD ``@type`` (``NewsArticle``, ``BlogPosting``, ... vs ``CollectionPage``,
   ``ProfilePage``, a ``WebPage`` with no article in it);
4. OpenGraph ``og:type`` (``article`` vs ``website``, ``profile``);
5. ``<link rel=next|prev>`` in the head (paginated listings);
6. many teaser blocks: repeated ``<article>`` elements or headline links.

A page with none of these is left to the extractor's own judgement (``None``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from wiredesk.core.records import RawPage
from wiredesk.core.schemaorg import ARTICLE_TYPES

from .urls import host_key, request_url

PageKind = Literal["article", "listing"]

LISTING_TYPES = frozenset(
    {
        "collectionpage",
        "profilepage",
        "searchresultspage",
        "itemlist",
        "aboutpage",
        "contactpage",
        "webpage",
        "person",
    }
)
LISTING_OG_TYPES = frozenset({"website", "profile", "blog", "object"})
# Signals that many article pages carry too. They name a listing only where the page has no
# article-length block of prose: og:type "website"/"blog"/"object" (a site-wide default on
# many CMSs), a JSON-LD WebPage or Person with no article type, <link rel=next|prev> (older
# WordPress themes and many blogs link a post to the previous and next post with them), and
# teaser headlines (related stories, "most read" and section menus under an article). On the
# development benchmarks' article pages (all articles) these alone called 96 of 660 of
# trafilatura's evaluation pages and 133 of 461 of Dragnet's listings.
WEAK_OG_TYPES = frozenset({"website", "blog", "object"})
WEAK_LISTING_TYPES = frozenset({"webpage", "person"})
PROSE_WORDS = 150  # running words (not link text) of sibling paragraphs: an article's body

_WP_ARTICLE = re.compile(r"^(single-post|postid-\d+|single-format-.+)$")
_WP_LISTING = frozenset({"archive", "home", "blog", "search", "search-results", "search-no-results", "paged"})
_WP_PAGE = re.compile(r"^(page-id-\d+|page-template(-.+)?)$")
_DRUPAL_ARTICLE = re.compile(r"^(page-)?node-type-(article|story|news|blog|blog-post|news-article)$")
_DRUPAL_LISTING = re.compile(
    r"^(path-frontpage|page-taxonomy-term.*|path-taxonomy|page-user.*|path-user|page-node-type-page|page-view-.+)$"
)
_ERROR_CLASSES = frozenset({"error404", "error-page", "page-not-found"})

# Links a listing leads to that are never article pages.
_NOT_PAGES = re.compile(
    r"\.(xml|rss|atom|json|txt|jpe?g|png|gif|webp|svg|ico|css|js|pdf|zip|gz|mp3|mp4|webm|woff2?)$"
    r"|/(feed|rss|atom)/?$|/wp-(admin|json|login\.php|content|includes)\b|/xmlrpc\.php$|/comments/feed",
    re.IGNORECASE,
)
_NOT_PAGE_QUERY = re.compile(r"(^|&)(replytocom|share|like_comment|action|format)=", re.IGNORECASE)
TEASER_MIN = 3
TEASER_WORDS = 80  # paragraph words per teaser below which a page is all teasers


@dataclass(frozen=True, slots=True)
class PageSignals:
    kind: PageKind | None  # None: no signal, the extractor decides
    why: str  # which signal decided, for the record's detail
    links: tuple[str, ...] = ()  # same-host page links, as written (resolved, no fragment)


def read_page(body: bytes, url: str, *, article_urls: re.Pattern[str] | None = None) -> PageSignals:
    """The page type of ``body`` (fetched from ``url``) and its same-host links."""
    try:
        tree = lxml.html.document_fromstring(body)
    except (etree.ParserError, ValueError):
        return PageSignals(None, "unparsable")
    kind, why = classify(tree, url, article_urls=article_urls)
    links = same_site_links(tree, url) if kind == "listing" else ()
    return PageSignals(kind, why, links)


def listing_reason(body: bytes, url: str, *, article_urls: re.Pattern[str] | None = None) -> str | None:
    """Why ``body`` (from ``url``) is a listing and no article, as ``read_page`` decides for a
    fetched page (the same parse and ``classify``, without collecting the links nobody will
    follow); None for an article, a page with no signal, or one that does not parse."""
    try:
        tree = lxml.html.document_fromstring(body)
    except (etree.ParserError, ValueError):
        return None
    kind, why = classify(tree, url, article_urls=article_urls)
    return why if kind == "listing" else None


@dataclass(frozen=True, slots=True)
class ListingCheck:
    """The fetched page's check for pages that arrive another way (web archives): called with
    a ``RawPage`` where it is extracted (an extraction worker: it travels there pickled, so it
    holds the source's ``article_urls`` pattern as text), it returns why the page is a listing
    (then never an article, as a fetched listing is not), or None. Only HTML pages with a URL
    are checked, as the fetcher checks only HTML."""

    article_urls: str | None = None

    def __call__(self, page: RawPage) -> str | None:
        if page.kind != "html" or not page.url:
            return None
        pattern = _pattern(self.article_urls) if self.article_urls is not None else None
        return listing_reason(page.body, page.url, article_urls=pattern)


@functools.lru_cache(maxsize=64)
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)  # as the fetcher compiles a source's article_urls


def classify(
    tree: lxml.html.HtmlElement, url: str, *, article_urls: re.Pattern[str] | None = None
) -> tuple[PageKind | None, str]:
    if article_urls is not None:
        if article_urls.search(url):
            return "article", "article_urls"
        return "listing", "article_urls"
    found = _body_classes(tree)
    if found is not None:
        return found
    types = set(_jsonld_types(tree))
    if types & ARTICLE_TYPES:
        return "article", "json-ld " + ",".join(sorted(types & ARTICLE_TYPES))
    weak = ""
    if types & LISTING_TYPES - WEAK_LISTING_TYPES:
        return "listing", "json-ld " + ",".join(sorted(types & LISTING_TYPES))
    if types & LISTING_TYPES:
        weak = "json-ld " + ",".join(sorted(types & LISTING_TYPES))
    og = _meta(tree, "og:type")
    if og == "article" or og.startswith("article:"):
        return "article", "og:type"
    if og in LISTING_OG_TYPES - WEAK_OG_TYPES:
        return "listing", f"og:type {og}"
    if not weak and og in WEAK_OG_TYPES:
        weak = f"og:type {og}"
    if not weak and tree.xpath("//head/link[@rel='next' or @rel='prev' or @rel='previous']"):
        weak = "rel=next/prev"
    if not weak:
        teasers = _teasers(tree, url)
        if teasers >= TEASER_MIN:
            # A listing is teasers and little else; an article has far more running text.
            text_words = sum(len((p.text_content() or "").split()) for p in tree.xpath("//body//p"))
            if text_words < TEASER_WORDS * teasers:
                weak = f"{teasers} teasers"
    if not weak:
        return None, "no signal"
    prose = _article_prose(tree)
    if prose >= PROSE_WORDS:
        return None, f"{weak}, outweighed by {prose} words of prose"
    return "listing", weak


def _article_prose(tree: lxml.html.HtmlElement) -> int:
    """Running words (link text left out) of the page's largest block of sibling paragraphs,
    or 0 where that block is a list of teasers (three or more headline links in it) or one of
    several full posts (two or more ``<article>`` elements each with a block that long)."""
    blocks: dict[lxml.html.HtmlElement, int] = {}
    for p in tree.xpath("//body//p"):
        words = len(p.text_content().split()) - sum(len(a.text_content().split()) for a in p.iter("a"))
        parent = p.getparent()
        if words > 0 and parent is not None:
            blocks[parent] = blocks.get(parent, 0) + words
    if not blocks:
        return 0
    parent, words = max(blocks.items(), key=lambda item: item[1])
    if words < PROSE_WORDS:
        return words
    if len(parent.xpath(".//*[self::h2 or self::h3 or self::h4]//a[@href]")) >= TEASER_MIN:
        return 0
    posts = {next(el.iterancestors("article"), None) for el, n in blocks.items() if n >= PROSE_WORDS}
    posts.discard(None)
    return 0 if len(posts) >= 2 else words


def _body_classes(tree: lxml.html.HtmlElement) -> tuple[PageKind, str] | None:
    body = tree.find("body")
    if body is None:
        return None
    classes = set((body.get("class") or "").lower().split())
    if not classes:
        return None
    if classes & _ERROR_CLASSES:
        return "listing", "error page"
    article = [c for c in classes if _WP_ARTICLE.match(c) or _DRUPAL_ARTICLE.match(c)]
    if article and "single" in classes or any(_DRUPAL_ARTICLE.match(c) for c in classes):
        return "article", "body class " + sorted(article)[0]
    listing = sorted(classes & _WP_LISTING) + sorted(c for c in classes if _DRUPAL_LISTING.match(c))
    if listing:
        return "listing", "body class " + listing[0]
    page = sorted(c for c in classes if _WP_PAGE.match(c))
    if page and "page" in classes:  # a WordPress static page: About, Contact, ...
        return "listing", "body class " + page[0]
    return None


def _jsonld_types(tree: lxml.html.HtmlElement) -> Iterator[str]:
    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        yield from _types_in(data, depth=0)


def _types_in(data: object, depth: int) -> Iterator[str]:
    """@type of top-level things and of an @graph's members (not of nested authors etc.)."""
    if depth > 2:
        return
    if isinstance(data, list):
        for item in data:
            yield from _types_in(item, depth + 1)
    elif isinstance(data, dict):
        kind = data.get("@type")
        for name in kind if isinstance(kind, list) else [kind]:
            if isinstance(name, str):
                yield name.rsplit("/", 1)[-1].lower()
        if "@graph" in data:
            yield from _types_in(data["@graph"], depth + 1)


def _meta(tree: lxml.html.HtmlElement, name: str) -> str:
    for node in tree.xpath("//meta[@property=$n or @name=$n]", n=name):
        value = (node.get("content") or "").strip().lower()
        if value:
            return value
    return ""


def _teasers(tree: lxml.html.HtmlElement, url: str) -> int:
    """Teaser blocks: <article> elements, or headlines that are links to other pages."""
    articles = len(tree.xpath("//body//article"))
    own = request_url(url)
    headlines = set()
    for a in tree.xpath("//body//*[self::h2 or self::h3 or self::h4]//a[@href]"):
        try:
            link = request_url(a.get("href", ""), url)
        except ValueError:
            continue
        if link != own and not link.startswith(own + "#"):
            headlines.add(link)
    return max(articles, len(headlines))


def same_site_links(tree: lxml.html.HtmlElement, url: str) -> tuple[str, ...]:
    """Links of a listing worth following: same host and port, http(s), not a feed, file,
    admin or comment-reply URL, not ``rel=nofollow``. In page order, without repeats."""
    home = host_key(url)
    out: dict[str, None] = {}
    for a in tree.xpath("//a[@href]"):
        if "nofollow" in (a.get("rel") or "").lower().split():
            continue
        try:
            link = request_url(a.get("href", ""), url)
            parts = urlsplit(link)
            if parts.scheme not in ("http", "https") or host_key(link) != home:
                continue
        except ValueError:  # a bad port or IPv6 literal in someone's markup
            continue
        if _NOT_PAGES.search(parts.path) or _NOT_PAGE_QUERY.search(parts.query):
            continue
        out.setdefault(link, None)
    return tuple(out)
