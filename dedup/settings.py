"""The dedup stage's knobs: one frozen keyword-only dataclass (the lead maps YAML onto it)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

RepresentativePolicy = Literal["credited-earliest-longest", "earliest-longest", "first-seen"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DedupSettings:
    """How near copies are found and verified, and which copy represents a cluster.

    Defaults are the ones measured on syndication-dev (see FINDINGS.md and bench/dedup_quality.py).
    """

    shingle_size: int = 5  # word n-grams; 5 keeps short common phrases from matching
    num_perm: int = 128
    seed: int = 1  # datasketch's default seed: our signatures use its permutations
    # LSH is only a candidate generator: a low threshold finds trimmed copies (Jaccard ~0.4),
    # every candidate is verified on shingles before it is merged.
    lsh_threshold: float = 0.3
    # Verified near copy: |A∩B| / min(|A|,|B|) over shingles with host furniture removed.
    containment: float = 0.7
    # Two pages of one host share its template: a pair on the same host must be a re-post
    # (similar length, nearly the same text), not a page contained in a longer one.
    same_host_containment: float = 0.85
    same_host_size_ratio: float = 0.6
    # ... and not two different texts in one template slot: both pages holding a run of this
    # many consecutive shingles absent from the other means different articles.
    same_host_novel_run: int = 15
    # A match whose shared part is under this share of the larger text (a clean copy inside a
    # page full of other text, or a teaser of another story left in a page) joins a group
    # only if it also matches another member of that group.
    weak_share: float = 0.3
    min_shingles: int = 8  # texts with fewer distinct shingles are only matched exactly
    min_overlap: int = 8  # and a near match needs at least this many shared shingles
    # Bodies (the text without its headline) shorter than this many words are only matched
    # exactly; words as dedup.text.word_units counts them (a Han character is half a word).
    min_body_words: float = 25.0
    # Per-host furniture: shingles seen in documents of 2+ different clusters of one host.
    host_furniture: bool = True
    host_sample: int = 40  # recent documents per host kept for the furniture counts
    max_furniture: int = 50_000  # furniture shingles remembered per host (oldest dropped)
    # Containment candidates: 1 in ``anchor_rate`` shingles (chosen by hash, so the same in
    # every document) is an anchor; an indexed article sharing >= 2 anchors and at least
    # ``anchor_share`` of the smaller side's anchors is a candidate. This finds a clean copy
    # inside a page that kept much site text, which MinHash (Jaccard) misses. 0 turns it off.
    anchor_rate: int = 16
    anchor_share: float = 0.5
    max_anchors: int = 128  # per article (the smallest hashes: a choice every document shares)
    anchor_postings: int = 500  # anchors held by more articles than this are ignored as common
    max_per_cluster: int = 8  # stored candidates verified per existing cluster (closest in time)
    window_days: float | None = None  # compare only with articles published within this many days
    representative: RepresentativePolicy = "credited-earliest-longest"
    lock_timeout_s: float = 60.0  # shared indexes: how long assign() waits for the index lock

    def __post_init__(self) -> None:
        if self.shingle_size < 1:
            raise ValueError("shingle_size must be >= 1")
        if not 0.0 < self.lsh_threshold < 1.0:
            raise ValueError("lsh_threshold must be in (0, 1)")
        if not 0.0 < self.containment <= 1.0:
            raise ValueError("containment must be in (0, 1]")
        if self.num_perm < 8:
            raise ValueError("num_perm must be >= 8")
        if self.anchor_rate and self.anchor_rate & (self.anchor_rate - 1):
            raise ValueError("anchor_rate must be 0 or a power of two")
        if self.min_body_words < 0:
            raise ValueError("min_body_words must be >= 0")
        if self.window_days is not None and self.window_days <= 0:
            raise ValueError("window_days must be positive or None")

    def signature_params(self) -> str:
        """What an index's stored band keys depend on; a changed string invalidates an index."""
        bands, rows = lsh_bands(self)
        return (
            f"w{self.shingle_size}-p{self.num_perm}-s{self.seed}-b{bands}x{rows}"
            f"-a{self.anchor_rate}x{self.max_anchors}-affine32-v3-uni1"
        )


def lsh_bands(settings: DedupSettings) -> tuple[int, int]:
    """(bands, rows) minimising false positives + false negatives at the threshold (datasketch's rule)."""
    return _bands(settings.lsh_threshold, settings.num_perm)


@lru_cache(maxsize=16)
def _bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """datasketch's ``_optimal_param`` (equal weights), with Gauss-Legendre quadrature instead
    of scipy: importing datasketch's LSH module costs over a second of start-up."""
    import numpy as np

    nodes, weights = np.polynomial.legendre.leggauss(64)

    def integral(f, lo: float, hi: float) -> float:
        x = (hi - lo) / 2 * nodes + (hi + lo) / 2
        return float((hi - lo) / 2 * np.sum(weights * f(x)))

    best, opt = float("inf"), (0, 0)
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = integral(lambda s: 1 - (1 - s ** float(r)) ** float(b), 0.0, threshold)
            fn = integral(lambda s: (1 - s ** float(r)) ** float(b), threshold, 1.0)
            if fp * 0.5 + fn * 0.5 < best:
                best, opt = fp * 0.5 + fn * 0.5, (b, r)
    return opt
