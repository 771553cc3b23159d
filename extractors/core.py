"""extract_page: one RawPage -> Extracted, by kind (HTML path or plain-text line cleaner)."""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from contextlib import nullcontext

from lxml.etree import XPath

from wiredesk.core.errors import ExtractionError, InputError
from wiredesk.core.records import Extracted, RawPage

from . import chooser
from . import html as html_path
from .decoding import decode_page
from .furniture import Credit, credit_line, furniture_kind, words
from .language import guess_language, non_latin_language
from .metadata import (
    PageMeta,
    best_title,
    canonical_url,
    credit_links,
    host_of,
    html_language,
    iso_date,
    metadata_author,
    metadata_date,
    metadata_head,
    same_site,
)
from .profile import HostProfile
from .repair import repairs
from .settings import ExtractSettings
from .stated import clean_author, commenter_names, stated_author, stated_published
from .tails import kept_tails
from .text import TextResult, clean_lines, line_key, word_count
from .text_meta import text_metadata

_DEFAULT = ExtractSettings()


def _known(profile: HostProfile | None, settings: ExtractSettings) -> Callable[[str], bool] | None:
    if profile is None or profile.pages < settings.profile_min_pages:
        return None
    return lambda key: profile.knows(key, min_pages=settings.profile_min_pages, min_share=settings.profile_min_share)


def extract_page(
    page: RawPage,
    *,
    settings: ExtractSettings = _DEFAULT,
    profile: HostProfile | None = None,
    rules: chooser.Rules = chooser.RULES,
    memo: dict | None = None,
    timings: dict[str, float] | None = None,
) -> Extracted:
    """Extract the article of one page.

    Raises InputError (reason "oversized", "empty", "binary", "decode") for pages that
    cannot be read, ExtractionError(reason="no-content") when no article text survives.
    """
    if len(page.body) > settings.max_bytes:
        raise InputError(f"page is {len(page.body)} bytes, limit {settings.max_bytes}", reason="oversized")
    text = decode_page(page.body, kind=page.kind, header_encoding=page.encoding)
    known = _known(profile, settings)
    if page.kind == "html":
        result, meta, method = _extract_html(text, page, settings, known, rules=rules, memo=memo, timings=timings)
    else:
        result = clean_lines(text, is_known=known)
        found = text_metadata(text, result.lines, page.url)
        meta = PageMeta(
            title=found.title,
            author=found.author,
            published=found.published,
            language=guess_language("\n".join(result.lines)),
        )
        method = "text-lines"
    body = "\n".join(result.lines)
    if (len(words(body)) if body.isascii() else word_count(body)) < settings.min_words:
        raise ExtractionError(f"no article text found ({method})", reason="no-content")
    original_url, names_original = _original(page, meta, result.credits)
    return Extracted(
        text=body,
        title=meta.title,
        author=meta.author,
        published=meta.published or iso_date(page.published),
        language=meta.language,
        canonical_url=meta.canonical_url,
        original_url=original_url,
        names_original=names_original,
        method=method,
    )


def html_candidates(
    text: str,
    page: RawPage,
    settings: ExtractSettings,
    memo: dict | None = None,
    timings: dict[str, float] | None = None,
    rules: chooser.Rules = chooser.RULES,
) -> chooser.PageCandidates:
    """Everything read from the page's tree, each computed on first use (see chooser).

    ``memo`` (a dict kept by the caller) lets a benchmark evaluate the chooser's rules
    again and again without re-running the extractors; ``timings`` (a dict) receives
    each candidate's own CPU seconds (the benchmark's slowest-pages report).
    """
    state: dict = {}

    def tree():
        if "tree" not in state:
            state["tree"] = _parse_with_repairs(text)
            if state["tree"] is None:
                raise InputError("HTML could not be parsed", reason="decode")
        return state["tree"]

    def declared():
        return html_language(tree())

    def holds_story(text: str) -> bool:
        return chooser.holds_story(cands.get("block"), text, rules)

    gate = holds_story if rules.cascade_min_block_words else None

    def trafilatura(**options):
        def run():
            # precision mode keeps the text after an empty <span>/<div> (see tails.py)
            with kept_tails(tree()) if options.get("favor_precision") else nullcontext():
                doc = html_path.run_trafilatura_staged(
                    tree(), url=page.url, settings=settings, holds_story=gate, **options
                )
            return html_path.Candidate(method="trafilatura", text=doc.text or "") if doc else None

        return run

    def head():
        return metadata_head(tree()) if settings.with_metadata else None

    def info():
        found = cands.get("meta_head")
        traf_title = getattr(found, "title", None) or None
        return {
            "traf_title": traf_title,
            "title": best_title(tree(), traf_title),
            "canonical": canonical_url(tree(), page.url),
            "links": credit_links(tree(), page.url, lambda t: credit_line(t) is not None),
        }

    def recall():
        doc = html_path.run_trafilatura(tree(), url=page.url, settings=settings, with_metadata=False, favor_recall=True)
        return html_path.Candidate(method="trafilatura-recall", text=(doc.text or "") if doc else "")

    cands = chooser.PageCandidates(
        make={
            "tree": tree,
            "declared": declared,
            "primary": lambda: cands.get("precise") if _precise(cands.get("declared")) else cands.get("balanced"),
            "precise": trafilatura(favor_precision=True),
            "balanced": trafilatura(),
            "readability": lambda: html_path.Candidate(
                method="readability", text=html_path.run_readability(tree(), url=page.url)
            ),
            "block": lambda: chooser.main_block(tree()),
            "entries": lambda: chooser.entries(tree()),
            "body_chars": lambda: chooser.body_chars(tree()),
            "link_texts": lambda: chooser.link_texts(tree()),
            "comments": lambda: chooser.comment_lines(tree()),
            "info": info,
            "meta_head": head,
            # trafilatura's author and date searches: only where the page states neither
            "meta_author": lambda: metadata_author(tree(), cands.get("meta_head")),
            "meta_date": lambda: iso_date(metadata_date(tree(), cands.get("meta_head"), page.url)),
            "recall": recall,
        }
    )
    if memo is not None:
        cands.done = memo
    cands.spent = timings
    # The make functions reach the candidates through a weak proxy: through ``cands``
    # itself they would close a cycle (cands -> make -> function -> cands), and every page's
    # tree and candidates would wait for the cyclic collector instead of going with the
    # caller's last reference (600 pages: ~0.3 CPU s of collections, +120 MB of RSS at a
    # first generation of 10,000 objects).
    strong, cands = cands, weakref.proxy(cands)
    return strong


def _parse_with_repairs(text: str):
    """The page's tree; where the parser found no <body> (an unclosed <title>, a quote
    spliced into a tag: see repair.py), the first repaired markup that has one."""
    tree = html_path.parse_html(text)
    if tree is not None and tree.find("body") is not None:
        return tree
    for fixed in repairs(text):
        again = html_path.parse_html(fixed)
        if again is not None and again.find("body") is not None:
            return again
    return tree


def _precise(declared: str | None) -> bool:
    # trafilatura's precision mode pays off on English news pages (ScrapingHub: +0.009
    # F1) and costs recall on the German-majority trafilatura-eval pages, where its
    # default mode plus our line rules scores higher (+0.003); the page's declared
    # language is the cheap signal we have before extracting.
    # Non-Latin-script pages (no measurement favoured the default mode there) get precision
    # too: the default mode falls back to trafilatura's baseline on short CJK articles,
    # one line of the whole page with menus and share bars in it.
    return declared in (None, "en") or non_latin_language(declared)


def _extract_html(
    text: str,
    page: RawPage,
    settings: ExtractSettings,
    known: Callable[[str], bool] | None,
    *,
    rules: chooser.Rules = chooser.RULES,
    memo: dict | None = None,
    timings: dict[str, float] | None = None,
) -> tuple[TextResult, PageMeta, str]:
    cands = html_candidates(text, page, settings, memo, timings, rules)
    declared = cands.get("declared")
    primary = cands.get("primary")
    content_lang = guess_language(primary.text) if primary else None
    # readability's second opinion is used in full on English pages, elsewhere only to
    # rescue a collapsed primary (see html.choose), so it only runs when it can matter.
    chosen = chooser.decide(
        cands,
        english=(content_lang or declared) == "en",
        precise=_precise(declared),
        use_readability=settings.use_readability,
        rules=rules,
    )
    chosen = chooser.with_entries(chosen, cands, rules)
    if chosen is None or not chosen.text.strip():
        # Both found nothing: trafilatura's recall mode is the last resort.
        chosen = cands.get("recall")
    result = clean_lines(chosen.text, is_known=known, select_block=False)
    kept = chooser.drop_link_rails(result.lines, lambda: cands.get("link_texts"))
    # never down to nothing: a page that is all link lists (CleanEval's portals) keeps them
    if len(kept) < len(result.lines) and word_count("\n".join(kept)) >= settings.min_words:
        dropped = dict(result.dropped, links=len(result.lines) - len(kept))
        result = TextResult(lines=kept, credits=result.credits, dropped=dropped)
    info = cands.get("info")
    title = info["title"]
    result = _drop_headline(_drop_headline(result, title), info["traf_title"])
    # Credit lines: the URL of the original is usually only in the link's href.
    links = info["links"]
    if links:
        by_text = {line_key(t): href for t, href in links}
        credits = [Credit(line=c.line, name=c.name, url=c.url or by_text.get(line_key(c.line))) for c in result.credits]
        if not credits:  # the extractor dropped the credit line; the page still has it
            credits = [Credit(line=t, name=None, url=href) for t, href in links]
        result = TextResult(lines=result.lines, credits=tuple(credits), dropped=result.dropped)
    # What the page states for machines beats the heuristics (see stated.py); the
    # heuristics (trafilatura's byline search, htmldate) only run where it states nothing.
    tree = cands.get("tree")
    author = stated_author(tree)
    if not author:
        author = clean_author(author_name(cands.get("meta_author")))
        if author and author in commenter_names(tree):
            author = None
    meta = PageMeta(
        title=title,
        author=author,
        published=stated_published(tree) or cands.get("meta_date"),
        language=_text_language(tree, chosen.text, declared, content_lang),
        canonical_url=info["canonical"],
    )
    return result, meta, chosen.method


_LANG_TAG = re.compile(r"([A-Za-z]{2})(?:[-_][A-Za-z0-9]+)*$")
_LANG_ELEMENTS = XPath("//body/descendant::*/@lang/..")  # //body//*[@lang], stepping onto the attribute first


def _text_language(tree, text: str, declared: str | None, content_lang: str | None) -> str | None:
    """The article's language: a ``lang`` attribute on the element that holds the article
    (a page in one language quoting or syndicating an article in another), else what the
    text's script says when that is certain (a non-Latin script under a Latin-language
    <html lang>, or the reverse), else <html lang>, else the text's function words."""
    inner = _inner_lang(tree, text)
    if inner:
        return inner
    if content_lang and declared and non_latin_language(content_lang) != non_latin_language(declared):
        return content_lang
    return declared or content_lang or guess_language(text)


def _inner_lang(tree, text: str) -> str | None:
    probe = " ".join(max(text.split("\n"), key=len, default="").split())[:80]
    if len(probe) < 20:
        return None
    # The last match in document order (a later match is nested deeper or is a sibling):
    # looked for from the end, where the small, deeply nested elements are.
    best = next((el for el in reversed(_LANG_ELEMENTS(tree)) if probe in " ".join(el.text_content().split())), None)
    if best is None:
        return None
    m = _LANG_TAG.match((best.get("lang") or "").strip())
    return m.group(1).lower() if m else None


_FOLLOW_WORDS = frozenset({"follow", "following", "folgen", "folge", "suivre", "seguir", "segui", "obserwuj", "volg"})


def author_name(author: str | None) -> str | None:
    """An author field without the "Follow" button or share line that theme markup
    puts inside the byline ("Follow Jane Doe", "Jane Doe Follow", "Follow", "Share")."""
    if not author:
        return None
    names = []
    for name in author.split(";"):  # trafilatura joins several authors with "; "
        tokens = name.split()
        while tokens and tokens[0].lower().strip(":") in _FOLLOW_WORDS:
            tokens.pop(0)
        while tokens and tokens[-1].lower().strip(":") in _FOLLOW_WORDS:
            tokens.pop()
        name = " ".join(tokens)
        if name and furniture_kind(name) is None:
            names.append(name)
    return "; ".join(dict.fromkeys(names)) or None


def _drop_headline(result: TextResult, title: str | None) -> TextResult:
    """The headline is metadata, not body text: extractors often repeat it as line one."""
    if not title or not result.lines:
        return result
    first, key = line_key(result.lines[0]), line_key(title)
    if first and (first == key or (len(first) > 15 and key.startswith(first))):
        dropped = dict(result.dropped)
        dropped["headline"] = dropped.get("headline", 0) + 1
        return TextResult(lines=result.lines[1:], credits=result.credits, dropped=dropped)
    return result


def _original(page: RawPage, meta: PageMeta, credits: tuple[Credit, ...]) -> tuple[str | None, bool]:
    """Does the page name another outlet's page as the original? (url, yes/no)"""
    own = host_of(page.url)
    if meta.canonical_url and own and not same_site(host_of(meta.canonical_url), own):
        return meta.canonical_url, True
    for credit in credits:
        if credit.url and own and same_site(host_of(credit.url), own):
            continue  # a "source" link to the site itself credits nobody else
        if not credit.url and _names_itself(credit.name, own):
            continue  # "SOURCE: Al Jazeera News" on aljazeera.com
        return credit.url, True
    return None, False


_GENERIC_LABELS = frozenset({"www", "m", "mobile", "amp", "co", "com", "org", "net", "gov", "ac", "edu"})


def _names_itself(name: str | None, host: str) -> bool:
    """Is the credited outlet the page's own site ("Al Jazeera News" on aljazeera.com)?"""
    if not name or not host:
        return False
    parts = [p for p in host.split(".")[:-1] if p not in _GENERIC_LABELS] or [host]
    label = "".join(ch for ch in max(parts, key=len) if ch.isalnum())
    squashed = "".join(ch for ch in name.lower() if ch.isalnum())
    return len(label) >= 3 and (label in squashed or squashed in label)
