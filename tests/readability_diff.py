"""readability-lxml as shipped against wiredesk's private class, page by page.

Three runs of each page: the library as shipped; the library with only our ``_parse``
(hidden, script/style and nav/footer/aside/form dropped, no lxml Cleaner, no link
rewriting: the deliberate change); and our class (that parse plus the rewrites meant to
give the same results faster: clean, describe, text_length, remove_unlikely_candidates,
transform_misused_divs_into_paragraphs). A page whose output differs is listed with its
cause in ``tests/data/readability_differences.tsv``:

    parse    our parse changed the output (deliberate)
    rewrite  the fast rewrites changed it (they should not: each is listed on purpose)

``bench/readability_diff.py`` runs all pages and rewrites the list; the test checks a sample.
"""

from __future__ import annotations

import gzip
from copy import deepcopy
from pathlib import Path

import lxml.html

DIFFERENCES = Path(__file__).parent / "data" / "readability_differences.tsv"
SETS = ("trafilatura-eval", "scrapinghub-aeb")


def pages(shared: Path) -> list[Path]:
    return sorted(p for s in SETS for p in (shared / "data" / "extraction" / s / "html").glob("*.html.gz"))


def page_name(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.name.removesuffix('.html.gz')}"


def _text(doc_class, tree) -> str:
    from wiredesk.extractors.html import html_to_lines

    try:
        summary = doc_class(deepcopy(tree)).summary(html_partial=True)
        return html_to_lines(lxml.html.fromstring(summary))
    except Exception as exc:  # a failure is an output too: both sides must fail alike
        return f"<{type(exc).__name__}>"


def cause(body: bytes) -> str | None:
    """None when all three runs agree, else which change made the difference."""
    import readability.readability as rr

    from wiredesk.extractors import decode_page
    from wiredesk.extractors import html as html_path

    html_path.warm()
    ours_class = html_path._READABILITY
    parse_only = type("_ParseOnly", (rr.Document,), {"_parse": ours_class._parse})
    tree = html_path.parse_html(decode_page(body, kind="html"))
    if tree is None:
        return None
    shipped, parsed, ours = (_text(c, tree) for c in (rr.Document, parse_only, ours_class))
    if parsed != ours:
        return "rewrite"
    if shipped != parsed:
        return "parse"
    return None


def compare(paths: list[Path]) -> dict[str, str]:
    out = {}
    for path in paths:
        found = cause(gzip.decompress(path.read_bytes()))
        if found is not None:
            out[page_name(path)] = found
    return out


def listed() -> dict[str, str]:
    rows = (line.split("\t") for line in DIFFERENCES.read_text(encoding="utf-8").splitlines() if line.strip())
    return {name: why for name, why in rows if not name.startswith("#")}
