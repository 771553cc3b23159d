"""MinHash signatures computed in numpy, bit-compatible with datasketch's ``affine32`` scheme.

datasketch (2.x, default scheme ``affine32``) hashes each item to 32 bits, pre-mixes it with
the MurmurHash3 finaliser and applies ``a*h + b mod 2^32`` per permutation, where ``(a, b)``
come from ``numpy.random.RandomState(seed)``. We do exactly that, with the item hash being
the low 32 bits of our 64-bit shingle hash instead of SHA-1: a datasketch ``MinHash`` built
with ``hashfunc=lambda h: h & 0xFFFFFFFF`` over the same shingle hashes has identical hash
values, and ``to_datasketch`` gives objects its ``MinHashLSH`` accepts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from datasketch import LeanMinHash

_U32 = np.uint32


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _U32(16))
    h = h * _U32(0x85EBCA6B)
    h = h ^ (h >> _U32(13))
    h = h * _U32(0xC2B2AE35)
    return h ^ (h >> _U32(16))


def low32(shingles: np.ndarray) -> np.ndarray:
    """The 32-bit item hash datasketch sees for each of our 64-bit shingle hashes."""
    return (shingles & np.uint64(0xFFFFFFFF)).astype(np.uint32)


class Signer:
    """Computes MinHash signatures (uint32[num_perm]) of shingle-hash arrays."""

    def __init__(self, *, num_perm: int = 128, seed: int = 1) -> None:
        self.num_perm = num_perm
        self.seed = seed
        # datasketch's affine32 permutations (MinHash._init_permutations), drawn the same way
        # here because importing datasketch costs over a second of start-up; a test checks
        # they are equal to datasketch's own.
        gen = np.random.RandomState(seed)
        self._a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        self._b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
        self._empty = np.full(num_perm, 0xFFFFFFFF, dtype=np.uint32)

    def signature(self, shingles: np.ndarray) -> np.ndarray:
        """MinHash of one set of 64-bit shingle hashes (empty set: all 0xFFFFFFFF, like datasketch)."""
        if shingles.size == 0:
            return self._empty.copy()
        return _signatures_into(self, shingles, np.array([0, shingles.size]))[0]

    def signatures(self, hashes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Signatures of many shingle lists at once (see text.batch_shingles) -> (n, num_perm)."""
        return _signatures_into(self, hashes, offsets)

    def to_datasketch(self, signature: np.ndarray) -> LeanMinHash:
        """A datasketch LeanMinHash with these hash values (for MinHashLSH and friends)."""
        try:
            from datasketch import LeanMinHash
        except ImportError:
            raise ImportError(
                "datasketch objects need datasketch: pip install 'wiredesk[datasketch]' (signatures as "
                "plain hash values, Sketcher.signatures(), do not)"
            ) from None

        return LeanMinHash(seed=self.seed, hashvalues=signature, scheme="affine32")

    @staticmethod
    def datasketch_hashfunc(item: int) -> int:
        """The hashfunc that makes datasketch's own MinHash reproduce our signatures."""
        return int(item) & 0xFFFFFFFF


def band_keys(signature: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit key per LSH band; the band number is mixed in so all bands share one table."""
    sig = signature[: bands * rows].astype(np.uint64).reshape(bands, rows)
    acc = np.arange(1, bands + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    for r in range(rows):
        acc = (acc ^ sig[:, r]) * np.uint64(0xBF58476D1CE4E5B9)
        acc = acc ^ (acc >> np.uint64(31))
    return acc


def band_keys_many(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """band_keys for a (n, num_perm) block of signatures -> (n, bands)."""
    n = signatures.shape[0]
    sig = signatures[:, : bands * rows].astype(np.uint64).reshape(n, bands, rows)
    acc = np.broadcast_to(np.arange(1, bands + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15), (n, bands)).copy()
    for r in range(rows):
        acc = (acc ^ sig[:, :, r]) * np.uint64(0xBF58476D1CE4E5B9)
        acc = acc ^ (acc >> np.uint64(31))
    return acc


def _signatures_into(signer: Signer, hashes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    n = offsets.size - 1
    out = np.full((n, signer.num_perm), 0xFFFFFFFF, dtype=np.uint32)
    if hashes.size == 0:
        return out
    h = _fmix32(low32(hashes))
    a, b = signer._a[:, None], signer._b[:, None]
    # Permutations along rows, shingles along columns: the min is a reduceat over contiguous
    # memory (several times faster than reducing along axis 0). Chunks of ~8k shingles
    # (4 MB of uint32 products) stay cache-friendly.
    start = 0
    while start < n:
        end = int(np.searchsorted(offsets, offsets[start] + 8192, side="right")) - 1
        end = min(max(end, start + 1), n)
        lo, hi = int(offsets[start]), int(offsets[end])
        if hi > lo:
            buf = np.multiply(a, h[None, lo:hi])
            buf += b
            seg = offsets[start:end] - lo
            nonempty = offsets[start + 1 : end + 1] > offsets[start:end]
            # Segments from each non-empty text's start to the next one's (empty texts hold none).
            out[start:end][nonempty] = np.minimum.reduceat(buf, seg[nonempty], axis=1).T
        start = end
    return out


_ANCHOR_TAG = np.uint64(0xA076_1D64_78BD_642F)


def anchor_keys(shingles: np.ndarray, *, rate: int, cap: int) -> np.ndarray:
    """The article's anchor keys: its shingles whose hash falls in 1/``rate`` of the hash
    space (the same shingles are anchors in every article), at most ``cap`` of them (the
    smallest), re-hashed so they never collide with band keys."""
    if rate <= 0 or shingles.size == 0:
        return np.empty(0, dtype=np.uint64)
    sel = shingles[((shingles >> np.uint64(40)) & np.uint64(rate - 1)) == 0]
    if sel.size > cap:
        sel = np.sort(sel)[:cap]
    h = sel ^ _ANCHOR_TAG
    h = (h ^ (h >> np.uint64(31))) * np.uint64(0xBF58476D1CE4E5B9)
    return h ^ (h >> np.uint64(29))
