"""Render an HTML page to the plain text a browser shows, by the rules of
shared/data/textpages (README): hidden and non-text elements dropped with their content,
block elements on their own lines, list items, table rows, dt/dd and figcaption on a new
line with no blank line before them, table cells separated by a tab, <br> a newline,
whitespace collapsed as in CSS (non-breaking spaces become spaces), <pre> kept as is.

``style="blank"`` puts a blank line between blocks, ``"compact"`` does not; ``bullets``
starts list items with ``  • ``. Used by bench/multilingual_data.py.
"""

from __future__ import annotations

import re

from lxml import html as lhtml

_DROP = {
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "head",
    "iframe",
    "object",
    "embed",
    "canvas",
    "audio",
    "video",
    "img",
    "picture",
    "source",
    "map",
    "select",
    "button",
    # ruby annotations (furigana): a browser shows them above the text, not in the line;
    # rendered inline they would cut every Japanese snippet apart
    "rt",
    "rp",
}
_BLOCK = {
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "center",
    "details",
    "dialog",
    "div",
    "dl",
    "fieldset",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "html",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "ul",
}
_LINE = {"li", "tr", "dt", "dd", "figcaption", "caption"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_WS = re.compile(r"[ \t\n\r\f\u00a0]+")
# break markers in the token stream (private-use characters: never in page text)
_BLOCK_BREAK, _LINE_BREAK, _TAB = "\ue000", "\ue001", "\ue002"


def _hidden(el) -> bool:
    if el.get("hidden") is not None or _HIDDEN_STYLE.search(el.get("style") or ""):
        return True
    return el.tag == "input" and (el.get("type") or "").lower() == "hidden"


def _walk(el, out: list[str], bullets: bool) -> None:
    tag = el.tag if isinstance(el.tag, str) else ""
    tag = tag.lower()
    if tag in _DROP or _hidden(el) or not tag:
        if el.tail:
            out.append(el.tail)
        return
    if tag == "br":
        out.append(_LINE_BREAK)
    elif tag in _BLOCK:
        out.append(_BLOCK_BREAK)
    elif tag in _LINE:
        out.append(_LINE_BREAK)
        if tag == "li" and bullets:
            out.append("\ue003")  # bullet, added after whitespace collapsing
    elif tag in ("td", "th"):
        out.append(_TAB)
    if tag == "pre":
        out.append("\ue004" + (el.text_content() or "").replace("\n", _LINE_BREAK) + "\ue004")
    else:
        if el.text:
            out.append(el.text)
        for child in el:
            _walk(child, out, bullets)
    if tag in _BLOCK:
        out.append(_BLOCK_BREAK)
    elif tag in _LINE:
        out.append(_LINE_BREAK)
    if el.tail:
        out.append(el.tail)


def render(html: str | bytes, *, style: str = "blank", bullets: bool = False) -> str:
    """The page's visible text, one block per line (see the module docstring)."""
    try:
        doc = lhtml.document_fromstring(html)
    except Exception:  # an empty or broken page renders to nothing
        return ""
    out: list[str] = []
    _walk(doc, out, bullets)
    text = "".join(out)
    # pre blocks keep their whitespace; everything else collapses as in CSS
    parts = text.split("\ue004")
    for i in range(0, len(parts), 2):
        parts[i] = _WS.sub(" ", parts[i])
    text = "".join(parts)
    lines: list[str] = []
    blank_before = False
    for chunk in re.split(f"([{_BLOCK_BREAK}{_LINE_BREAK}])", text):
        if chunk == _BLOCK_BREAK:
            blank_before = True
            continue
        if chunk == _LINE_BREAK:
            continue
        line = chunk.replace(_TAB, "\t").strip(" ").strip("\t").strip(" ").replace("\ue003", "  • ")
        if not line.strip():
            continue
        if blank_before and lines and style == "blank":
            lines.append("")
        lines.append(line)
        blank_before = False
    return "\n".join(lines) + "\n"
