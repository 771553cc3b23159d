"""Page metadata (extractors/metadata.py): the lean trafilatura_metadata must find what
trafilatura.extract_metadata finds, and the cheaper credit-link / canonical / language
readers must keep their results."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from lxml.html import fromstring

from wiredesk.extractors.decoding import decode_page
from wiredesk.extractors.html import parse_html
from wiredesk.extractors.metadata import _body_author, canonical_url, credit_links, html_language, trafilatura_metadata

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "html"
BODY = "".join(
    f"<p>Paragraph {i} of a story long enough to be an article, with words that carry it.</p>" for i in range(6)
)


def _reference(tree, url):
    """What wiredesk used before: extract_metadata with the quick date search, then with
    the extensive one when that found no date (a bare copyright year is no date)."""
    from trafilatura import extract_metadata

    doc = extract_metadata(tree, default_url=url, date_config={"extensive_search": False, "original_date": True})
    if not doc.date:
        doc = extract_metadata(tree, default_url=url)
        if doc.date and doc.date.endswith("-01-01"):
            doc.date = None
    return doc.title, doc.author, doc.date


def _fields(meta):
    return (meta.title, meta.author, meta.date) if meta is not None else None


def _page(head: str = "", body: str = "", lang: str = "en") -> str:
    return f"<html lang='{lang}'><head>{head}</head><body>{body}<article>{BODY}</article></body></html>"


PAGES = {
    "meta tags": _page(
        "<title>Title tag - Site</title><meta property='og:title' content='OG title'>"
        "<meta name='author' content='Jane Doe'>"
        "<meta property='article:published_time' content='2023-07-10T08:30:00+02:00'>"
    ),
    "json-ld": _page(
        '<script type="application/ld+json">{"@context": "https://schema.org", '
        '"@type": "NewsArticle", "headline": "JSON headline", '
        '"author": {"@type": "Person", "name": "Max Mustermann"}, '
        '"datePublished": "2021-03-04"}</script>'
    ),
    "meta and json-ld authors add up": _page(
        "<meta name='author' content='Jane Doe'>"
        '<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Article", '
        '"author": [{"@type": "Person", "name": "John Roe"}]}</script>'
    ),
    "lone-word meta author falls back to the byline": _page(
        "<meta name='author' content='admin'>", "<div class='byline'>By Ana Lima</div>"
    ),
    "byline, first XPath": _page("", "<span class='author-name'>Ana Lima</span><div class='byline'>Someone Else</div>"),
    "byline, second XPath": _page("", "<h4 class='post-author-box'>Kim Park</h4>"),
    "byline, third XPath": _page("", "<section class='ArticleByline'>Lee Chan</section>"),
    "author element": _page("", "<author>Olu Ade</author>"),
    "rel=me child": _page("", "<div>Mia Wong<rel>me</rel></div>"),
    "byline in the comments is skipped": _page(
        "", "<div id='comments'><span class='author'>Troll Guy</span></div><p class='author'>Real Writer</p>"
    ),
    "byline inside a sidebar is skipped": _page(
        "",
        "<aside><div class='sidebar'><a rel='author' href='/x'>Side Bar</a></div></aside>"
        "<span itemprop='author'>Main Author</span>",
    ),
    "a <time> inside the byline is cut out": _page(
        "", "<div class='author'>By Eva Berg<time>12 May 2021</time>, Staff</div>"
    ),
    "no metadata at all": _page("", ""),
    "date only in the text": _page(
        "", "<div class='content'><p>Berlin, 3. März 2021 — Der Stadtrat hat beschlossen.</p></div>", "de"
    ),
    "copyright year only": _page("", "<footer><p>Copyright 2019 Example Gazette</p></footer>"),
    "date in the URL": _page("<link rel='canonical' href='https://news.example.com/2020/05/17/story'>"),
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_same_as_trafilatura_extract_metadata(name: str) -> None:
    tree = parse_html(PAGES[name])
    assert _fields(trafilatura_metadata(tree, "https://news.example.com/a/1")) == _reference(
        tree, "https://news.example.com/a/1"
    )


def test_specific_results() -> None:
    """A few of the above spelled out, so an upstream change cannot hide in the oracle."""

    def meta(name):
        return trafilatura_metadata(parse_html(PAGES[name]), None)

    assert meta("meta tags").title == "OG title" and meta("meta tags").author == "Jane Doe"
    assert meta("meta tags").date == "2023-07-10"
    assert meta("json-ld").title == "JSON headline" and meta("json-ld").author == "Max Mustermann"
    assert meta("byline in the comments is skipped").author == "Real Writer"
    assert meta("byline inside a sidebar is skipped").author == "Main Author"
    assert meta("a <time> inside the byline is cut out").author == "Eva Berg; Staff"
    assert meta("copyright year only").date is None


@pytest.mark.parametrize(
    "snippet",
    [
        "<div class='author'>By <b>Jo</b> Smith</div>",
        "<p><a class='authorName' href='/a'>Kai Ito</a></p><div class='byline'>Not This</div>",
        "<div id='comments'><span class='author'>A Commenter</span></div>",
        "<div class='meta-date'><span class='author'>Hidden Name</span></div><span class='writer'>Shown Name</span>",
        "<span class='author'>Ab<figure>img</figure>cd Ef</span>",
        "<div class='Author-box'>x</div><div data-component='Byline'>Lu Ma</div>",
        "<span class='author'>  </span><span class='author'>Second One</span>",
        "<div class='comments-list'><p id='author'>In List</p></div><h3 id='xiaobian'>Wang Wei</h3>",
    ],
)
def test_body_author_matches_extract_author(snippet: str) -> None:
    from trafilatura.metadata import extract_author

    tree = fromstring(f"<html><body>{snippet}</body></html>")
    assert _body_author(tree) == extract_author(tree)


def test_same_on_bundled_samples() -> None:
    for path in sorted(SAMPLES.glob("*.html")):
        tree = parse_html(decode_page(path.read_bytes(), kind="html"))
        assert _fields(trafilatura_metadata(tree, None)) == _reference(tree, None), path.name


def test_same_on_benchmark_pages(shared_data: Path) -> None:
    """Every 10th trafilatura-eval page (all 660 were checked when this was written)."""
    d = shared_data / "extraction" / "trafilatura-eval"
    rows = [json.loads(line) for line in (d / "ground_truth.jsonl").open(encoding="utf-8")][::10]
    for r in rows:
        tree = parse_html(decode_page(gzip.decompress((d / "html" / f"{r['id']}.html.gz").read_bytes()), kind="html"))
        if tree is None:
            continue
        url = (r.get("url") or "").strip() or None
        assert _fields(trafilatura_metadata(tree, url)) == _reference(tree, url), r["id"]


def test_metadata_does_not_change_the_tree() -> None:
    from lxml.html import tostring

    for html in PAGES.values():
        tree = parse_html(html)
        before = tostring(tree)
        trafilatura_metadata(tree, None)
        assert tostring(tree) == before


def test_credit_link_precheck() -> None:
    def links(body):
        return credit_links(
            fromstring(f"<html><body>{body}</body></html>"), "https://site.example/a", lambda text: True
        )

    # hint in the link text, in the block's loose text, and across the two
    assert links("<p>Read it <a href='https://o.example/1'>at the Source</a></p>") == [
        ("Read it at the Source", "https://o.example/1")
    ]
    assert links("<p><em><a href='/2'>Example</a></em> via wire</p>") == [
        ("Example via wire", "https://site.example/2")
    ]
    assert links("<p>first on <a href='https://o.example/3'>This story appeared</a></p>") == [
        ("first on This story appeared", "https://o.example/3")
    ]
    # no hint, a hint only deeper in the block, a link without href, a non-web link
    assert links("<p>More <a href='/4'>news</a></p>") == []
    assert links("<div><a href='/5'>Home</a><p>original reporting</p></div>") == []
    assert links("<p>Source: <a>Agency</a></p>") == []
    assert links("<p>Source: <a href='mailto:x@y.z'>mail</a></p>") == []
    # every link of a block is tested, the block text is shared
    assert [h for _, h in links("<p>Sources: <a href='/6'>A</a>, <a href='/7'>B</a></p>")] == [
        "https://site.example/6",
        "https://site.example/7",
    ]


def test_canonical_url_and_language() -> None:
    def canon(head, base="https://site.example/a/1"):
        return canonical_url(fromstring(f"<html><head>{head}</head><body><p>x</p></body></html>"), base)

    assert canon("<link rel='Canonical' href='/a/1'>") == "https://site.example/a/1"
    assert (
        canon("<link rel='stylesheet' href='/s.css'><meta name='og:url' content='https://o.example/x'>")
        == "https://o.example/x"
    )
    # the first canonical link decides; an empty one falls through to og:url
    assert (
        canon(
            "<link rel='canonical' href=' '><link rel='canonical' href='https://b.example/'>"
            "<meta property='og:url' content='https://o.example/y'>"
        )
        == "https://o.example/y"
    )
    assert canon("<link rel='canonical' href='javascript:void(0)'>") is None

    def lang(html):
        return html_language(fromstring(html))

    assert lang("<html lang='de-AT'><body><p>x</p></body></html>") == "de"
    assert lang("<html><head><meta http-equiv='Content-Language' content='fr'></head><body>x</body></html>") == "fr"
    assert (
        lang("<html lang='xyz'><head><meta property='og:locale' content='es_ES'></head><body>x</body></html>") == "es"
    )
    assert lang("<html><body><p>x</p></body></html>") is None
