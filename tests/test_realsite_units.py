"""The pure parts behind real-site fetching: request URL vs identity key, conditional
headers for compressed ETags, page types from the signals CMSs emit, stated author and
date, the store's site notes, the not-article count in the run summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import lxml.html
import pytest

from wiredesk.core.errors import ConfigError
from wiredesk.extractors.stated import clean_author, stated_author, stated_published
from wiredesk.fetching import canonicalize_url, request_url
from wiredesk.fetching.engine import robots_lifetime
from wiredesk.fetching.http import Response
from wiredesk.fetching.outcomes import validator_headers
from wiredesk.fetching.pagetype import read_page
from wiredesk.fetching.robots import parse_robots
from wiredesk.fetching.urls import without_tracking


def test_request_url_changes_nothing_but_the_fragment() -> None:
    assert request_url("story/?utm_source=rss#c-3", "http://h/2026/11/") == "http://h/2026/11/story/?utm_source=rss"
    assert request_url("http://h/A/B/?b=2&a=1") == "http://h/A/B/?b=2&a=1"


@pytest.mark.parametrize(
    "a, b",
    [
        ("http://h/news/story", "http://h/news/story/"),
        ("http://h/news/story/", "http://h/news/story/index.html"),
        ("http://h/news/story?utm_source=x&fbclid=1", "http://h/news/story"),
        ("http://h/?p=123&utm_medium=social", "http://h/?p=123"),
    ],
)
def test_identity_key_treats_spellings_of_one_page_as_one(a: str, b: str) -> None:
    assert canonicalize_url(a) == canonicalize_url(b)


def test_identity_key_keeps_what_names_the_page() -> None:
    assert canonicalize_url("http://h/?p=123") != canonicalize_url("http://h/?p=124")
    assert canonicalize_url("http://h/a/b") != canonicalize_url("http://h/a")
    assert without_tracking("http://h/s/?utm_source=rss&id=4") == "http://h/s/?id=4"


def test_if_none_match_carries_the_etag_without_the_coding_suffix() -> None:
    assert validator_headers('"abc-gzip"', None) == {"If-None-Match": '"abc"'}
    assert validator_headers('W/"abc-br"', "Tue, 01 Dec 2026 10:00:00 GMT") == {
        "If-None-Match": 'W/"abc"',
        "If-Modified-Since": "Tue, 01 Dec 2026 10:00:00 GMT",
    }
    assert validator_headers('"plain"', None) == {"If-None-Match": '"plain"'}
    assert validator_headers(None, "Tue, 01 Dec 2026 10:00:00 GMT") == {
        "If-Modified-Since": "Tue, 01 Dec 2026 10:00:00 GMT"
    }


def test_robots_rules_match_the_url_as_sent() -> None:
    rules = parse_robots("User-agent: *\nDisallow: /members/\nDisallow: /*?print=\nAllow: /*.css$\n", "wiredesk")
    assert rules.allowed("http://h/members")  # not the same path as /members/
    assert not rules.allowed("http://h/members/")
    assert not rules.allowed("http://h/story/?print=1")
    assert rules.allowed("http://h/story/?page=2")


def test_robots_lifetime_follows_the_server_within_a_day() -> None:
    def resp(**headers: str) -> Response:
        import httpx

        return Response(url="http://h/robots.txt", status=200, headers=httpx.Headers(headers))

    assert robots_lifetime(resp()) == 24 * 3600
    assert robots_lifetime(resp(**{"cache-control": "public, max-age=3600"})) == 3600
    assert robots_lifetime(resp(**{"cache-control": "max-age=999999"})) == 24 * 3600
    assert robots_lifetime(resp(**{"cache-control": "max-age=0"})) == 60


def _page(body_class: str = "", head: str = "", body: str = "<p>text</p>") -> bytes:
    return f'<html><head>{head}</head><body class="{body_class}">{body}</body></html>'.encode()


@pytest.mark.parametrize(
    "page, kind",
    [
        (_page("post-template-default single single-post postid-4 single-format-standard"), "article"),
        (_page("home blog wp-embed-responsive"), "listing"),
        (_page("archive category category-news category-2"), "listing"),
        (_page("archive tag tag-harbour"), "listing"),
        (_page("archive author author-jdoe author-2"), "listing"),
        (_page("archive date"), "listing"),
        (_page("search search-results"), "listing"),
        (_page("page-template-default page page-id-5"), "listing"),  # a WordPress page: About
        (_page("error404"), "listing"),  # "Nothing here"
        (_page("path-node page-node-type-article"), "article"),  # Drupal
        (_page("path-taxonomy page-taxonomy-term"), "listing"),
        (
            _page(
                head='<script type="application/ld+json">{"@graph":[{"@type":"WebPage"},{"@type":"NewsArticle"}]}</script>'
            ),
            "article",
        ),
        (_page(head='<script type="application/ld+json">{"@type":"CollectionPage"}</script>'), "listing"),
        (_page(head='<meta property="og:type" content="article">'), "article"),
        (_page(head='<meta property="og:type" content="profile">'), "listing"),
        (_page(head='<link rel="next" href="/page/3/">'), "listing"),
        (
            _page(
                body="".join(
                    f'<article><h2><a href="/s{n}/">Story {n}</a></h2><p>Teaser.</p></article>' for n in range(5)
                )
            ),
            "listing",
        ),
        (
            _page(
                body="<p>"
                + "word " * 400
                + "</p>"
                + "".join(f'<h3><a href="/r{n}/">Related {n}</a></h3>' for n in range(4))
            ),
            None,
        ),
        (_page(), None),
    ],
)
def test_page_types_from_cms_signals(page: bytes, kind: str | None) -> None:
    assert read_page(page, "http://h/x/").kind == kind


_STORY = "".join(f"<p>{'Sentence of the story with running words in it. ' * 8}</p>" for _ in range(4))  # 320 words
_RELATED = "".join(f'<h3><a href="/r{n}/">Related {n}</a></h3>' for n in range(6))


@pytest.mark.parametrize(
    "page, kind",
    [
        # weak signals on a page with an article's body: left to the extractor
        (_page(head='<meta property="og:type" content="website">', body=f"<div>{_STORY}</div>{_RELATED}"), None),
        (_page(head='<meta property="og:type" content="blog">', body=_STORY), None),
        (_page(head='<link rel="prev" href="/2019/older-post/">', body=f"<main>{_STORY}</main>"), None),
        (_page(head='<script type="application/ld+json">{"@type":"WebPage"}</script>', body=_STORY), None),
        (_page(body=f"<article><div>{_STORY}</div></article><aside>{_RELATED * 3}</aside>"), None),
        # ... and the same signals on listings stay listings
        (_page(head='<meta property="og:type" content="website">', body=f"<div>{_STORY[:200]}</div>"), "listing"),
        (  # excerpts as sibling paragraphs between headline links: a listing however long
            _page(
                head='<link rel="next" href="/page/2/">',
                body="<div>"
                + "".join(
                    f'<h2><a href="/s{n}/">Story {n}</a></h2><p>{"Excerpt words here. " * 15}</p>' for n in range(8)
                )
                + "</div>",
            ),
            "listing",
        ),
        (  # full posts on a blog's front page, each in its <article>
            _page(
                head='<meta property="og:type" content="website">',
                body="".join(f"<article><h2>Post {n}</h2><div>{_STORY}</div></article>" for n in range(3)),
            ),
            "listing",
        ),
        (  # a strong signal is not outweighed
            _page(head='<script type="application/ld+json">{"@type":"ProfilePage"}</script>', body=_STORY),
            "listing",
        ),
        (_page(head='<meta property="og:type" content="profile">', body=_STORY), "listing"),
    ],
)
def test_weak_listing_signals_give_way_to_an_article_body(page: bytes, kind: str | None) -> None:
    assert read_page(page, "http://h/x/").kind == kind


def test_article_urls_pattern_decides_and_listing_links_are_filtered() -> None:
    import re

    body = _page(
        "home blog",
        body='<a href="/2026/11/story/#respond">s</a><a href="/feed/">f</a><a href="/wp-login.php">l</a>'
        '<a href="http://other.example/x">o</a><a href="/category/news/" rel="nofollow">n</a>'
        '<a href="/2026/11/story/?replytocom=3">r</a><a href="/page/2/">2</a><a href="/logo.png">i</a>',
    )
    signals = read_page(body, "http://h/")
    assert signals.kind == "listing"
    assert signals.links == ("http://h/2026/11/story/", "http://h/page/2/")
    pattern = re.compile(r"/\d{4}/\d{2}/[^/]+/$")
    assert read_page(body, "http://h/2026/11/story/", article_urls=pattern).kind == "article"
    assert read_page(_page("single single-post postid-1"), "http://h/about/", article_urls=pattern).kind == "listing"


def _tree(html: str):
    return lxml.html.document_fromstring(html)


def test_stated_date_beats_comment_times_and_author_skips_invitations() -> None:
    tree = _tree(
        "<html><body><article>"
        '<aside><a rel="author" href="/a/">View all posts by Jane Doe</a> <a rel="author" href="/a/">Follow</a></aside>'
        '<p>By <a rel="author" href="/a/">Jane Doe</a> <time datetime="2026-11-05T08:30:00+00:00">5 Nov</time></p>'
        '<div id="comments" class="comments-area"><time datetime="2026-11-05T11:30:00+00:00">x</time></div>'
        "</article></body></html>"
    )
    assert stated_published(tree) == "2026-11-05T08:30:00+00:00"
    assert stated_author(tree) == "Jane Doe"
    comment_first = _tree(
        '<html><body><article><ol class="comment-list"><li><time datetime="2026-11-06T00:00:00+00:00">x</time></li>'
        '</ol></article><p class="wp-block-post-author__name">Jane</p></body></html>'
    )
    assert stated_published(comment_first) is None  # a comment's time is nobody's publication date


def test_wordpress_block_theme_byline_not_the_commenter() -> None:
    # Twenty Twenty-Three's single post: the post-author block, then comment-author blocks.
    tree = _tree(
        '<html><body><div class="wp-block-group"><p>by</p><div class="wp-block-post-author">'
        '<div class="wp-block-post-author__content"><p class="wp-block-post-author__name">Jane Doe</p></div></div></div>'
        '<div class="wp-block-comments"><div class="wp-block-comment-author-name">Reader 1</div></div></body></html>'
    )
    assert stated_author(tree) == "Jane Doe"
    from wiredesk.extractors.stated import commenter_names

    assert commenter_names(tree) == {"Reader 1"}


def test_stated_metadata_order_jsonld_then_meta() -> None:
    tree = _tree(
        '<html><head><meta property="article:published_time" content="2026-11-02T07:30:00Z">'
        '<meta name="author" content="Meta Name">'
        '<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"WebPage"},'
        '{"@type":"NewsArticle","datePublished":"2026-11-01T00:00:00Z","author":[{"@type":"Person","name":"Omar Haddad"},'
        '{"@type":"Person","name":"Li Wen"}]}]}</script></head><body></body></html>'
    )
    assert stated_published(tree) == "2026-11-02T07:30:00+00:00"  # the meta tag comes first
    assert stated_author(tree) == "Omar Haddad, Li Wen"
    assert clean_author("By Jane Doe") == "Jane Doe"
    for junk in ("View all posts by Jane Doe", "More from Jane Doe", "Follow", "https://x.example/jane", "@jane"):
        assert clean_author(junk) is None


def test_store_keeps_site_notes_until_they_expire(tmp_path) -> None:
    from wiredesk.storage import open_store

    later = datetime.now(UTC) + timedelta(hours=24)
    with open_store(str(tmp_path / "w.db")) as store:
        assert store.load_note("robots http://h") is None
        store.save_note("robots http://h", "User-agent: *\nDisallow: /x/\n", later)
        store.save_note("robots http://h", "User-agent: *\nDisallow: /y/\n", later)
    with open_store(str(tmp_path / "w.db")) as store:
        text, expires = store.load_note("robots http://h")
    assert text.endswith("/y/\n") and abs((expires - later).total_seconds()) < 1


def test_summary_counts_not_articles_and_config_checks_article_urls(tmp_path) -> None:
    from wiredesk.config import load_config
    from wiredesk.pipeline.report import SourceTally, summarise

    tally = SourceTally(source="s")
    tally.skipped["not-article"] += 3
    assert summarise("r", [tally], wall_seconds=0.0, export=None)["not_articles"] == 3
    path = tmp_path / "w.yaml"
    path.write_text("sources:\n  - name: s\n    sites: [http://h/]\n    article_urls: '(['\n")
    with pytest.raises(ConfigError, match="article_urls: not a regular expression") as caught:
        load_config(path, environ={})
    assert "\n" not in str(caught.value)
    path.write_text("sources:\n  - name: s\n    sites: [http://h/]\n    article_urls: '/20\\d\\d/'\n")
    assert load_config(path, environ={}).sources[0].article_urls == "/20\\d\\d/"
