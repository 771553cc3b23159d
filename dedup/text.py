"""Text normalisation, the exact-copy hash and word-shingle hashing.

Shingles are hashed without a Python loop per word: the UTF-8 bytes of the normalised
text go through a position-independent polynomial hash computed with numpy prefix sums,
so a 600-word document costs a handful of array operations.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np

# Typographic variants that syndication edits swap freely.
_TRANSLATE = str.maketrans({
    **{c: "'" for c in "\u2018\u2019\u201a\u201b\u2032\u00b4\u0060"},
    **{c: '"' for c in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\u2039\u203a"},
    **{c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d"},
    "\u00ad": None,  # soft hyphen
    "\u200b": None,  # zero-width space
    "\u200c": None,
    "\u200d": None,
    "\ufeff": None,
})
_SPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """NFKC, casefold, straight quotes and dashes, one space for any whitespace run."""
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE).casefold()
    return _SPACE.sub(" ", text).strip()


def content_hash(text: str) -> str:
    """Hex sha256 of the normalised text: equal for exact copies up to typography."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------- shingles

_M64 = (1 << 64) - 1
_R = 0x9E3779B97F4A7C15  # odd: invertible modulo 2^64
_R_INV = pow(_R, -1, 1 << 64)
# Word bytes: ASCII letters/digits (text is casefolded) and every non-ASCII byte (letters of
# other scripts; typographic punctuation was mapped to ASCII by normalize_text).
_WORD = np.zeros(256, dtype=bool)
_WORD[ord("0"):ord("9") + 1] = True
_WORD[ord("a"):ord("z") + 1] = True
_WORD[ord("A"):ord("Z") + 1] = True
_WORD[0x80:] = True
_POW: np.ndarray = np.ones(1, dtype=np.uint64)
_POW_INV: np.ndarray = np.ones(1, dtype=np.uint64)
# Position weights of the words in a shingle (odd, so the combination stays a bijection per word).
_SHINGLE_MULT = np.array(
    [0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5,
     0x9E3779B185EBCA87, 0xD6E8FEB86659FD93, 0xA0761D6478BD642F, 0xE7037ED1A0B428DB],
    dtype=np.uint64,
)


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    global _POW, _POW_INV
    if _POW.size < n:
        size = max(n, 2 * _POW.size, 1 << 16)
        with np.errstate(over="ignore"):
            _POW = _pow_table(_R, size)
            _POW_INV = _pow_table(_R_INV, size)
    return _POW, _POW_INV


def _pow_table(base: int, size: int) -> np.ndarray:
    """base^0 .. base^(size-1) modulo 2^64 (numpy integer products wrap, which is the modulo)."""
    out = np.empty(size, dtype=np.uint64)
    out[0] = 1
    out[1:] = base
    return np.cumprod(out, dtype=np.uint64)


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: spreads the polynomial hash's bits."""
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def word_hashes(normalized: str) -> np.ndarray:
    """64-bit hash of every word of an already normalised text, in order."""
    data = np.frombuffer(normalized.encode("utf-8"), dtype=np.uint8)
    n = data.size
    if n == 0:
        return np.empty(0, dtype=np.uint64)
    word = _WORD[data]
    edges = np.diff(word.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    if starts.size == 0:
        return np.empty(0, dtype=np.uint64)
    pw, pw_inv = _powers(n + 1)
    # G[i] = sum_{j<i} b_j R^j ; word [s, e) hashes to (G[e] - G[s]) R^-s = sum b_j R^(j-s).
    prefix = np.empty(n + 1, dtype=np.uint64)
    prefix[0] = 0
    np.cumsum(data.astype(np.uint64) * pw[:n], out=prefix[1:])
    words = (prefix[ends] - prefix[starts]) * pw_inv[starts]
    return fmix64(words + ends.astype(np.uint64) - starts.astype(np.uint64))


def shingle_hashes(normalized: str, size: int = 5) -> np.ndarray:
    """Sorted distinct 64-bit hashes of the word ``size``-grams of a normalised text.

    A text shorter than ``size`` words is one shingle of all its words (so tiny texts can
    still match exactly-equal tiny texts), an empty one has none.
    """
    return np.unique(shingle_sequence(normalized, size))


def shingle_sequence(normalized: str, size: int = 5) -> np.ndarray:
    """The word ``size``-gram hashes in text order (with repeats)."""
    words = word_hashes(normalized)
    n = words.size
    if n == 0:
        return words
    if n < size:
        size = n
    count = n - size + 1
    acc = words[:count] * _SHINGLE_MULT[0]
    for k in range(1, size):
        acc = acc + words[k:k + count] * _SHINGLE_MULT[k % _SHINGLE_MULT.size]
    return fmix64(acc + np.uint64(size))
