"""Text that trafilatura's precision mode cuts after an empty element, kept.

Before extracting, trafilatura deletes empty elements (``prune_html``: no text, no
children; ``b``, ``em``, ``i``, ``span``, ``strong``, ``div``, ``p``, ...). In its default
mode it keeps each deleted element's tail, the text that follows it; in precision mode it
deletes the tail with it. An empty element in the middle of a sentence is common markup:
a stock-ticker widget (``Nokia Corp. <span data-widget="ticker"></span> Monday unveiled
...``), an icon (``<i class="icon-quote"></i>``), a clearing ``<div>`` before a text run.
Precision mode then keeps "Nokia Corp." and drops the rest of the paragraph, or the
whole run of text after the ``<div>``.

``kept_tails`` gives those elements an empty text (``""``, not ``None``) while the
precision run reads the tree, so that ``prune_html`` leaves them and their tails alone
(trafilatura's later steps drop the empty elements as they would any other), and puts the
tree back as it was afterwards: every other reader of the tree (readability, the
metadata, the main block) sees the page unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from lxml.html import HtmlElement

# trafilatura.settings.CUT_EMPTY_ELEMS (the elements prune_html deletes when empty)
EMPTY_CUT = (
    "article",
    "b",
    "blockquote",
    "dd",
    "div",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "i",
    "li",
    "main",
    "p",
    "pre",
    "q",
    "section",
    "span",
    "strong",
)
# Off: precision mode as trafilatura runs it (the cross-validation's "before").
ENABLED = True


def tailed_empties(tree: HtmlElement) -> list[HtmlElement]:
    """The page's empty elements (of the kinds precision mode deletes) followed by text."""
    body = tree.find("body")
    if body is None:
        return []
    return [
        el for el in body.iter(*EMPTY_CUT) if el.text is None and el.tail and not el.tail.isspace() and len(el) == 0
    ]


@contextmanager
def kept_tails(tree: HtmlElement) -> Iterator[None]:
    """While open: the elements of ``tailed_empties`` hold an empty text (see above)."""
    marked = tailed_empties(tree) if ENABLED else []
    for el in marked:
        el.text = ""
    try:
        yield
    finally:
        for el in marked:
            el.text = None
