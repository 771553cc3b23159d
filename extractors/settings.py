"""Settings of the extraction stage: a frozen, keyword-only value the lead maps the
YAML config onto. Defaults are the measured best (see bench/extraction.py)."""

from __future__ import annotations

from dataclasses import dataclass

from wiredesk.core.errors import ConfigError


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
    # It runs on English pages (and to rescue a collapsed trafilatura output elsewhere);
    # off is faster at a quality cost (see the report of bench/extraction.py --no-readability).
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

    def __post_init__(self) -> None:
        if self.max_bytes <= 0 or self.timeout_s <= 0 or self.min_words < 0:
            raise ConfigError("extract settings: max_bytes and timeout_s must be > 0, min_words >= 0")
        if self.profile_min_pages < 1 or not 0.0 <= self.profile_min_share <= 1.0:
            raise ConfigError("extract settings: profile_min_pages >= 1, profile_min_share in [0, 1]")
        if self.pool_min_batch < 1:
            raise ConfigError("extract settings: pool_min_batch must be >= 1")
