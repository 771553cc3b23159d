"""trafilatura's pruning XPaths, evaluated in Python with the same answer, and a private
``bare_extraction`` that uses them.

trafilatura deletes comment sections, navigation, share bars and the like by XPaths whose
class/id tests are EXSLT regular expressions (``re:test``). lxml runs every ``re:test`` as
a call back into Python, and libxml2 builds a node-set for every ``@id``/``@class`` it tests,
on every element of the tree: these XPaths were about 40 % of a trafilatura run on the mixed
benchmark pages (the same pruning runs again in each mode, precision, balanced and the full
cascade). Here each of them is one walk over the elements it can select (lxml's tag filter,
in C), with the same regular expressions applied to the same attribute values: the same
elements in the same (document) order.

Each equivalent is tied to the exact XPath text it replaces: the expression's text is
rebuilt from the template below with the patterns read out of trafilatura's expression, and
an expression that does not rebuild identically (a trafilatura upgrade changed it) keeps
being evaluated as the XPath. ``tests/test_extract_prune.py`` compares both on real pages.

The library is left as shipped, as for readability (html.py): its functions that prune are
copied with their module globals pointing at ``prune_unwanted_nodes`` below, so other code in
the process (the benchmarks' trafilatura baseline included) runs trafilatura unchanged.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Iterable

from lxml import etree

_Fast = Callable[[etree._Element], list]

# Tags of trafilatura's self:: alternatives.
_RAW_TAGS = ("div", "section", "aside")
_COMMENT_TAGS = ("div", "list", "section", "details")
_COMMENT_LIST_TAGS = ("div", "list", "section", "details", "ol", "ul")
_BLOCK_TAGS = ("div", "item", "list", "p", "section", "span")


def _norm(path: str) -> str:
    return " ".join(path.split()).replace("[ ", "[").replace(" ]", "]")


def _first(el, names: tuple[str, str]) -> str:
    """XPath string(@a|@b): the value of whichever of the two comes first in the tag."""
    for key, value in el.items():
        if key in names:
            return value
    return ""


def _first_search(pattern: re.Pattern, el, names: tuple[str, str], values: tuple[str, str]) -> bool:
    """re:test(@a|@b, pattern), given the two values ('' when absent): the first attribute's
    value is one of them (or '' when neither is there), so only a split answer needs the order."""
    hits = [pattern.search(v) is not None for v in values]
    if hits[0] == hits[1]:
        return hits[0]
    return pattern.search(_first(el, names)) is not None


def _matches_empty(*patterns: re.Pattern) -> bool:
    """Would one of the patterns match a missing attribute ('')? The walks below skip
    elements without attributes, which is only right when none does."""
    return any(p.search("") is not None for p in patterns)


def _compile(pattern: str) -> re.Pattern:
    # lxml's EXSLT re:test compiles with re.UNICODE and calls search()
    return re.compile(pattern, re.UNICODE)


def _raw_prune_0(path: str) -> _Fast | None:
    m = re.fullmatch(
        r"\.//\*\[self::div or self::section or self::aside\]\[re:test\(@id, '(?P<a>[^']*)'\) or "
        r"re:test\(@class, '(?P=a)'\)\]\[not\(\.//h1\) or re:test\(@id, '(?P<b>[^']*)'\) or "
        r"re:test\(@class, '(?P=b)'\)\]",
        path,
    )
    if not m:
        return None
    a, b = _compile(m["a"]), _compile(m["b"])

    def run(tree):
        out = []
        for el in tree.iterdescendants(*_RAW_TAGS):
            i, c = el.get("id", ""), el.get("class", "")
            if (a.search(i) or a.search(c)) and (
                next(el.iterdescendants("h1"), None) is None or b.search(i) or b.search(c)
            ):
                out.append(el)
        return out

    return run


def _class_contains(path: str) -> _Fast | None:
    m = re.fullmatch(r"\.//\*\[self::div or self::section or self::aside\]\[contains\(@class, '([^']*)'\)\]", path)
    if not m:
        return None
    needle = m[1]
    return lambda tree: [el for el in tree.iterdescendants(*_RAW_TAGS) if needle in el.get("class", "")]


def _comments(path: str) -> _Fast | None:
    m = re.fullmatch(
        r"\.//\*\[self::div or self::list or self::section or self::details\]\[re:test\(@id, '([^']*)'\) or "
        r"re:test\(@class, '([^']*)'\)\]",
        path,
    )
    if not m:
        return None
    i_pat, c_pat = _compile(m[1]), _compile(m[2])
    return lambda tree: [
        el
        for el in tree.iterdescendants(*_COMMENT_TAGS)
        if i_pat.search(el.get("id", "")) or c_pat.search(el.get("class", ""))
    ]


def _comments_and_lists(path: str) -> _Fast | None:
    m = re.fullmatch(
        r"\.//\*\[self::div or self::list or self::section or self::details or self::ol or self::ul\]\["
        r"re:test\(@id, '(?P<i>[^']*)'\) or re:test\(@class, '(?P<c>[^']*)'\)\]\[not\(self::ol or self::ul\) or "
        r"re:test\(@id, '(?P<li>[^']*)'\) or re:test\(@class, '(?P<lc>[^']*)'\)\]",
        path,
    )
    if not m:
        return None
    i_pat, c_pat, li_pat, lc_pat = (_compile(m[k]) for k in ("i", "c", "li", "lc"))

    def run(tree):
        out = []
        for el in tree.iterdescendants(*_COMMENT_LIST_TAGS):
            i, c = el.get("id", ""), el.get("class", "")
            if (i_pat.search(i) or c_pat.search(c)) and (
                el.tag not in ("ol", "ul") or li_pat.search(i) or lc_pat.search(c)
            ):
                out.append(el)
        return out

    return run


def _overall_0(path: str) -> _Fast | None:
    m = re.fullmatch(
        r"\.//\*\[self::div or self::item or self::list or self::p or self::section or self::span\]\["
        r"@data-lp-replacement-content or contains\(translate\(@role, 'N', 'n'\), 'nav'\) or "
        r"contains\(@data-component, 'MostPopularStories'\) or re:test\(@id\|@class, '(?P<both>[^']*)'\) or "
        r"re:test\(@id, '(?P<i>[^']*)'\) or re:test\(@class, '(?P<c>[^']*)'\)\]",
        path,
    )
    if not m:
        return None
    both, i_pat, c_pat = _compile(m["both"]), _compile(m["i"]), _compile(m["c"])
    if _matches_empty(both, i_pat, c_pat):
        return None  # an element without attributes could match: the skip below would be wrong

    def run(tree):
        out = []
        for el in tree.iterdescendants(*_BLOCK_TAGS):
            if not len(el.attrib):
                continue
            i, c = el.get("id", ""), el.get("class", "")
            if (
                c_pat.search(c)
                or i_pat.search(i)
                or el.get("data-lp-replacement-content") is not None
                or "nav" in el.get("role", "").replace("N", "n")
                or "MostPopularStories" in el.get("data-component", "")
                or _first_search(both, el, ("id", "class"), (i, c))
            ):
                out.append(el)
        return out

    return run


def _overall_1(path: str) -> _Fast | None:
    m = re.fullmatch(
        r"\.//\*\[@class='comments-title' or starts-with\(@id\|@class, 'reply-'\) or "
        r"re:test\(@id\|@style, '(?P<hid>[^']*)'\) or contains\(@style, 'display:none'\) or "
        r"contains\(@style, 'display: none'\) or re:test\(@id, '(?P<i>[^']*)'\) or "
        r"re:test\(@class, '(?P<c>[^']*)'\) or @aria-hidden='true'\]",
        path,
    )
    if not m:
        return None
    hid, i_pat, c_pat = _compile(m["hid"]), _compile(m["i"]), _compile(m["c"])
    if _matches_empty(hid, i_pat, c_pat):
        return None

    def run(tree):
        out = []
        for el in tree.iterdescendants(etree.Element):
            if not len(el.attrib):
                continue
            i, c, style = el.get("id", ""), el.get("class", ""), el.get("style", "")
            if (
                c == "comments-title"
                or c_pat.search(c)
                or i_pat.search(i)
                or "display:none" in style
                or "display: none" in style
                or el.get("aria-hidden") == "true"
                or (
                    (i.startswith("reply-") or c.startswith("reply-"))
                    and _first(el, ("id", "class")).startswith("reply-")
                )
                or _first_search(hid, el, ("id", "style"), (i, style))
            ):
                out.append(el)
        return out

    return run


def _block_contains(path: str) -> _Fast | None:
    """[contains(@id, 'x') or contains(@class, 'x')], optionally through translate(., 'T', 't')."""
    tags = r"\.//\*\[self::div or self::item or self::list or self::p or self::section or self::span\]"
    m = re.fullmatch(tags + r"\[contains\(@id, '(?P<n>[^']*)'\) or contains\(@class, '(?P=n)'\)\]", path)
    if m:
        needle = m["n"]
        return lambda tree: [
            el
            for el in tree.iterdescendants(*_BLOCK_TAGS)
            if needle in el.get("id", "") or needle in el.get("class", "")
        ]
    m = re.fullmatch(
        tags + r"\[contains\(translate\(@id, '(?P<u>\w)', '(?P<l>\w)'\), '(?P<n>[^']*)'\) or "
        r"contains\(translate\(@class, '(?P=u)', '(?P=l)'\), '(?P=n)'\)\]",
        path,
    )
    if m:
        table, needle = str.maketrans(m["u"], m["l"]), m["n"]
        return lambda tree: [
            el
            for el in tree.iterdescendants(*_BLOCK_TAGS)
            if needle in el.get("id", "").translate(table) or needle in el.get("class", "").translate(table)
        ]
    return None


def _precision_1(path: str) -> _Fast | None:
    m = re.fullmatch(
        r"\.//\*\[self::div or self::item or self::list or self::p or self::section or self::span\]\["
        r"re:test\(@id\|@class, '(?P<a>[^']*)'\) or re:test\(@id\|@class, '(?P<b>[^']*)'\) or "
        r"contains\(@style, '(?P<s>[^']*)'\)\]",
        path,
    )
    if not m:
        return None
    a, b, needle = _compile(m["a"]), _compile(m["b"]), m["s"]
    if _matches_empty(a, b) or not needle:
        return None

    def run(tree):
        out = []
        for el in tree.iterdescendants(*_BLOCK_TAGS):
            if not len(el.attrib):
                continue
            values = (el.get("id", ""), el.get("class", ""))
            if (
                _first_search(a, el, ("id", "class"), values)
                or _first_search(b, el, ("id", "class"), values)
                or needle in el.get("style", "")
            ):
                out.append(el)
        return out

    return run


_BASIC_TAGS = frozenset(("aside", "fencedframe", "footer", "script", "style", "svg", "template"))


def basic_clean_equivalent(xpath: etree.XPath) -> _Fast | None:
    """trafilatura.settings.BASIC_CLEAN_XPATH (baseline's and html2txt's clean-up) in
    Python, or None when the expression is not the one this was written for.

    It tests every element's class and id with an EXSLT re:test, a call back into Python
    for each element twice; html2txt runs it on the whole page in every balanced-mode
    extraction that comes out short (the recall escalation's page measure)."""
    m = re.fullmatch(
        r"\.//aside\|\.//div\[contains\(@class\|@id, '(?P<n>[^']*)'\)\]\|\.//fencedframe\|\.//footer\|"
        r"\.//script\|\.//style\|\.//svg\|\.//template\|"
        r"\.//\*\[re:test\(@class, '(?P<c>[^']*)', 'i'\) or re:test\(@id, '(?P=c)', 'i'\)\]",
        _norm(xpath.path),
    )
    if not m:
        return None
    needle, rx = m["n"], re.compile(m["c"], re.UNICODE | re.IGNORECASE)
    if _matches_empty(rx):
        return None

    def run(tree):
        out = []
        for el in tree.iterdescendants(etree.Element):
            tag = el.tag
            if tag in _BASIC_TAGS:
                out.append(el)
            elif len(el.attrib) and (
                (tag == "div" and needle in _first(el, ("class", "id")))
                or rx.search(el.get("class", ""))
                or rx.search(el.get("id", ""))
            ):
                out.append(el)
        return out

    return run


def _prepare_tree(tree, options, url):
    """trafilatura.core._prepare_tree without the backup copy where nothing reads it: the
    backup only feeds the full cascade's comparison with external extractors and the
    comment capture, so fast mode without comments leaves it None (one copy of the
    cleaned page less per fast run).

    Nor a copy of the raw tree where nothing reads that tree afterwards (``_raw_tree_unread_after``):
    the tree here is bare_extraction's own copy of the caller's, already pruned in place
    by trafilatura_sequence, so cleaning it in place is what cleaning a copy of it was."""
    from copy import copy

    from trafilatura.htmlprocessing import convert_tags, tree_cleaning

    cleaned = tree_cleaning(tree if _raw_tree_unread_after(options) else copy(tree), options)
    backup = copy(cleaned) if not options.fast or options.comments else None
    cleaned = convert_tags(cleaned, options, url)
    return cleaned, backup


def _raw_tree_unread_after(options) -> bool:
    """Does trafilatura_sequence leave its raw tree unread once ``_prepare_tree`` has it?

    In fast precision mode without comments (the primary run on English pages): the
    comparison with external extractors (it copies the raw tree) is off in fast mode, the
    baseline rescue and the recall escalation (both read it) never run in precision mode,
    and the comment capture and forum salvage need comments on. The recall retry's own
    ``_prepare_tree`` has focus "recall", so it still copies (its raw tree is the
    sequence's). tests/test_extract_prune.py compares this mode with the library's."""
    return options.fast and options.focus == "precision" and not options.comments


_BUILDERS = (
    _raw_prune_0,
    _class_contains,
    _comments,
    _comments_and_lists,
    _overall_0,
    _overall_1,
    _block_contains,
    _precision_1,
)


def fast_equivalent(xpath: etree.XPath) -> _Fast | None:
    """The Python equivalent of one of trafilatura's pruning XPaths, or None."""
    path = _norm(xpath.path)
    for build in _BUILDERS:
        fast = build(path)
        if fast is not None:
            return fast
    return None


# BODY_XPATH: where trafilatura looks for the article, first hit wins. Each expression's
# predicate is a disjunction of attribute tests, parsed into Python tests one by one and
# grouped by attribute (``_predicate``).
_ATOMS = (
    (re.compile(r"@([\w-]+)='([^']*)'"), "equals"),
    (re.compile(r"re:test\(@([\w-]+), '([^']*)'\)"), "regex"),
    (re.compile(r"re:test\(@([\w-]+), '([^']*)', 'i'\)"), "regex-i"),
    (re.compile(r"starts-with\(@([\w-]+), '([^']*)'\)"), "starts"),
    (re.compile(r"contains\(@([\w-]+), '([^']*)'\)"), "contains"),
    (re.compile(r"contains\(translate\(@([\w-]+), '(\w+)', ?'(\w+)'\), '([^']*)'\)"), "translated"),
)


def _value_test(kind: str, args: list[tuple]) -> Callable[[str], bool] | None:
    """One attribute's tests of one kind, as one test of its value (each true where one of
    them is)."""
    if kind == "equals":
        values = frozenset(v for (v,) in args)
        return values.__contains__
    if kind in ("regex", "regex-i"):
        flags = re.UNICODE | (re.IGNORECASE if kind == "regex-i" else 0)
        compiled = [re.compile(p, flags).search for (p,) in args]
        if len(compiled) == 1:
            return compiled[0]  # a match object or None: its truth is the test's
        return lambda value: any(search(value) for search in compiled)
    if kind == "starts":
        prefixes = tuple(v for (v,) in args)
        return lambda value: value.startswith(prefixes)
    if kind == "contains":
        needles = [v for (v,) in args]
        return lambda value: any(n in value for n in needles)
    tests = []  # translated
    for upper, lower, needle in args:
        if len(upper) != len(lower):
            return None
        tests.append((str.maketrans(upper, lower), needle))
    return lambda value: any(needle in value.translate(table) for table, needle in tests)


def _predicate(text: str) -> Callable | None:
    """A disjunction of attribute tests as a function of an element.

    The tests are grouped by attribute and only the attributes the element has are
    tested (``el.items()``, usually one or two), not every test of the expression through
    ``el.get``. An absent attribute is '' to XPath's string tests and passes no equality,
    so an attribute with a test that passes on '' is also looked up (``absent_passes``): its
    absence alone makes the element match. No test has side effects, so their order does
    not change the answer.
    """
    groups: dict[str, dict[str, list[tuple]]] = {}
    for atom in text.split(" or "):
        for pattern, kind in _ATOMS:
            m = pattern.fullmatch(atom)
            if m:
                attr, *args = m.groups()
                groups.setdefault(attr, {}).setdefault(kind, []).append(tuple(args))
                break
        else:
            return None
    by_attr: dict[str, list[Callable[[str], object]]] = {}
    absent_passes: list[str] = []
    for attr, kinds in groups.items():
        for kind, args in kinds.items():
            test = _value_test(kind, args)
            if test is None:
                return None
            by_attr.setdefault(attr, []).append(test)
            if kind != "equals" and test("") and attr not in absent_passes:
                absent_passes.append(attr)

    def test(el) -> bool:
        for key, value in el.items():
            tests = by_attr.get(key)
            if tests is not None:
                for value_test in tests:
                    if value_test(value):
                        return True
        return bool(absent_passes) and any(el.get(attr) is None for attr in absent_passes)

    return test


class _FirstHit:
    """A BODY_XPATH expression as a function: [the first element it selects] or []."""

    def __init__(self, path: str, tags: tuple[str, ...], test: Callable, also: str | None = None):
        self.path, self.tags, self.test, self.also = path, tags, test, also
        self.bare = test(etree.Element("div"))  # the answer for an element without attributes

    def __call__(self, tree) -> list:
        also, test, bare = self.also, self.test, self.bare
        for el in tree.iterdescendants(*self.tags, *((also,) if also else ())):
            if el.tag == also or (el.tag in self.tags and (test(el) if len(el.attrib) else bare)):
                return [el]
        return []

    def __str__(self) -> str:  # trafilatura logs the expression that found the article
        return self.path


_BODY = re.compile(
    r"(?P<open>\()?\.//\*\[(?P<tags>self::\w+(?: or self::\w+)*)\]\[(?P<pred>.*?)\](?(open)\)\[1\]|\[1\])"
    r"(?:\|\(\.//(?P<also>\w+)\)\[1\])?"
)


def body_equivalent(xpath: etree.XPath):
    """A BODY_XPATH expression's first hit in Python, or None (kept as the XPath).

    ``.//*[tests][pred][1]`` selects the first match among each parent's children; the
    first of those in document order is the first match overall, which is all trafilatura
    reads. ``(...)[1]|(.//main)[1]``: the earlier of the two first hits.
    """
    m = _BODY.fullmatch(_norm(xpath.path))
    if not m:
        return None
    tags = tuple(t.removeprefix("self::") for t in m["tags"].split(" or "))
    test = _predicate(m["pred"])
    if test is None or m["also"] in tags:
        return None
    return _FirstHit(xpath.path, tags, test, m["also"])


_FAST: dict[int, tuple[list, list]] = {}  # id(trafilatura's list) -> (the list, its evaluators)


def _evaluators(nodelist: list) -> list:
    known = _FAST.get(id(nodelist))
    if known is not None and known[0] is nodelist:
        return known[1]
    return list(nodelist)


def register(nodelists: Iterable[list]) -> None:
    for nodelist in nodelists:
        _FAST[id(nodelist)] = (nodelist, [fast_equivalent(x) or x for x in nodelist])


def prune_unwanted_nodes(tree, nodelist, with_backup: bool = False):
    """trafilatura.htmlprocessing.prune_unwanted_nodes itself, handed the equivalents above
    in place of the XPaths (it only calls each expression on the tree)."""
    from trafilatura.htmlprocessing import prune_unwanted_nodes as library

    return library(tree, _evaluators(nodelist), with_backup)


def rebind(fn: types.FunctionType, scope: dict) -> types.FunctionType:
    """A copy of ``fn`` that looks its globals up in ``scope`` instead of its module."""
    copy = types.FunctionType(fn.__code__, scope, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__ = fn.__kwdefaults__
    copy.__qualname__ = fn.__qualname__
    copy.__doc__ = fn.__doc__
    return copy


# trafilatura.xpaths' lists of pruning expressions that bare_extraction's call chain evaluates.
PRUNE_LISTS = (
    "RAW_TREE_PRUNE_XPATH",
    "REMOVE_COMMENTS_XPATH",
    "REMOVE_COMMENTS_AND_LISTS_XPATH",
    "OVERALL_DISCARD_XPATH",
    "TEASER_DISCARD_XPATH",
    "PRECISION_DISCARD_XPATH",
    "DISCARD_IMAGE_ELEMENTS",
)
_BARE = None


def _names(code: types.CodeType) -> set[str]:
    """Global names a function's code (and the code nested in it) may read."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def bare_extraction() -> Callable:
    """trafilatura.bare_extraction whose pruning runs through ``prune_unwanted_nodes`` above.

    Only the functions of trafilatura's core, main_extractor and external modules that
    reach ``prune_unwanted_nodes`` (directly or through another of them) are copied, with
    globals that are copies of their modules' globals naming the copies and ours; the
    rest (justext's stop-list, which ``warm_up`` loads into the module, included) stay
    the library's own.
    """
    global _BARE  # built once: the same functions for every call
    if _BARE is None:
        from trafilatura import core, external, main_extractor, xpaths

        register(getattr(xpaths, name) for name in PRUNE_LISTS)
        modules = (core, main_extractor, external)
        functions = {
            (mod, name): fn
            for mod in modules
            for name, fn in vars(mod).items()
            if isinstance(fn, types.FunctionType) and fn.__module__ == mod.__name__
        }
        # which functions reach prune_unwanted_nodes: to a fixed point over the call names
        reaching: set = set()
        changed = True
        while changed:
            changed = False
            for (mod, name), fn in functions.items():
                if fn in reaching:
                    continue
                scope = vars(mod)
                for called in _names(fn.__code__):
                    target = scope.get(called)
                    if called == "prune_unwanted_nodes" or (
                        isinstance(target, types.FunctionType) and target in reaching
                    ):
                        reaching.add(fn)
                        changed = True
                        break
        scopes = {mod: dict(vars(mod)) for mod in modules}
        copies = {fn: rebind(fn, scopes[mod]) for (mod, _), fn in functions.items() if fn in reaching}
        for scope in scopes.values():
            for name, value in list(scope.items()):
                if isinstance(value, types.FunctionType) and value in copies:
                    scope[name] = copies[value]
            scope["prune_unwanted_nodes"] = prune_unwanted_nodes
        scopes[main_extractor]["BODY_XPATH"] = [body_equivalent(x) or x for x in xpaths.BODY_XPATH]
        scopes[core]["_prepare_tree"] = _prepare_tree
        # baseline's clean-up (baseline() and html2txt(), and justext's input) in Python too
        import importlib

        from trafilatura import settings

        baseline = importlib.import_module("trafilatura.baseline")  # the package exports a function of that name
        clean = basic_clean_equivalent(settings.BASIC_CLEAN_XPATH)
        if clean is not None:
            base_scope = dict(vars(baseline), BASIC_CLEAN_XPATH=clean)
            for name in ("basic_cleaning", "baseline", "html2txt"):
                base_scope[name] = rebind(getattr(baseline, name), base_scope)
            for scope in scopes.values():
                for name in ("basic_cleaning", "baseline", "html2txt"):
                    if name in scope:
                        scope[name] = base_scope[name]
        stoplist_once(scopes[external])
        _BARE = copies[core.bare_extraction]
    return _BARE


def stoplist_once(scope: dict) -> None:
    """In ``scope`` (the private copy of trafilatura.external's globals): ``justext_rescue`` and
    ``try_justext`` whose justext ``classify_paragraphs`` lowercases trafilatura's all-languages
    stop-list into a frozenset once, not on every call.

    trafilatura keeps that list (``JT_STOPLIST``, ~154,000 words) as a tuple, and justext's
    ``classify_paragraphs`` starts with ``define_stoplist(stoplist)``, ``frozenset(w.lower() for w
    in stoplist)``: ~9 ms of CPU on every justext rescue, up to two a page, whatever the page's
    size (it was half the extraction time of a short article). The set is the same every time
    (the tuple never changes), so the result is too. Other stop-lists go through as before."""
    from justext import core as jt_core
    from trafilatura import external

    if getattr(external, "JT_STOPLIST", None) is None:
        external.jt_stoplist_init()
    words = external.JT_STOPLIST
    lowered = jt_core.define_stoplist(words)
    library_define = jt_core.define_stoplist

    def define_stoplist(stoplist: object) -> frozenset:
        return lowered if stoplist is words else library_define(stoplist)

    classify = rebind(jt_core.classify_paragraphs, dict(vars(jt_core), define_stoplist=define_stoplist))
    scope["JT_STOPLIST"] = words
    scope["classify_paragraphs"] = classify
    scope["try_justext"] = rebind(external.try_justext, scope)
    scope["justext_rescue"] = rebind(external.justext_rescue, scope)
