"""Broken markup that lxml reads as a page without a body (issue 14: L3S-GN1's empties).

Pages written here in the two shapes seen: a <title> never closed (the parser reads the
whole page as its title) and a self-closed <html .../> spliced into the top of the page
(the parser closes the root there). Browsers show both pages; so must we.
"""

from __future__ import annotations

import pytest

from wiredesk.core.errors import ExtractionError
from wiredesk.core.records import RawPage
from wiredesk.extractors import extract_page
from wiredesk.extractors.html import parse_html
from wiredesk.extractors.repair import close_title, open_root

STORY = [
    "The regional rail company said on Monday that night trains to the coast would run again from May.",
    "The service was stopped three years ago when the old sleeper carriages failed a safety inspection.",
    "Twelve refurbished carriages have been bought from a neighbouring country and tested over the winter.",
    "Tickets go on sale next week, and the first departures are expected to be fully booked within days.",
    "Tourism offices along the coast welcomed the news and said hotels had already seen more bookings.",
    "The company plans to add a second nightly connection in the autumn if the demand holds up.",
]
BODY = (
    '<div class="nav"><a href="/">Home</a> <a href="/news">News</a></div>'
    '<div class="article"><h1>Night trains return to the coast</h1>'
    + "".join(f"<p>{s}</p>" for s in STORY)
    + '</div><div class="footer">Copyright Example Rail News</div>'
)
UNCLOSED_TITLE = (
    "<!doctype html><html><head><title>Night trains return - Example Rail News\n"
    '<script type="text/javascript">var ads = {slot: 1};</script>'
    '<link rel="stylesheet" href="/site.css" /></head><body>' + BODY + "</body></html>"
)
SELF_CLOSED_ROOT = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN">\n'
    '<html xlogo.png" alt="Example Rail News" width="145" height="62" border="0" /></a></td>\n'
    "<td><table><tr><td>" + BODY + "</td></tr></table>"
)


def _text(html: str) -> str:
    return extract_page(RawPage(source="t", body=html.encode(), kind="html", url=None)).text


@pytest.mark.parametrize("html", [UNCLOSED_TITLE, SELF_CLOSED_ROOT], ids=["unclosed-title", "self-closed-root"])
def test_page_the_parser_reads_as_bodyless_is_extracted(html):
    tree = parse_html(html)
    assert tree is not None and tree.find("body") is None  # the failure this repairs
    text = _text(html)
    for sentence in STORY:
        assert sentence in text
    assert "Copyright" not in text and "var ads" not in text


def test_repairs_only_where_needed():
    closed = "<html><head><title>A</title></head><body><p>x</p></body></html>"
    assert close_title(closed) is None
    assert close_title("<html><head><title>A\n<script>x</script>") == "<html><head><title>A\n</title><script>x</script>"
    assert open_root("<html><body><br/><img src='a' /></body></html>") is None  # void elements keep their slash
    assert open_root('<html lang="en" /><p>x</p>') == '<html lang="en"><p>x</p>'


def test_a_page_that_parses_is_not_changed():
    # a well-formed page's <title> may contain '<' as text: it is not re-parsed
    html = UNCLOSED_TITLE.replace("\n<script", "</title><script")
    assert parse_html(html).find("body") is not None
    assert all(s in _text(html) for s in STORY)


def test_a_page_with_no_text_anywhere_still_fails_cleanly():
    with pytest.raises(ExtractionError):
        _text("<html><head><title>only a title\n<script>var a = 1;</script>")
