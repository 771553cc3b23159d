"""Text normalisation, the exact-copy hash and word-shingle hashing.

Shingles are hashed without a Python loop per word: the UTF-8 bytes of the text go through a position-independent polynomial hash computed with numpy prefix sums,
so a 600-word document costs a handful of array operations.

Text that is not pure ASCII is first put in its token form (``token_form``, the rule is in
dedup/README.md): NFKC, case-folded, every punctuation and symbol character of any script
a separator (by Unicode category, so Urdu ``۔ ، ؟``, Devanagari ``।``, CJK ``。、「」`` and
Greek ``·`` split words like ASCII punctuation does), digits of every script as ASCII digits,
and each character of a script written without spaces (Han, kana, Thai, Lao, Khmer,
Myanmar) a token of its own, so that shingles there are character n-grams.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

import numpy as np

# Typographic variants that syndication edits swap freely.
_QUOTE1 = re.compile("[\u2018\u2019\u201a\u201b\u2032\u00b4`]")
_QUOTE2 = re.compile("[\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\u2039\u203a]")
_DASH = re.compile("[\u2010-\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d]")
_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")


def normalize_text(text: str) -> str:
    """NFKC, casefold, straight quotes and dashes, one space for any whitespace run."""
    if not text.isascii():  # the common all-ASCII case needs none of the Unicode work
        text = unicodedata.normalize("NFKC", text)
        text = _INVISIBLE.sub("", _DASH.sub("-", _QUOTE2.sub('"', _QUOTE1.sub("'", text))))
    return " ".join(text.casefold().split())


# Scripts written without spaces between words: Han (with its compatibility and extension
# blocks), hiragana, katakana, Thai, Lao, Myanmar, Khmer.
_UNSPACED = re.compile(
    "[\\u0e00-\\u0eff\\u1000-\\u109f\\u1780-\\u17ff\\u3040-\\u30ff\\u31f0-\\u31ff\\u3400-\\u4dbf"
    "\\u4e00-\\u9fff\\uf900-\\ufaff\\uff66-\\uff9f\\U00020000-\\U0003134f]"
)


@lru_cache(maxsize=65536)
def _token_char(ch: str) -> str:
    """What token_form makes of one non-ASCII character (after NFKC)."""
    cat = unicodedata.category(ch)
    if cat[0] in "PSZ" or cat[0] == "C" and cat != "Cf":
        return " "  # punctuation, symbols, spaces, controls of every script separate words
    if cat == "Cf":
        return ""  # direction marks, joiners, soft hyphens: invisible, inside words
    if cat == "Nd":
        return str(unicodedata.digit(ch))
    if _UNSPACED.match(ch):
        return f" {ch} "  # no spaces between words: every character is a token
    return ch.casefold()


def _byte_separator(ch: str) -> bool:
    """Characters the byte hashing already treats as separators (see _byte_word_hashes)."""
    return "\u0080" <= ch <= "\u00bf" or "\u2000" <= ch <= "\u206f"


def token_form(text: str) -> str:
    """The text as dedup tokenises it: words separated by spaces (see the module docstring).
    ASCII characters are left as they are (the byte hashing lower-cases ASCII letters and
    splits at ASCII punctuation itself); text whose only non-ASCII characters are the
    typographic ones the byte hashing also splits at (curly quotes, dashes, no-break
    spaces) is returned as is. Otherwise one translate over the text with a table of just
    its distinct non-ASCII characters, each looked up once (memoised)."""
    if text.isascii():
        return text
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    table = {}
    for ch in set(text):
        if ch > "\x7f":
            out = _token_char(ch)
            if out != ch and not (out == " " and _byte_separator(ch)):
                table[ord(ch)] = out
    return text.translate(table) if table else text


def content_hash(text: str) -> str:
    """Hex sha256 of the normalised text: equal for exact copies up to typography."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------- shingles

_M64 = (1 << 64) - 1
_R = 0x9E3779B97F4A7C15  # odd: invertible modulo 2^64
_R_INV = pow(_R, -1, 1 << 64)
# bytes.translate table: ASCII letters lower-cased, digits and non-ASCII bytes kept, the rest 0.
_BYTE_MAP = bytes(
    (c + 32 if 65 <= c <= 90 else c) if (48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122 or c >= 0x80) else 0
    for c in range(256)
)
_POW: np.ndarray = np.ones(1, dtype=np.uint64)
_POW_INV: np.ndarray = np.ones(1, dtype=np.uint64)
# Position weights of the words in a shingle (odd, so the combination stays a bijection per word).
_SHINGLE_MULT = np.array(
    [
        0xC2B2AE3D27D4EB4F,
        0x165667B19E3779F9,
        0x85EBCA77C2B2AE63,
        0x27D4EB2F165667C5,
        0x9E3779B185EBCA87,
        0xD6E8FEB86659FD93,
        0xA0761D6478BD642F,
        0xE7037ED1A0B428DB,
    ],
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


def word_hashes(text: str) -> np.ndarray:
    """64-bit hash of every word of a text, in order, straight from its UTF-8 bytes.

    Words are the space-separated tokens of token_form(text): runs of letters, marks and
    digits of any script, case-folded, or single characters of scripts written without
    spaces. Equal for a text and its normalize_text() form.
    """
    return _word_hashes(text)[0]


def _word_hashes(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(word hashes, byte offset of each word's start) of the text's token form."""
    return _byte_word_hashes(token_form(text))


def _byte_word_hashes(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(word hashes, byte offset of each word's start) of a text already in token form."""
    raw = text.encode("utf-8").translate(_BYTE_MAP)  # lower-cased word bytes, 0 elsewhere
    n = len(raw)
    if n == 0:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    if text.isascii():
        data = np.frombuffer(raw, dtype=np.uint8)
    else:
        data = np.frombuffer(bytearray(raw), dtype=np.uint8)
        lead = np.flatnonzero(data[:-1] == 0xC2)  # U+0080-U+00BF: two bytes
        data[lead] = 0
        data[lead + 1] = 0
        lead = np.flatnonzero(data[:-2] == 0xE2)  # U+2000-U+206F: E2 80 xx / E2 81 xx
        lead = lead[(data[lead + 1] == 0x80) | (data[lead + 1] == 0x81)]
        data[lead] = 0
        data[lead + 1] = 0
        data[lead + 2] = 0
    word = data != 0
    starts = np.flatnonzero(word[1:] > word[:-1]) + 1
    if word[0]:
        starts = np.concatenate(([0], starts))
    if starts.size == 0:
        return np.empty(0, dtype=np.uint64), starts
    pw, pw_inv = _powers(n + 1)
    # Word [s, e) hashes to sum b_j R^(j-s): one product per byte, summed per word (the
    # separator bytes after a word are 0 and add nothing).
    sums = np.add.reduceat(np.multiply(data, pw[:n]), starts)
    return sums * pw_inv[starts], starts


def shingle_hashes(text: str, size: int = 5) -> np.ndarray:
    """Sorted distinct 64-bit hashes of the word ``size``-grams of a text (see word_hashes).

    A text shorter than ``size`` words is one shingle of all its words (so tiny texts can
    still match exactly-equal tiny texts), an empty one has none.
    """
    return np.unique(shingle_sequence(text, size))


def shingle_sequence(text: str, size: int = 5) -> np.ndarray:
    """The word ``size``-gram hashes in text order (with repeats)."""
    words = word_hashes(text)
    n = words.size
    if n == 0:
        return words
    if n < size:
        size = n
    count = n - size + 1
    acc = words[:count] * _SHINGLE_MULT[0]
    for k in range(1, size):
        acc = acc + words[k : k + count] * _SHINGLE_MULT[k % _SHINGLE_MULT.size]
    return fmix64(acc + np.uint64(size))


def batch_shingles(texts: list[str], size: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of many texts at once: (hashes, offsets), text k's shingles (in text
    order, with repeats) being ``hashes[offsets[k]:offsets[k+1]]``. Same values as
    shingle_sequence per text; one pass of numpy over the joined bytes instead of one per text.
    """
    n = len(texts)
    if n == 0:
        return np.empty(0, dtype=np.uint64), np.zeros(1, dtype=np.int64)
    texts = [token_form(t) for t in texts]
    joined = "\n".join(texts)  # "\n" is not a word byte: no word spans two texts
    words, starts = _byte_word_hashes(joined)
    # Which text each word belongs to, from the byte offsets where texts start.
    if joined.isascii():
        lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=n)
    else:
        lengths = np.fromiter((len(t.encode("utf-8")) + 1 for t in texts), dtype=np.int64, count=n)
    text_starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    doc = np.searchsorted(text_starts, starts, side="right") - 1
    counts = np.bincount(doc, minlength=n)
    m = words.size
    if m >= size:
        count = m - size + 1
        acc = words[:count] * _SHINGLE_MULT[0]
        for k in range(1, size):
            acc = acc + words[k : k + count] * _SHINGLE_MULT[k % _SHINGLE_MULT.size]
        valid = doc[:count] == doc[size - 1 : size - 1 + count]
        hashes = fmix64(acc[valid] + np.uint64(size))
        hdoc = doc[:count][valid]
    else:
        hashes, hdoc = np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    short = np.flatnonzero((counts > 0) & (counts < size))
    if short.size:  # texts shorter than one shingle: one shingle of all their words
        extra = np.concatenate([shingle_sequence(texts[k], size) for k in short.tolist()])
        hashes = np.concatenate([hashes, extra])
        hdoc = np.concatenate([hdoc, short])
        order = np.argsort(hdoc, kind="stable")
        hashes, hdoc = hashes[order], hdoc[order]
    offsets = np.searchsorted(hdoc, np.arange(n + 1))
    return hashes, offsets


# --------------------------------------------------------------------- body text

# A line ending like a sentence in any script: Latin/Cyrillic/Greek/Hebrew . ! ? … ;
# Arabic-script ۔ ؟ ؛; Devanagari/Indic । ॥; CJK 。！？; Greek question mark ; (U+037E, NFKC
# makes it ';'); Thai has no full stop (a space ends its sentences) and ends with ฯ or ๆ at most.
_SENTENCE_END = re.compile(
    "[.!?…;:\u06d4\u061f\u061b\u0964\u0965\u3002\uff01\uff1f\uff0e\u0e2f\u0e46]['\"”’»)\\]]*\\s*$"
)
_CJK_CHAR = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SEA_CHAR = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")
_HEADLINE_MAX_WORDS = 30


def word_units(text: str) -> float:
    """Length in words, comparable across scripts: a spaced word is one, a Han or kana
    character half of one (~2 per word), a Thai, Lao, Khmer or Myanmar character a quarter."""
    form = token_form(text)
    cjk = len(_CJK_CHAR.findall(form))
    sea = len(_SEA_CHAR.findall(form))
    return len(form.split()) - cjk - sea + cjk / 2 + sea / 4


def body_text(text: str, title: str | None = None) -> str:
    """The text without its headline: the line equal to the title, or, without a title, a
    first line shaped like a headline (short, no sentence end) with more text after it.
    Copies re-headline freely, and two different stories can share most of a headline
    ("New Zealand announces 15-member Test squad" / "Sri Lanka announces ..."), so dedup
    compares bodies."""
    lines = text.split("\n")
    if len(lines) < 2:
        return "" if title and _same_line(text, title) else text
    if title:
        for k in range(min(2, len(lines))):
            if _same_line(lines[k], title):
                return "\n".join(lines[:k] + lines[k + 1 :])
        return text
    first = lines[0].strip()
    if first and not _SENTENCE_END.search(first) and word_units(first) <= _HEADLINE_MAX_WORDS:
        return "\n".join(lines[1:])
    return text


def _line_key(line: str) -> str:
    return " ".join(_WORD.findall(token_form(line).casefold()))


_WORD = re.compile(r"\w+")


def _same_line(line: str, title: str) -> bool:
    a, b = _line_key(line), _line_key(title)
    return bool(a) and (a == b or (len(a) > 15 and b.startswith(a)) or (len(b) > 15 and a.startswith(b)))
