"""Second chance for markup that lxml's parser turns into a page without a body.

Browsers show these pages; libxml2 reads them as nothing:

- an unclosed ``<title>`` (a page cut or spliced in its ``<head>``): the parser keeps
  reading title text to the end of the file, so the whole page becomes the title and
  there is no ``<body>``. The title ends where the next tag starts.
- a self-closed ``<html .../>`` (or ``<head/>``, ``<body/>``; a spliced tag): the HTML
  standard ignores the slash on elements that are not void; libxml2 closes the root
  there and drops the rest of the document. The slash is dropped.

Only pages whose parse has no ``<body>`` are repaired (``repair``); a page that parses
is never touched.
"""

from __future__ import annotations

import re

_TITLE_OPEN = re.compile(r"<title\b[^>]*>", re.IGNORECASE)
_TITLE_CLOSE = re.compile(r"</title\s*>", re.IGNORECASE)
# (quotes not tracked: the spliced tags that end this way have unbalanced ones)
_SELF_CLOSED = re.compile(r"(<(?:html|head|body)\b[^<>]*?)\s*/>", re.IGNORECASE)


def close_title(html: str) -> str | None:
    """``html`` with its unclosed <title> closed before the next tag, or None when the
    title is closed (or there is none, or nothing follows it)."""
    m = _TITLE_OPEN.search(html)
    if m is None or _TITLE_CLOSE.search(html, m.end()):
        return None
    nxt = html.find("<", m.end())
    if nxt < 0:
        return None
    return f"{html[:nxt]}</title>{html[nxt:]}"


def open_root(html: str) -> str | None:
    """``html`` with its self-closed <html>, <head> and <body> tags opened, or None."""
    fixed, n = _SELF_CLOSED.subn(r"\1>", html, count=3)
    return fixed if n else None


def repairs(html: str):
    """Repaired versions of ``html`` to try in turn (each applies one more repair)."""
    fixed = close_title(html)
    if fixed is not None:
        html = fixed
        yield html
    fixed = open_root(html)
    if fixed is not None:
        yield fixed
