"""Our signatures as datasketch objects: the boundary where wiredesk's dedup meets datasketch.

A wiredesk signature *is* a datasketch MinHash (scheme ``affine32``, same seed, same
permutations): the hash values are equal to those of ``datasketch.MinHash`` fed the same
shingle hashes (``Signer.datasketch_hashfunc``). So a signature can leave wiredesk as a
``LeanMinHash`` and go into datasketch's own ``MinHashLSH``, ``MinHashLSHForest`` or
``jaccard``, and an exported corpus (``--signatures``) can be indexed by datasketch alone
(dedup/README.md has the example).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from wiredesk.dedup.minhash import Signer
from wiredesk.dedup.settings import DedupSettings, lsh_bands
from wiredesk.dedup.text import batch_shingles

if TYPE_CHECKING:
    from datasketch import LeanMinHash


class Sketcher:
    """Signatures of article texts under one ``DedupSettings`` (shingle size, permutations, seed)."""

    def __init__(self, settings: DedupSettings | None = None) -> None:
        self.settings = settings or DedupSettings()
        self.signer = Signer(num_perm=self.settings.num_perm, seed=self.settings.seed)

    def signatures(self, texts: Sequence[str]) -> np.ndarray:
        """uint32 (len(texts), num_perm): each text's MinHash hash values (an empty text:
        all 0xFFFFFFFF, as datasketch's empty MinHash)."""
        hashes, offsets = batch_shingles(list(texts), self.settings.shingle_size)
        return self.signer.signatures(hashes, offsets)

    def signature(self, text: str) -> np.ndarray:
        return self.signatures([text])[0]

    def minhash(self, text: str) -> LeanMinHash:
        """The text's signature as a datasketch ``LeanMinHash``."""
        return self.signer.to_datasketch(self.signature(text))

    def minhashes(self, texts: Sequence[str]) -> list[LeanMinHash]:
        return [self.signer.to_datasketch(sig) for sig in self.signatures(texts)]

    def lsh_params(self) -> tuple[int, int]:
        """(bands, rows) of our LSH: ``datasketch.MinHashLSH(num_perm=..., params=...)``
        with these finds the candidates our index finds from the full signatures."""
        return lsh_bands(self.settings)

    def params(self) -> str:
        """What the signatures depend on (``DedupSettings.signature_params``), for manifests."""
        return self.settings.signature_params()


def article_minhash(text: str, settings: DedupSettings | None = None) -> LeanMinHash:
    """One article text's signature as a datasketch ``LeanMinHash`` (default settings)."""
    return Sketcher(settings).minhash(text)
