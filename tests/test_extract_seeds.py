"""Regression: on the seed pages every `content` line is kept word for word and every
`boilerplate` line dropped (labels in ../shared/data/seeds/labels.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wiredesk.core.records import RawPage
from wiredesk.extractors import extract_page

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO.parent / "shared" / "data" / "seeds"

pytestmark = pytest.mark.skipif(
    not (SEEDS / "labels.json").is_file(), reason=f"shared seed labels not found at {SEEDS}"
)


def _labels() -> dict[str, list[dict]]:
    return json.loads((SEEDS / "labels.json").read_text(encoding="utf-8"))


def _extract(name: str):
    path = SEEDS / name
    return extract_page(RawPage(source="seeds", body=path.read_bytes(), kind="text", path=str(path)))


@pytest.mark.parametrize("name", sorted(_labels()) if (SEEDS / "labels.json").is_file() else [])
def test_seed_labels_hold(name: str) -> None:
    out = _extract(name)
    kept = out.text.split("\n")
    for item in _labels()[name]:
        line = item["text"].strip()
        if item["label"] == "content":
            assert line in kept, f"content line {item['line']} lost"
        elif item["label"] == "boilerplate":
            assert line not in kept, f"boilerplate line {item['line']} kept: {line!r}"
    # one paragraph per line, no blank lines
    assert all(p.strip() == p and p for p in kept)


def test_seed_credit_lines_mark_syndicated_copies() -> None:
    # 002 ends with "Source link", 004 with "Read the original article on Business Insider".
    assert _extract("002_3cc73f0d38859940.txt").names_original
    insider = _extract("004_d2b672eee6184288.txt")
    assert insider.names_original
    assert "Business Insider" not in insider.text
    # 000, 001 and 003 credit nobody.
    for name in ("000_724be96d324684c0.txt", "001_660dd4117271c3c6.txt", "003_33777394e2f2ac98.txt"):
        assert not _extract(name).names_original


def test_bundled_samples_match_shared_seeds() -> None:
    for path in sorted((REPO / "samples" / "seeds").glob("*.txt")):
        assert path.read_bytes() == (SEEDS / path.name).read_bytes()
