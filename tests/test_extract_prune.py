"""trafilatura's pruning XPaths run in Python (extractors/traf_prune.py): the same elements
in the same order as the XPaths, and the private bare_extraction gives trafilatura's output
while the library stays as shipped."""

from __future__ import annotations

import gzip
import json
from copy import copy
from pathlib import Path

import pytest
from lxml.etree import XPath
from lxml.html import fromstring, tostring

from wiredesk.extractors import traf_prune
from wiredesk.extractors.decoding import decode_page
from wiredesk.extractors.html import parse_html

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "html"
LISTS = traf_prune.PRUNE_LISTS
# Markup aimed at every clause of every expression, with the attribute orders that matter
# (XPath's string(@id|@class) is the value of whichever attribute comes first in the tag).
TRICKY = """<html><body>
<div class="cookie" id="main">a</div><div id="main" class="cookie">b</div>
<span id="reply-1" class="x">c</span><span class="x" id="reply-1">d</span><span class="reply-2">d2</span>
<p style="a" id="hidden">e</p><p id="x" style="hidden">f</p><p id="hidden-thing">f2</p>
<div class="foo bottom" id="x">g</div><div id="x" class="foo bottom">h</div><div id="linkbar"><p>h2</p></div>
<div class="a link b">h3</div><item class="bottom">h4</item><p style="border:1px">h5</p>
<div role="Navigation">i</div><div role="main">i2</div><div data-lp-replacement-content="">j</div>
<div data-component="MostPopularStories-x">j2</div><div aria-hidden="true">k</div><div aria-hidden="false">k2</div>
<ol id="comments">l</ol><ul class="x" id="comment-list"><li>m</li></ul><ol class="commentary">n</ol>
<ol id="disqus_thread">n2</ol><div id="disqus_thread">n3</div><details class="Comment-box">n4</details>
<list class="post-comments">n5</list><section id="commentary">n6</section>
<section class="infinite-scroll"><h1>o</h1></section><div id="mvp-post-add-box"><h1>p</h1></div>
<aside class="infinitescroll">p2</aside><div class="elementor-share-buttons x">p3</div><span class="elementor-share-buttons">p4</span>
<div class="TeaserX">q</div><div id="big-teaser">q2</div><p id="fig-caption">r</p><span class="Caption">r2</span>
<div class="comments-title">s</div><div class="x comments-title">s2</div><div style="display: none">t</div>
<div style="display:none">t2</div><div id="akismet-x">t3</div><div class="notloaded">t4</div><div class=" hidden">t5</div>
<div class="navbar">u</div><div id="sidebar-1">u2</div><span class="ad">u3</span><span class="x ad y">u4</span>
<div class="social"><div class="share-bar"><p>nested v</p></div></div><div class="Footer">w</div>
<div id="Nav">w2</div><div class="menu-item">w3</div><div class="xyz">w4</div><p class="pläne social">w5</p>
</body></html>"""


def _xpaths():
    import trafilatura.xpaths as xpaths

    for name in LISTS:
        for i, xpath in enumerate(getattr(xpaths, name)):
            yield f"{name}[{i}]", xpath


def _converted(tree):
    """The tree as trafilatura's extraction sees it (cleaned, tags converted: list, item, ...)."""
    from trafilatura.htmlprocessing import convert_tags, tree_cleaning
    from trafilatura.settings import Extractor

    options = Extractor(comments=False)
    return convert_tags(tree_cleaning(copy(tree), options), options)


def _pages(shared_data: Path | None) -> list:
    trees = [parse_html(decode_page(p.read_bytes(), kind="html")) for p in sorted(SAMPLES.glob("*.html"))]
    if shared_data is not None:
        for name in ("scrapinghub-aeb", "trafilatura-eval"):
            d = shared_data / "extraction" / name
            rows = [json.loads(line) for line in (d / "ground_truth.jsonl").open(encoding="utf-8")][::8]
            for r in rows:
                html = gzip.decompress((d / "html" / f"{r['id']}.html.gz").read_bytes())
                trees.append(parse_html(decode_page(html, kind="html")))
    trees = [t for t in trees if t is not None]
    return trees + [_converted(t) for t in trees]


def test_every_pruning_xpath_has_an_equivalent() -> None:
    """A trafilatura upgrade that rewrites one of them falls back to the XPath; this says so."""
    missing = [name for name, xpath in _xpaths() if traf_prune.fast_equivalent(xpath) is None]
    assert missing == ["PRECISION_DISCARD_XPATH[0]"]  # ".//header": already cheap as an XPath


@pytest.mark.parametrize("name", [name for name, _ in _xpaths() if name != "PRECISION_DISCARD_XPATH[0]"])
def test_same_elements_as_the_xpath_on_tricky_markup(name: str) -> None:
    xpath = dict(_xpaths())[name]
    fast = traf_prune.fast_equivalent(xpath)
    for tree in (fromstring(TRICKY), _converted(fromstring(TRICKY))):
        expected = xpath(tree)
        assert fast(tree) == expected
    assert xpath(fromstring(TRICKY)), "the markup exercises the expression"


def test_same_elements_as_the_xpaths_on_pages(shared_data: Path) -> None:
    trees = _pages(shared_data)
    assert len(trees) > 100
    for name, xpath in _xpaths():
        fast = traf_prune.fast_equivalent(xpath)
        if fast is None:
            continue
        for tree in trees:
            assert fast(tree) == xpath(tree), name


BASIC = """<html><body><aside>a</aside><div class="site-footer" id="x">b</div><div id="footer" class="x">c</div>
<div class="x" id="footer">d</div><p class="footer">e</p><footer>f</footer><script>g</script><style>h</style><svg>i</svg>
<template>j</template><fencedframe>k</fencedframe><span class="Cookie-Banner">l</span><p id="ONETRUST-x">m</p>
<div class="cookies-not-set">n</div><section id="cmplz"><div><footer>o</footer></div></section><p>p</p></body></html>"""


def test_basic_cleaning_in_python(shared_data: Path) -> None:
    """baseline's and html2txt's BASIC_CLEAN_XPATH: the same elements, in order, from the
    page's root and from its <body> (html2txt's context)."""
    from trafilatura.settings import BASIC_CLEAN_XPATH

    fast = traf_prune.basic_clean_equivalent(BASIC_CLEAN_XPATH)
    assert fast is not None
    tricky = fromstring(BASIC)
    assert len(BASIC_CLEAN_XPATH(tricky)) == 13, "the markup exercises every clause (not d, n, e)"
    trees = [tricky, *_pages(shared_data)]
    for tree in trees:
        for context in (tree, tree.find("body")):
            if context is not None:
                assert fast(context) == BASIC_CLEAN_XPATH(context)
    assert traf_prune.basic_clean_equivalent(XPath(".//aside|.//footer")) is None


def test_a_changed_expression_falls_back_to_the_xpath() -> None:
    changed = XPath(".//*[self::div or self::section or self::aside][contains(@id, 'elementor-share-buttons')]")
    assert traf_prune.fast_equivalent(changed) is None
    tree = fromstring('<html><body><div id="elementor-share-buttons">x</div><p>y</p></body></html>')
    traf_prune.prune_unwanted_nodes(tree, [changed])  # a list not registered: evaluated as the XPath
    assert tostring(tree) == b"<html><body><p>y</p></body></html>"


def test_private_bare_extraction_gives_trafilaturas_output(shared_data: Path) -> None:
    import trafilatura
    from trafilatura import core, htmlprocessing

    bare = traf_prune.bare_extraction()
    assert bare is not core.bare_extraction
    assert htmlprocessing.prune_unwanted_nodes is not traf_prune.prune_unwanted_nodes  # library as shipped
    assert core.trafilatura_sequence.__globals__["prune_unwanted_nodes"] is htmlprocessing.prune_unwanted_nodes
    modes = (
        {"fast": True, "favor_precision": True},
        {"fast": True},
        {"favor_precision": True},
        {},
        {"favor_recall": True},
    )
    trees = _pages(shared_data)
    for tree in trees[: len(trees) // 2 : 3]:  # raw trees
        for mode in modes:
            ours = bare(copy(tree), include_comments=False, **mode)
            theirs = trafilatura.bare_extraction(copy(tree), include_comments=False, **mode)
            assert (ours.text if ours else None) == (theirs.text if theirs else None), mode


def test_pruning_leaves_the_callers_tree_alone() -> None:
    tree = fromstring(TRICKY)
    before = tostring(tree)
    traf_prune.bare_extraction()(tree, include_comments=False, fast=True, favor_precision=True)
    assert tostring(tree) == before


BYLINES = """<html><body>
<div itemprop="author"><span itemprop="name">Jane Doe</span></div><span itemprop="author">John Roe</span>
<span itemprop="name">not inside an author</span><div itemprop="author"><div><b itemprop="name">Deep Name</b></div></div>
<p class="wp-block-post-author__name">A</p><p class="x wp-block-post-author-name\ty">B</p><p class="wp-block-post-author__names">C</p>
<span class="author vcard">D</span><span class="vcard\nauthor">E</span><span class="vcard authors">F</span><span class="author">G</span>
<span class="author\u00a0vcard">H</span><div itemprop="author" class="author vcard"><i itemprop="name">I</i></div>
</body></html>"""


def test_byline_markup_in_one_walk(shared_data: Path) -> None:
    from wiredesk.extractors.stated import _BYLINE_MARKUP, byline_markup

    tricky = fromstring(BYLINES)
    assert [e.text_content() for e in byline_markup(tricky)] == [e.text_content() for e in _BYLINE_MARKUP(tricky)]
    assert byline_markup(tricky) == _BYLINE_MARKUP(tricky)
    assert len(_BYLINE_MARKUP(tricky)) >= 8
    for tree in _pages(shared_data):
        assert byline_markup(tree) == _BYLINE_MARKUP(tree)


BODIES = """<html><body><div id="nav"><p>menu</p></div>
<section class="x"><div class="Fulltext-area"><p>a</p></div></section><div role="mainframe"><p>b</p></div>
<div class="post"><p>c</p></div><div><div class="entry-content big"><p>d</p></div></div><main><p>e</p></main>
<article class="story-content"><p>f</p></article><div id="Main-Content"><p>g</p></div><div class="page-Content"><p>h</p></div>
<span class="post-body">i</span><div itemprop="articleBody"><p>j</p></div><div class="article "><p>k</p></div>
</body></html>"""


def test_body_xpaths_first_hit(shared_data: Path) -> None:
    """trafilatura reads the first element each BODY_XPATH expression selects."""
    import trafilatura.xpaths as xpaths

    fast = [traf_prune.body_equivalent(x) for x in xpaths.BODY_XPATH]
    assert [f is None for f in fast] == [False, True, False, False, False]  # (.//article)[1] stays an XPath
    trees = _pages(shared_data)
    tricky = fromstring(BODIES)
    variants = [tricky]
    for el in list(tricky.iter("div", "section", "article", "main"))[::-1]:
        el.drop_tree()  # peel the page one block at a time: every expression gets its turn
        variants.append(fromstring(tostring(tricky)))
    for xpath, f in zip(xpaths.BODY_XPATH, fast):
        if f is None:
            continue
        assert str(f) == xpath.path
        found = 0
        for tree in trees + variants:
            expected = next((s for s in xpath(tree) if s is not None), None)
            assert next(iter(f(tree)), None) is expected, xpath.path
            found += expected is not None
        assert found, xpath.path


def test_multibyte_count_in_c_is_the_per_character_count() -> None:
    import random

    from wiredesk.extractors.decoding import _multibyte

    rng = random.Random(7)
    alphabet = "abc \n\t\x7f\x80é\xa0\ufffd日本€\U0001f600"
    texts = ["", "ascii only", "\ufffd" * 3, "Ærøskøbing \ufffd 日本"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 60))) for _ in range(300)]
    for text in texts:
        assert _multibyte(text) == sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd"), repr(text)


def test_equivalents_that_could_match_a_missing_attribute() -> None:
    """The walks skip elements without attributes only when no pattern matches ''."""
    ns = {"re": "http://exslt.org/regular-expressions"}
    empty_ok = XPath(
        ".//*[@class='comments-title' or starts-with(@id|@class, 'reply-') or re:test(@id|@style, 'x?') or "
        "contains(@style, 'display:none') or contains(@style, 'display: none') or re:test(@id, 'a') or "
        "re:test(@class, 'b') or @aria-hidden='true']",
        namespaces=ns,
    )
    assert traf_prune.fast_equivalent(empty_ok) is None  # kept as the XPath
    body = XPath(".//*[self::div or self::section][@id='x' or starts-with(@class, '')][1]")
    first = traf_prune.body_equivalent(body)
    tree = fromstring("<html><body><p>a</p><section><div>b</div></section></body></html>")
    assert first(tree) == [next(iter(body(tree)))]
    assert first(tree)[0].tag == "section"


@pytest.mark.parametrize(
    "mode",
    [{"fast": True, "favor_precision": True}, {"fast": True}, {}, {"favor_recall": True}, {"favor_precision": True}],
)
def test_reused_extractor_is_the_one_bare_extraction_builds(mode: dict) -> None:
    """html.run_trafilatura hands bare_extraction a copy of an Extractor built once: every
    field the same as the one bare_extraction builds from its arguments, and the copy
    for one page leaves the next page's alone."""
    from trafilatura.settings import Extractor

    from wiredesk.extractors.html import _extractor

    for url in ("https://example.com/a/b", None, "https://例え.jp/\udcff"):
        for tables in (True, False):
            built = Extractor(
                output_format="python",
                fast=mode.get("fast", False),
                precision=mode.get("favor_precision", False),
                recall=mode.get("favor_recall", False),
                comments=False,
                tables=tables,
                dedup=False,
                url=url,
                with_metadata=False,
            )
            ours = _extractor(url, tables, **mode)
            assert ours is not _extractor(url, tables, **mode)
            for name in Extractor.__slots__:
                assert getattr(ours, name) == getattr(built, name), name


SHORT_STORY = (
    "<!doctype html><html><head><title>Story 7-2</title></head><body><nav><a href='/'>Home</a> "
    "<a href='/world'>World</a></nav><article><h1>Story 7-2</h1><p>Paragraph one of story 2 on host 7, "
    "long enough to look like news.</p></article><footer>&copy; 2026 The Ledger</footer></body></html>"
)


def _private_justext_chain() -> tuple[dict, object]:
    """The copied trafilatura.external scope that the private bare_extraction's rescue runs in."""
    bare = traf_prune.bare_extraction()
    compare = bare.__globals__["trafilatura_sequence"].__globals__["_extract_and_compare"]
    scope = compare.__globals__["compare_extraction"].__globals__
    return scope, scope["justext_rescue"]


def test_justext_rescue_lowercases_the_stop_list_once() -> None:
    """trafilatura's all-languages stop-list is a 154,000-word tuple that justext turned into a
    lowercased frozenset on every rescue (~9 ms a call): the private chain does it once, with the
    same set, and the library keeps its own functions."""
    from justext import core as jt_core
    from trafilatura import external

    scope, rescue = _private_justext_chain()
    assert rescue is not external.justext_rescue and external.justext_rescue.__globals__ is vars(external)
    assert scope["try_justext"] is not external.try_justext and scope["try_justext"].__globals__ is scope
    classify = scope["classify_paragraphs"]
    assert classify is not jt_core.classify_paragraphs and jt_core.classify_paragraphs.__globals__ is vars(jt_core)
    define = classify.__globals__["define_stoplist"]
    words = external.JT_STOPLIST
    assert define(words) is define(words)  # built once
    assert define(words) == jt_core.define_stoplist(words)
    other = ("The", "AND", "of")  # any other stop-list: lowercased as justext does
    assert define(other) == frozenset({"the", "and", "of"})


def test_justext_rescue_gives_the_librarys_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """A short story makes trafilatura fall back to justext: the private chain (its rescue ran,
    with the set built once) gives the library's text and markup, in every mode."""
    import trafilatura

    scope, _ = _private_justext_chain()
    calls = []
    classify = scope["classify_paragraphs"]

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(args[1])
        return classify(*args, **kwargs)

    monkeypatch.setitem(scope, "classify_paragraphs", counted)
    bare = traf_prune.bare_extraction()
    for mode in ({"fast": True, "favor_precision": True}, {"favor_precision": True}, {}, {"favor_recall": True}):
        tree = fromstring(SHORT_STORY)
        ours = bare(copy(tree), include_comments=False, **mode)
        theirs = trafilatura.bare_extraction(copy(tree), include_comments=False, **mode)
        assert (ours.text, tostring(ours.body)) == (theirs.text, tostring(theirs.body)), mode
    assert calls and all(words is scope["JT_STOPLIST"] for words in calls)  # the rescue ran, on that list


# The //*[predicate] scans that stated.py and core.py now write attribute first.
ATTRIBUTE_FIRST = [
    (
        "stated",
        "_REL_AUTHOR",
        "//a[contains(@rel, 'author')][contains(concat(' ', normalize-space(@rel), ' '), ' author ')]",
    ),
    (
        "stated",
        "_BYLINE_CUES",
        "//*[@itemprop='name' or @itemprop='author' or contains(@class, 'author') or contains(@class, 'vcard')]",
    ),
    ("stated", "_DATE_PUBLISHED", "//*[@itemprop='datePublished'][@datetime or @content]"),
    ("stated", "_COMMENTER_CANDIDATES", "//*[contains(@class, 'author') or self::cite]"),
    ("core", "_LANG_ELEMENTS", "//body//*[@lang]"),
    ("html", "_HIDDEN", "//*[@hidden]"),
    ("html", "_STYLED", "//*[@style]"),
    (
        "chooser",
        "_COMMENT_CANDIDATES",
        "//body//*[contains(@class, 'omment') or contains(@id, 'omment') or contains(@id, 'disqus')]"
        "[not(descendant::article or descendant::h1)]",
    ),
]
ATTRIBUTES = """<html lang="en"><head><meta itemprop="datePublished" content="2024-01-01"></head>
<body lang="de" class="author"><a rel="author">A</a><a rel="nofollow author">B</a><a rel="authors">C</a>
<span rel="author">D</span><a rel="AUTHOR">E</a><cite class="author">F</cite><cite>G</cite>
<time itemprop="datePublished" datetime="2024-01-02">x</time><span itemprop="datePublished">no date</span>
<p itemprop="datePublished " content="y">z</p><div lang="fr"><p lang="">q</p><p xml:lang="es">r</p></div>
<div class="comment-author vcard" itemprop="author"><span itemprop="name" class="Author">N</span></div>
<div class="vcard"><span class="fn">V</span></div><div itemprop="creator name">W</div>
<div id="comments" style="display:none"><p class="comment-body" hidden>c1</p><div id="disqus_thread">d</div></div>
<section class="Comments"><article><h1>kept out: holds an article</h1></article></section>
<p style="">s</p><span hidden="">h</span><div class="x" id="commentlist"><h2 class="comment">c2</h2></div>
</body></html>"""


def _attribute_first(module: str, name: str, before: str):
    from wiredesk.extractors import chooser, core, html, stated

    return getattr({"stated": stated, "core": core, "html": html, "chooser": chooser}[module], name), XPath(before)


@pytest.mark.parametrize(("module", "name", "before"), ATTRIBUTE_FIRST, ids=[n for _, n, _ in ATTRIBUTE_FIRST])
def test_attribute_first_scans_select_what_the_element_scans_did(module: str, name: str, before: str) -> None:
    now, then = _attribute_first(module, name, before)
    tricky = fromstring(ATTRIBUTES)
    assert now(tricky) == then(tricky)
    assert len(then(tricky)) >= 2
    for tree in _pages(None):  # the repository's sample pages
        assert now(tree) == then(tree)


@pytest.mark.parametrize(("module", "name", "before"), ATTRIBUTE_FIRST, ids=[n for _, n, _ in ATTRIBUTE_FIRST])
def test_attribute_first_scans_on_dev_pages(shared_data: Path, module: str, name: str, before: str) -> None:
    now, then = _attribute_first(module, name, before)
    for tree in _pages(shared_data):
        assert now(tree) == then(tree)


def test_only_the_fast_precision_run_cleans_the_raw_tree_in_place() -> None:
    from wiredesk.extractors.html import _extractor

    def unread(**mode: bool) -> bool:
        return traf_prune._raw_tree_unread_after(_extractor(None, True, **mode))

    assert unread(fast=True, favor_precision=True)
    # the full cascade copies the raw tree for its comparison; balanced and recall runs read it
    # again (baseline rescue, page measure, recall retry)
    assert not unread(favor_precision=True)
    assert not unread(fast=True)
    assert not unread()
    assert not unread(fast=True, favor_recall=True)


def test_invalid_xml_characters_found_in_c_as_the_library_finds_them() -> None:
    import random

    from trafilatura import utils

    from wiredesk.extractors import html as html_path

    library = utils.INVALID_XML_CHARS
    assert html_path._repair_faulty_html() is not utils.repair_faulty_html  # the check is in use
    # every code point alone and inside ASCII, Latin-1 and wider text (lone surrogates included)
    for cp in range(0x110000):
        ch = chr(cp)
        assert html_path._has_invalid_xml_chars(ch) == bool(library.search(ch)), hex(cp)
    rng = random.Random(5)
    pool = ["a", "<p>", "\t", "\n", "\r", "\x00", "\x0b", "\x1f", "\x7f", "é", "\x85", "€", "\ufffe", "\uffff"]
    pool += ["\ufffd", "\ud800", "\U0001f600", "\uefbf", " "]
    texts = ["", "<!DOCTYPE html/>\n<html/>\n<p>x</p>", "<html>\x0c<body>\ufffe</body></html>"]
    texts += ["".join(rng.choice(pool) for _ in range(rng.randint(0, 30))) for _ in range(5000)]
    repair = html_path._repair_faulty_html()
    for text in texts:
        beginning = text[:50].lower()
        assert repair(text, beginning) == utils.repair_faulty_html(text, beginning), repr(text)


def test_grouped_body_predicates_answer_as_the_xpath_predicates() -> None:
    """Each BODY_XPATH predicate, its tests grouped by attribute, against libxml2's own
    evaluation of it on one element, for values taken from the predicate's own literals."""
    import itertools
    import re

    import trafilatura.xpaths as xpaths
    from lxml import etree

    ns = {"re": "http://exslt.org/regular-expressions"}
    checked = 0
    for xpath in xpaths.BODY_XPATH:
        m = traf_prune._BODY.fullmatch(traf_prune._norm(xpath.path))
        if not m:
            continue
        pred = m["pred"]
        test = traf_prune._predicate(pred)
        assert test is not None
        literals = sorted(set(re.findall(r"'([^']*)'", pred)))
        attrs = sorted(set(re.findall(r"@([\w-]+)", pred)))
        values = ["", "x", "CONTENT", "Main-Content", "article-body", "entry-content x", " main"]
        values += [v.strip("^") for v in literals if v.isascii()][:40]
        # the plain words inside the regex alternatives ("post-body", "fulltext", ...)
        values += sorted({w for v in literals for w in re.split(r"[|()?:^\[\]*]", v) if len(w) >= 3})
        rng = itertools.cycle(values)
        for i in range(3000):
            el = etree.Element("div")
            for attr in attrs:
                if (i + hash(attr)) % 3:
                    el.set(attr, next(rng) + ("" if i % 5 else " " + next(rng)))
            expected = bool(el.xpath(f"self::*[{pred}]", namespaces=ns))
            assert test(el) == expected, (pred, dict(el.attrib))
            checked += expected
    assert checked > 100
