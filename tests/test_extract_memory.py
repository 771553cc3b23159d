"""A page's extraction leaves no reference cycle behind: its tree and candidates go with the
caller's last reference (by reference counting), not at the cyclic collector's next run."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from wiredesk.core.records import RawPage
from wiredesk.extractors import extract_page
from wiredesk.extractors.core import html_candidates
from wiredesk.extractors.settings import ExtractSettings

_PARAGRAPH = (
    "<p>The council voted on Tuesday to extend the harbour wall by another forty metres, "
    "after a winter in which storms flooded the fish market {n} times and closed the ferry "
    "terminal for most of February.</p>"
)
PAGE = (
    "<html lang='en'><head><title>Harbour wall to be extended</title></head><body>"
    "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav><article><h1>Harbour wall to be extended</h1>"
    "<p class='byline'>By Jane Doe</p>" + "".join(_PARAGRAPH.format(n=n) for n in range(2, 9)) + "</article>"
    "<footer>Contact us</footer></body></html>"
)


@contextmanager
def _collector_off() -> Iterator[None]:
    was_on = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def test_extracting_a_page_leaves_no_cyclic_garbage() -> None:
    page = RawPage(source="test", body=PAGE.encode(), kind="html", url="https://example.org/news/harbour")
    extract_page(page)  # imports and first-use caches
    with _collector_off():
        result = extract_page(page)
        assert gc.collect() == 0  # nothing of the page waited for the collector
    assert "harbour wall" in result.text


def test_the_candidates_go_with_their_last_reference() -> None:
    page = RawPage(source="test", body=PAGE.encode(), kind="html", url="https://example.org/news/harbour")
    with _collector_off():
        cands = html_candidates(PAGE, page, ExtractSettings())
        assert cands.get("primary") is not None  # the make functions reach the candidates
        assert cands.get("info")["title"] == "Harbour wall to be extended"
        gone = weakref.ref(cands)
        del cands
        assert gone() is None
