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

from wiredesk.dedup.backends import open_index
from wiredesk.dedup.deduplicator import Deduplicator, DedupResult, host_of
from wiredesk.dedup.index import Index
from wiredesk.dedup.minhash import Signer
from wiredesk.dedup.settings import DedupSettings
from wiredesk.dedup.sketch import Sketcher, article_minhash
from wiredesk.dedup.text import content_hash, normalize_text, shingle_hashes

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
