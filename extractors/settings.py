"""Settings of the extraction stage: a frozen, keyword-only value the lead maps the
YAML config onto. Defaults are the measured best (see bench/extraction.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtractSettings:
    # Pages bigger than this are refused ("oversized") before parsing: a 50 MB page is a
    # dump or an attack, and lxml/trafilatura time grows with it.
    max_bytes: int = 8_000_000
    # Wall-clock limit per page inside extract_many; a page over it becomes
    # ExtractionError(reason="timeout") and the batch goes on.
    timeout_s: float = 30.0
    # Fewer words than this in the final text -> ExtractionError("no-content").
    min_words: int = 5
    # HTML: also run readability-lxml and let the chooser pick between it and trafilatura.
    # Off saves ~40% CPU per page at a small quality cost.
    use_readability: bool = True
    # Metadata (title, author, date, language) via trafilatura's metadata extractor.
    # Off is faster; the text is unchanged.
    with_metadata: bool = True
    # Keep tables in HTML output (trafilatura include_tables).
    include_tables: bool = True
    # A line of a host's pages counts as furniture once it has been seen on this many
    # distinct pages of that host (and on at least this share of the pages seen).
    profile_min_pages: int = 3
    profile_min_share: float = 0.3
    # Batch size under which extract_many stays in-process (a pool costs ~0.2 s to start).
    pool_min_batch: int = 8
