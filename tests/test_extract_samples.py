"""The bundled HTML samples (real pages from the syndication corpus): credits, metadata,
and one paragraph per line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wiredesk.core.records import Extracted, RawPage
from wiredesk.extractors import extract_page

HTML = Path(__file__).resolve().parent.parent / "samples" / "html"


def _extract(name: str) -> Extracted:
    lines = (HTML / "meta.jsonl").read_text(encoding="utf-8").splitlines()
    meta = {m["file"]: m for m in map(json.loads, lines)}
    path = HTML / name
    return extract_page(
        RawPage(
            source="samples",
            body=path.read_bytes(),
            kind="html",
            url=meta[name]["url"],
            path=str(path),
            published=meta[name]["published"],
        )
    )


def test_original_is_not_marked() -> None:
    out = _extract("04cdf438cba9e654.html")
    assert not out.names_original and out.original_url is None
    assert out.language == "en" and out.published and out.title


@pytest.mark.parametrize(
    "name,original",
    [
        ("0eda65e9d690e420.html", "https://www.inexhibit.com/marker/"),  # "Source link" footer
        ("68187ef4759a188b.html", "https://www.newsmirror24.example/"),  # "originally appeared on"
    ],
)
def test_copies_name_their_original(name: str, original: str) -> None:
    out = _extract(name)
    assert out.names_original and out.original_url and out.original_url.startswith(original)
    assert "Source link" not in out.text and "originally appeared" not in out.text


def test_copies_of_one_story_extract_the_same_body() -> None:
    a, b = _extract("04cdf438cba9e654.html"), _extract("0d3202cf256595f2.html")
    assert a.text.split("\n")[:3] == b.text.split("\n")[:3]
    assert all(line.strip() == line and line for line in a.text.split("\n"))
