"""wiredesk's deduplication stage.

    normalize_text / content_hash     exact copies (typography-insensitive)
    Signer                            numpy MinHash, datasketch-compatible (affine32)
    open_index(location, settings=)   the persistent LSH + cluster + host-furniture index
    Deduplicator(settings, index, lookup).assign(articles) -> DedupResult
                                      .commit(seq) / .reindex(stored) / .minhash(article)
    Sketcher(settings).minhash(text)  a signature as a datasketch LeanMinHash (article_minhash)

A near copy is an LSH candidate (low threshold) whose word-shingle containment
|A∩B| / min(|A|,|B|), with each host's furniture shingles removed, reaches
``DedupSettings.containment``. Verified pairs are unioned into clusters; each cluster keeps
a stable id and a representative chosen by ``DedupSettings.representative``.

Imports only wiredesk.core.records / wiredesk.core.errors and third-party libraries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wiredesk.core.lazy import lazy_names

if TYPE_CHECKING:
    from wiredesk.dedup.backends import open_index
    from wiredesk.dedup.deduplicator import Deduplicator, DedupResult, host_of
    from wiredesk.dedup.index import Index
    from wiredesk.dedup.minhash import Signer
    from wiredesk.dedup.settings import DedupSettings
    from wiredesk.dedup.sketch import Sketcher, article_minhash
    from wiredesk.dedup.text import content_hash, normalize_text, shingle_hashes

# Each name is imported from its module on first use (PEP 562): checking the config's dedup
# section (``DedupSettings``) does not load numpy and the index.
_WHERE = {
    "open_index": "wiredesk.dedup.backends",
    "Deduplicator": "wiredesk.dedup.deduplicator",
    "DedupResult": "wiredesk.dedup.deduplicator",
    "host_of": "wiredesk.dedup.deduplicator",
    "Index": "wiredesk.dedup.index",
    "Signer": "wiredesk.dedup.minhash",
    "DedupSettings": "wiredesk.dedup.settings",
    "Sketcher": "wiredesk.dedup.sketch",
    "article_minhash": "wiredesk.dedup.sketch",
    "content_hash": "wiredesk.dedup.text",
    "normalize_text": "wiredesk.dedup.text",
    "shingle_hashes": "wiredesk.dedup.text",
}


__all__ = [
    "DedupResult",
    "DedupSettings",
    "Deduplicator",
    "Index",
    "Signer",
    "Sketcher",
    "article_minhash",
    "content_hash",
    "host_of",
    "normalize_text",
    "open_index",
    "shingle_hashes",
]

__getattr__, __dir__ = lazy_names(__name__, _WHERE, __all__)
