"""The HTML path: trafilatura first, readability-lxml as a second opinion, a chooser.

trafilatura (favor_precision, no comments) is the primary; readability-lxml errs on
different pages, so when the two disagree in a recognisable way we take readability's
text (see ``choose``). Whatever wins then goes through the same line rules as plain-text
pages (furniture, credit lines, the host profile), because both extractors leave share
bars, "Read the original article on X" lines and recurring host furniture in.
"""

from __future__ import annotations

import re
import types
from collections import Counter
from collections.abc import Callable
from copy import copy, deepcopy
from dataclasses import dataclass

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from . import traf_prune
from .settings import ExtractSettings

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    method: str
    text: str


def _fast_lookup_parser(**options) -> etree.HTMLParser:
    """An HTML parser giving the same element classes as lxml.html's, looked up in C.

    lxml.html's parsers pick each element's class in a Python callback
    (HtmlElementClassLookup.lookup), run every time an element is touched from Python:
    half the cost of walking a tree, paid by every reader of the page (both extractors,
    the metadata readers, the chooser's checks). The same mapping (HtmlElement, and
    lxml.html's form/input/select/textarea/label classes) as a namespace lookup runs in C.
    """
    lookup = etree.ElementNamespaceClassLookup(
        etree.ElementDefaultClassLookup(
            element=HtmlElement,
            comment=lxml.html.HtmlComment,
            pi=lxml.html.HtmlProcessingInstruction,
            entity=lxml.html.HtmlEntity,
        )
    )
    names = lookup.get_namespace(None)
    for tag, cls in lxml.html.HtmlElementClassLookup._default_element_classes.items():
        names[tag] = cls
    parser = etree.HTMLParser(**options)
    parser.set_element_class_lookup(lookup)
    return parser


# trafilatura.utils.HTML_PARSER's options, and lxml.html.html_parser's (the defaults).
_PARSER = _fast_lookup_parser(
    collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True
)
_FRAGMENT_PARSER = _fast_lookup_parser()


# trafilatura.utils.INVALID_XML_CHARS, the characters repair_faulty_html deletes, and the
# bytes they (and only they) become in UTF-8: C0 controls but tab, LF and CR; U+FFFE, U+FFFF.
_INVALID_XML_CHARS = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\ufffe\\uffff]"
_CONTROL_BYTES = bytes(c for c in range(32) if c not in (9, 10, 13))


class _InvalidChars:
    """repair_faulty_html's ``INVALID_XML_CHARS.sub("", page)`` that first looks for them in C.

    Most pages hold none, and the regex scan of a whole page (~4.5 ns a character, 0.6 ms
    on the mix's average page) costs more than encoding it and deleting the control bytes
    (``bytes.translate``) to see whether the length changes."""

    def __init__(self, pattern: re.Pattern) -> None:
        self.pattern = pattern

    def sub(self, repl: str, string: str, count: int = 0) -> str:
        if repl == "" and not count and not _has_invalid_xml_chars(string):
            return string
        return self.pattern.sub(repl, string, count)


def _has_invalid_xml_chars(text: str) -> bool:
    raw = text.encode("ascii") if text.isascii() else text.encode("utf-8", "surrogatepass")
    return len(raw.translate(None, _CONTROL_BYTES)) != len(raw) or b"\xef\xbf\xbe" in raw or b"\xef\xbf\xbf" in raw


_REPAIR = None


def _repair_faulty_html():
    """trafilatura.utils.repair_faulty_html, reading INVALID_XML_CHARS through the check
    above (the library's own function where its pattern is not the one checked)."""
    global _REPAIR  # built once: the same function for every page
    if _REPAIR is None:
        from trafilatura import utils

        _REPAIR = utils.repair_faulty_html
        if utils.INVALID_XML_CHARS.pattern == _INVALID_XML_CHARS and not utils.INVALID_XML_CHARS.flags & ~re.UNICODE:
            scope = dict(vars(utils), INVALID_XML_CHARS=_InvalidChars(utils.INVALID_XML_CHARS))
            _REPAIR = traf_prune.rebind(utils.repair_faulty_html, scope)
    return _REPAIR


def _load_html(html: str) -> HtmlElement | None:
    """trafilatura.utils.load_html for a decoded page, with the parser above."""
    from trafilatura.utils import is_dubious_html

    beginning = html[:50].lower()
    dubious = is_dubious_html(beginning)
    html = _repair_faulty_html()(html, beginning)
    tree, as_bytes = None, False
    try:
        tree = lxml.html.fromstring(html, parser=_PARSER)
    except ValueError:  # "Unicode strings with encoding declaration are not supported."
        tree, as_bytes = _from_bytes(html), True
    except Exception:
        tree = None
    if (tree is None or len(tree) < 1) and not as_bytes:
        tree = _from_bytes(html)
    if tree is not None and dubious and len(tree) < 2:
        return None
    return tree


def _from_bytes(html: str) -> HtmlElement | None:
    try:
        return lxml.html.fromstring(html.encode("utf8", "surrogatepass"), parser=_PARSER)
    except Exception:
        return None


def parse_html(html: str) -> HtmlElement | None:
    """Parse once; both extractors and the metadata readers share this tree (copies)."""
    try:
        tree = _load_html(html)
    except Exception:  # lxml raises a zoo of errors on hostile markup
        tree = None
    if tree is None and "<" in html:
        # load_html refuses fragments that do not start like a document ("<table ...",
        # "<div ...", a broken doctype); browsers render them, and so does lxml's parser.
        try:
            tree = lxml.html.document_fromstring(html, parser=_FRAGMENT_PARSER)
        except Exception:
            return None
    return tree


def run_trafilatura(
    tree: HtmlElement, *, url: str | None, settings: ExtractSettings, with_metadata: bool, **options: bool
):
    """trafilatura.bare_extraction on (a copy of) the tree; None when it finds nothing.

    The library's function with its pruning XPaths run in Python (traf_prune: the same
    output, a third less CPU)."""
    bare_extraction = traf_prune.bare_extraction()
    try:
        if with_metadata:
            return bare_extraction(
                tree,
                url=url,
                include_comments=False,
                deduplicate=False,
                include_tables=settings.include_tables,
                with_metadata=with_metadata,
                **options,
            )
        return bare_extraction(tree, options=_extractor(url, settings.include_tables, **options))
    except Exception:
        return None


_EXTRACTORS: dict[tuple, object] = {}


def _extractor(
    url: str | None, tables: bool, *, fast: bool = False, favor_precision: bool = False, favor_recall: bool = False
):
    """The trafilatura.settings.Extractor bare_extraction builds from the arguments above
    (without metadata), as a copy of one built once per combination of options: building
    one reads eight settings out of a ConfigParser. Only the URL differs between pages
    (the date limit it also records is only read by the metadata extraction), and
    extraction never changes an Extractor (the recall retry changes a copy)."""
    key = (tables, fast, favor_precision, favor_recall)
    template = _EXTRACTORS.get(key)
    if template is None:
        from trafilatura.settings import Extractor

        template = _EXTRACTORS[key] = Extractor(
            output_format="python",
            fast=fast,
            precision=favor_precision,
            recall=favor_recall,
            comments=False,
            tables=tables,
            dedup=False,
            with_metadata=False,
        )
    options = copy(template)
    options.url = url
    options.source = url and url.encode("utf-8", "replace").decode("utf-8")
    return options


# trafilatura's "fast" mode skips its comparison with external extractors (its own
# readability port and justext), about half its run time. That comparison only changes
# the result of short or paragraph-less extractions: measured on both benchmarks (781
# pages), fast and full differ on 54 pages, and on those left that are at least this long
# and have paragraphs, the full cascade is no better on average (ScrapingHub +0.000,
# trafilatura-eval -0.0003 F1). Readability runs as our own second opinion anyway.
_FULL_CASCADE_BELOW_CHARS = 1000


def _whole_page(text: str, tree: HtmlElement) -> bool:
    """Is this extraction (nearly) all the text of the page?

    In fast mode a main extraction that finds too little falls straight to trafilatura's
    baseline, which may return the whole page's text; the full cascade first asks its
    external extractors and usually finds the article. Measured cheaply: the page's text
    by XPath (in C), minus the text of scripts and styles.
    """
    body = tree.find("body")
    if body is None:
        return False
    page = int(body.xpath("string-length(normalize-space(.))"))
    for el in body.iter("script", "style", "noscript", "template"):
        page -= len(" ".join((el.text or "").split())) + 1
    return page > 0 and len(" ".join(text.split())) >= 0.95 * page


def run_trafilatura_staged(
    tree: HtmlElement,
    *,
    url: str | None,
    settings: ExtractSettings,
    holds_story: Callable[[str], bool] | None = None,
    **options: bool,
):
    """trafilatura in fast mode, then its full cascade only where that can matter.

    ``holds_story`` (the fast output's text -> bool) says the fast output is the page's
    story although it is short or has no ``<p>``: the cascade is not run then (see
    ``chooser.Rules.cascade_block_share``). A balanced output that is the whole page always
    runs it."""
    doc = run_trafilatura(tree, url=url, settings=settings, with_metadata=False, fast=True, **options)
    if doc is None:
        return run_trafilatura(tree, url=url, settings=settings, with_metadata=False, **options)
    # only the balanced mode falls back to the baseline (precision never does)
    baseline_mode = not options.get("favor_precision")
    if len(doc.text or "") < _FULL_CASCADE_BELOW_CHARS or doc.body is None or not doc.body.xpath(".//p//text()"):
        cascade = not (
            holds_story is not None
            and holds_story(doc.text or "")
            and not (baseline_mode and _whole_page(doc.text, tree))
        )
    else:
        cascade = baseline_mode and _whole_page(doc.text, tree)
    if cascade:
        full = run_trafilatura(tree, url=url, settings=settings, with_metadata=False, **options)
        if full is not None:
            return full
    return doc


_BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol blockquote pre table tr section article header footer "
    "aside dl dt dd figure figcaption br hr main nav form".split()
)


def html_to_lines(root: HtmlElement) -> str:
    """Visible text of an element tree, one block per line (readability output, profiles).

    Iterative (lxml's iterwalk), not recursive: broken markup can nest thousands deep.
    """
    parts: list[str] = []
    skip_depth = 0  # > 0 while inside script/style
    for event, el in etree.iterwalk(root, events=("start", "end", "comment", "pi")):
        if event in ("comment", "pi"):  # not text, but the text after them is
            if el.tail and skip_depth == 0:
                parts.append(el.tail)
            continue
        tag = el.tag if isinstance(el.tag, str) else ""
        skipped = tag in ("script", "style", "noscript", "template")
        if event == "start":
            if skipped:
                skip_depth += 1
            if skip_depth:
                continue
            if tag in _BLOCK_TAGS:
                parts.append("\n")
            if el.text and isinstance(el.tag, str):
                parts.append(el.text)
        else:
            if skipped:
                skip_depth -= 1
            if not skip_depth:
                if tag in _BLOCK_TAGS:
                    parts.append("\n")
            if el.tail and skip_depth == 0 and el is not root:
                parts.append(el.tail)
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


# readability's r"\s{255,}", matching the same runs: the unanchored pattern tries again at
# each whitespace character of a run and scans the rest of it each time (quadratic in the
# run's length: page indentation); this one starts only at a run's first character (the
# character before it is not whitespace) and is ~3x cheaper over readability's texts.
_WS_RUN = re.compile(r"\s(?<!\s\s)\s{254,}")
_NL_RUN = re.compile(r"\s*\n\s*")
# readability's r"\t|[ \t]{2,}" (a tab alone, else a run of two or more from a space): the same
# matches, the second alternative spelt with its literal first space (~35 % cheaper).
_SPACE_RUN = re.compile(r"\t| [ \t]+")


def _clean(text: str) -> str:
    """readability's ``clean``, same output, without substitutions that cannot match.

    readability calls it for the length of every paragraph, link and candidate (tens of
    thousands of calls a page set); three ``re.sub`` through ``re``'s cache each time
    were a quarter of its run time.
    """
    if len(text) >= 255:
        text = _WS_RUN.sub(" " * 255, text)
    if "\n" in text:
        # = _NL_RUN.sub("\n", text) once the final strip() has run: every whitespace run
        # holding a newline becomes one newline (str.strip and re's \s agree on whitespace).
        text = "\n".join(part for part in (p.strip() for p in text.split("\n")) if part)
    if "\t" in text or "  " in text:
        text = _SPACE_RUN.sub(" ", text)
    return text.strip()


# Tag prefixes readability's divToPElementsRe ("<(blockquote|dl|div|img|ol|p|pre|table|ul)",
# case-insensitive, searched in the serialised children) finds in a start tag.
_BLOCKISH_PREFIXES = ("blockquote", "dl", "div", "img", "ol", "p", "pre", "table", "ul")


def _has_blockish_descendant(elem, pattern) -> bool:
    """Would readability's regex find a block tag in the serialised children of elem?

    Same answer as serialising every child and searching the markup (what readability
    does, for every <div>, nested ones again and again), read from the tree instead:
    an element whose tag starts with one of the prefixes, or a comment or processing
    instruction whose own markup contains such a tag (text and attribute values are
    escaped in the serialisation, so they never match).
    """
    for node in elem.iterdescendants():
        tag = node.tag
        if isinstance(tag, str):
            if tag.lower().startswith(_BLOCKISH_PREFIXES):
                return True
        elif pattern.search(etree.tostring(node, encoding="unicode", with_tail=False)):
            return True
    return False


_INLINE_TAGS = frozenset({"a", "b", "cite", "code", "em", "font", "i", "small", "span", "strong", "sub", "sup", "u"})


_IN_CODE = etree.XPath("ancestor-or-self::pre | ancestor-or-self::code")
# //*[@hidden] and //*[@style], compiled once and stepping onto the attribute first (libxml2
# then looks at the elements that have one, not at every element; tests/test_extract_prune.py
# compares them with the element scans).
_HIDDEN = etree.XPath("//@hidden/..")
_STYLED = etree.XPath("//@style/..")
_HOLDS_MAIN = etree.XPath("descendant-or-self::main | descendant-or-self::article | descendant-or-self::math")


def _readability_class():
    import logging

    from lxml.html import html_parser

    def _new_p():
        # readability parses "<p/>" as a whole document for every new paragraph;
        # an empty <p> from the same parser's element factory is the same node.
        return html_parser.makeelement("p")

    import readability.readability as rr

    # Module-level helpers readability's methods call (clean, describe, text_length): ours
    # give the same results, cheaper. The library stays untouched (anyone else importing
    # readability in this process gets it as shipped): its Document's functions are copied
    # into a private base class whose globals are a copy of the module's, with ours in.
    describe = rr.describe
    scope = dict(vars(rr))
    scope["clean"] = _clean
    scope["describe"] = lambda node, depth=1: describe(node, depth) if rr.log.isEnabledFor(logging.DEBUG) else ""
    scope["text_length"] = traf_prune.rebind(rr.text_length, scope)
    Document = type(
        "_PrivateDocument",
        (rr.Document,),
        {
            name: traf_prune.rebind(fn, scope)
            for name, fn in vars(rr.Document).items()
            if isinstance(fn, types.FunctionType)
        },
    )
    unlikely = rr.REGEXES["unlikelyCandidatesRe"]
    maybe = rr.REGEXES["okMaybeItsACandidateRe"]
    blockish = rr.REGEXES["divToPElementsRe"]
    unlikely_lc = re.compile(unlikely.pattern.lower())
    maybe_lc = re.compile(maybe.pattern.lower())

    class _Readability(Document):
        """readability-lxml on a tree we already parsed, with its slow spots rewritten.

        Its own _parse runs lxml's Cleaner and rewrites every link (half its run time,
        nothing we need: we read text, not links), and given a tree it would mutate that
        tree and reuse the mutated one on its lenient retry; so each parse starts from a
        fresh copy and does only the cleaning that matters for scoring. The two
        overridden passes give readability's own results (checked page by page on both
        benchmarks and the syndication pages) at a fraction of the cost.
        """

        def _parse(self, input):  # noqa: A002 - readability's signature
            doc = deepcopy(input)
            for elem in _HIDDEN(doc):
                elem.drop_tree()
            for elem in _STYLED(doc):
                style = elem.get("style", "").replace(" ", "").lower()
                if "display:none" in style or "visibility:hidden" in style:
                    elem.drop_tree()
            # Navigation, footers, asides and forms are never the article; dropping them
            # first makes readability ~20% faster with the same output on both benchmarks.
            etree.strip_elements(
                doc,
                "script",
                "style",
                "noscript",
                "template",
                "iframe",
                "object",
                "embed",
                "link",
                "meta",
                "nav",
                "footer",
                "aside",
                "form",
                "svg",
                "select",
                "button",
                etree.Comment,
                etree.ProcessingInstruction,
                with_tail=False,
            )
            return doc

        def remove_unlikely_candidates(self):
            # readability's loop, minus building and searching "class id" for the many
            # elements that have neither.
            for elem in self.html.xpath(".//*[@class or @id]"):  # document order, as findall
                cls, ident = elem.get("class"), elem.get("id")
                s = f"{cls or ''} {ident or ''}"
                # Python's re is slow on case-insensitive alternations; for ASCII text,
                # the lower-cased string against the lower-case pattern is the same test.
                if s.isascii():
                    low = s.lower()
                    hit = unlikely_lc.search(low) and not maybe_lc.search(low)
                else:
                    hit = unlikely.search(s) and not maybe.search(s)
                if hit and elem.tag not in ("html", "body") and not _IN_CODE(elem) and not _HOLDS_MAIN(elem):
                    elem.drop_tree()

        def transform_misused_divs_into_paragraphs(self):
            # First pass as readability's, but the "no block element inside" test reads
            # the tree instead of serialising every div's children (quadratic in depth).
            for elem in self.tags(self.html, "div"):
                if not _has_blockish_descendant(elem, blockish):
                    elem.tag = "p"
            # Second pass verbatim: wrap a div's loose text and inline runs in <p>s.
            for elem in self.tags(self.html, "div"):
                children = list(elem)
                paragraph = None
                if elem.text and elem.text.strip():
                    p = _new_p()
                    p.text = elem.text
                    elem.text = None
                    elem.insert(0, p)
                    paragraph = p
                for child in children:
                    if child.tag == "br":
                        paragraph = None
                        continue
                    if child.tag not in _INLINE_TAGS or blockish.search(etree.tounicode(child, method="html")):
                        paragraph = None
                        continue
                    if paragraph is None:
                        paragraph = _new_p()
                        child.addprevious(paragraph)
                    paragraph.append(child)
                for pos, child in reversed(list(enumerate(elem))):
                    if child.tail and child.tail.strip():
                        p = _new_p()
                        p.text = child.tail
                        child.tail = None
                        elem.insert(pos + 1, p)
                    if child.tag == "br":
                        child.drop_tree()

    return _Readability


_READABILITY = None


def warm() -> None:
    """Build the readability class and the private trafilatura ahead of the first page."""
    global _READABILITY  # a lazily built class, not state: it is the same for every call
    if _READABILITY is None:
        _READABILITY = _readability_class()
    traf_prune.bare_extraction()


def run_readability(tree: HtmlElement, *, url: str | None) -> str:
    warm()
    try:
        summary = _READABILITY(tree, url=url).summary(html_partial=True)
    except Exception:
        return ""
    try:
        return html_to_lines(lxml.html.fromstring(summary, parser=_FRAGMENT_PARSER))
    except Exception:
        return ""


def _shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _WORD.findall(text.lower())
    if len(tokens) < n:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def _inside(a: Counter, b: Counter) -> float:
    """Share of a's shingles that are also in b."""
    total = sum(a.values())
    if not total:
        return 0.0
    return sum(min(v, b.get(k, 0)) for k, v in a.items()) / total


def choose(primary: Candidate | None, readable: Candidate | None, *, full: bool = True) -> Candidate | None:
    """Pick between trafilatura's precision output and readability's.

    - primary missing or collapsed (under a third of readability's length): readability;
    - readability almost entirely inside primary while primary is much longer: primary
      kept furniture around the article that readability dropped -> readability;
    - primary almost entirely inside readability while readability is much longer:
      primary lost part of the article -> readability;
    - otherwise primary (the more precise of the two on average).

    ``full=False`` keeps only the first rule: measured on both benchmarks, the two
    containment rules help on English pages (ScrapingHub +0.011 F1, trafilatura-eval's
    English pages +0.003) and hurt on German ones (trafilatura-eval -0.006), where
    readability's heuristics misjudge the page more often.
    """
    if readable is None or not readable.text.strip():
        return primary
    if primary is None or not primary.text.strip():
        return readable
    lp, lr = len(_WORD.findall(primary.text)), len(_WORD.findall(readable.text))
    if lp * 3 < lr:
        return readable
    if not full:
        return primary
    # Shingles only when the lengths already differ enough for a rule to apply.
    if lp > 1.3 * lr and lr >= 80 and _inside(_shingles(readable.text), _shingles(primary.text)) >= 0.95:
        return readable
    if lr > 1.3 * lp and _inside(_shingles(primary.text), _shingles(readable.text)) >= 0.95:
        return readable
    return primary
