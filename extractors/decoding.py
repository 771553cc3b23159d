"""Bytes -> str for pages: HTTP header charset, BOM, <meta charset>, then detection.

Order follows what browsers do (WHATWG encoding sniffing), with two guards learned from
real pages: a declared single-byte charset on bytes that are valid multi-byte UTF-8 is
almost always a server default that is wrong, and legacy labels are widened to the
superset browsers actually use (latin-1 -> windows-1252, Shift_JIS -> cp932, ...).
"""

from __future__ import annotations

import codecs
import re
import string
from dataclasses import dataclass
from typing import Literal

from wiredesk.core.errors import InputError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Labels widened the way browsers widen them: the declared charset is a subset of these,
# and pages labelled with the subset routinely use the superset's extra characters.
_SUPERSETS = {
    "latin-1": "windows-1252",
    "iso8859-1": "windows-1252",
    "ascii": "windows-1252",
    "iso8859-9": "windows-1254",
    "shift_jis": "cp932",
    "euc_jp": "euc_jp",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
}

_SINGLE_BYTE = re.compile(r"^(cp125\d|windows-125\d|latin|iso8859|koi8|mac|cp8\d\d)")

# Signatures of formats that are not text, whatever a server claims.
_MAGIC = (
    b"%PDF",
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ",
    b"RIFF",
    b"OggS",
    b"ID3",
    b"\x00\x00\x00\x18ftyp",
    b"\x00\x00\x00\x20ftyp",
    b"\x7fELF",
    b"MZ",
    b"wOFF",
    b"wOF2",
)

_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9._:-]+)""")


def normalise_charset(label: str | None) -> str | None:
    """A Python codec name for a charset label, widened to its browser superset, or None."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in ("x-user-defined", "binary", "none", "unknown"):
        return None
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, name)


def _looks_binary(body: bytes) -> bool:
    head = body[:4096]
    if head.startswith(_MAGIC) or b"\x00" in head:
        return True
    # Control bytes other than tab/newline/CR/FF/ESC are rare in any text encoding.
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return controls > max(8, len(head) // 50)


def _try(body: bytes, encoding: str | None) -> str | None:
    if not encoding:
        return None
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _utf8_with_multibyte(body: bytes) -> str | None:
    """The UTF-8 reading when it is valid and actually uses multi-byte sequences."""
    if body.isascii():
        return None
    return _try(body, "utf-8")


def _declared(body: bytes, encoding: str) -> str | None:
    if _SINGLE_BYTE.match(encoding):
        # A single-byte label on valid multi-byte UTF-8: the label is the server's default,
        # the bytes are UTF-8 (the reverse, cp1252 text that is valid UTF-8, is vanishingly rare).
        utf8 = _utf8_with_multibyte(body)
        if utf8 is not None:
            return utf8
    return _try(body, encoding)


_WESTERN_PUNCT = set("“”‘’„‚–—…€•°«»·×÷§¶©®™±²³¹¼½¾¿¡¢£¥¦¨ª¬¯´µ¸º\xa0")


def _plausible_western(text: str) -> bool:
    """Does this windows-1252 reading look like a Western European language?

    Mis-decoded Central European text shows symbols inside words ("Za¿ó³æ"), and
    mis-decoded Cyrillic/Greek shows mostly non-ASCII letters ("Ïðèâåò"); real Western
    text has neither.

    Only the non-ASCII characters need a look of their own: ASCII letters are counted
    in one pass (str.isalpha on an ASCII character is [A-Za-z]).
    """
    sample = text[:100_000]
    # [A-Za-z] counted in C: the ASCII bytes of the sample less those letters
    ascii_bytes = sample.encode("ascii", "ignore")
    letters = len(ascii_bytes) - len(ascii_bytes.translate(None, _ASCII_LETTER_BYTES))
    non_ascii = 0
    for m in _NON_ASCII.finditer(sample):
        ch, i = m.group(), m.start()
        if ch.isalpha():
            letters += 1
            non_ascii += 1
        elif ch in _WESTERN_PUNCT and ch not in "“”‘’„‚–—…«»·\xa0":
            prev = text[i - 1] if i else ""
            nxt = text[i + 1] if i + 1 < len(text) else ""
            if prev.isalpha() and nxt.isalpha():
                return False
        elif ch not in _WESTERN_PUNCT:
            return False  # C1 controls and other oddities: not windows-1252 text
    return letters > 0 and non_ascii <= 0.3 * letters


_ASCII_LETTER_BYTES = string.ascii_letters.encode()
_NON_ASCII = re.compile("[^\x00-\x7f]")


def _detect(body: bytes) -> str | None:
    text = _try(body, "utf-8")
    if text is not None:
        return text
    # Undeclared, but UTF-8 but for a few stray bytes: many valid multi-byte letters
    # against few invalid runs is UTF-8 (no legacy code page produces that pattern).
    lenient = _lenient_utf8(body)
    if lenient.encoding == "utf-8" and _MOSTLY_UTF8 * lenient.replaced <= _multibyte(lenient.text):
        return lenient.text
    # windows-1252 is the web's default legacy encoding (browsers fall back to it in
    # Western locales); charset-normalizer often names a sibling code page (cp1250,
    # cp1257) for short Western texts, which garbles the few letters that differ.
    text = _try(body, "windows-1252")
    if text is not None and _plausible_western(text):
        return text
    from charset_normalizer import from_bytes  # imported late: only legacy pages need it

    best = from_bytes(body[:200_000]).best()
    if best is None or best.encoding is None:
        return text  # nothing better than windows-1252 (None if it could not decode)
    return _try(body, normalise_charset(best.encoding) or best.encoding)


@dataclass(frozen=True, slots=True, kw_only=True)
class Decoded:
    """A decoded page: its text, the codec used, and how many invalid byte runs became U+FFFD."""

    text: str
    encoding: str
    replaced: int = 0


def decode_page(body: bytes, *, kind: Literal["html", "text"] = "html", header_encoding: str | None = None) -> str:
    """Decode a page's bytes. Raises InputError(reason="empty" | "binary" | "decode")."""
    return decode_bytes(body, kind=kind, header_encoding=header_encoding).text


def _multibyte(text: str) -> int:
    """Characters beyond ASCII other than U+FFFD (counted in C, not a Python loop per character)."""
    return len(text) - len(text.encode("ascii", "ignore")) - text.count("\ufffd")


def _lenient_utf8(body: bytes, *, legacy: bool = True) -> Decoded:
    """A declared-UTF-8 page that is not valid UTF-8, read as browsers read it.

    Browsers (and trafilatura) decode a page declared UTF-8 with replacement characters,
    whatever its invalid bytes; a stray byte (a truncated copy-paste, a mangled CMS
    field) must neither refuse the page nor hand it to charset guessing, which picks a
    code page for the valid multi-byte letters too ("Ærøskøbing" read as cp1250: "Ă†rĂ¸skĂ¸bing").
    The one exception: bytes with no valid multi-byte sequence at all and many invalid
    ones are a legacy page under a wrong label; windows-1252 is then the reading a
    Western browser falls back to, taken only when it is plausible.
    """
    text = body.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd") - body.count(b"\xef\xbf\xbd")  # U+FFFD already in the page
    if replaced <= 0:
        return Decoded(text=text, encoding="utf-8", replaced=0)
    multibyte = _multibyte(text)
    if legacy and multibyte == 0 and replaced >= _LABEL_WRONG_MIN_INVALID:
        legacy = _try(body, "windows-1252")
        if legacy is not None and _plausible_western(legacy):
            return Decoded(text=legacy, encoding="windows-1252", replaced=0)
    return Decoded(text=text, encoding="utf-8", replaced=replaced)


# A declared-UTF-8 page with no valid multi-byte letter and at least this many invalid
# bytes is read as a mislabelled legacy page (one or two stray bytes are not evidence).
_LABEL_WRONG_MIN_INVALID = 3
# Over this share of invalid runs (per character) after a UTF-8 BOM, the page is refused.
_BOM_MAX_INVALID_SHARE = 0.01
# Undeclared bytes are read as UTF-8 with replacements when valid multi-byte letters
# outnumber the invalid runs this many times over.
_MOSTLY_UTF8 = 10


def decode_bytes(body: bytes, *, kind: Literal["html", "text"] = "html", header_encoding: str | None = None) -> Decoded:
    """decode_page with the codec and the count of replaced invalid sequences."""
    if not body or not body.strip():
        raise InputError("page has no bytes (or only whitespace)", reason="empty")
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            if encoding == "utf-8":
                lenient = _lenient_utf8(body[len(bom) :], legacy=False)  # a BOM is no server default
                # a stray byte is read as browsers read it; bytes that are mostly invalid
                # after a UTF-8 BOM are a corrupt file, not a page
                if lenient.replaced <= _BOM_MAX_INVALID_SHARE * len(lenient.text):
                    return _checked(lenient.text, lenient.encoding, lenient.replaced)
            text = _try(body[len(bom) :], encoding)
            if text is None:
                raise InputError(f"bytes after the {encoding} BOM do not decode", reason="decode")
            return _checked(text, encoding)
    declared = normalise_charset(header_encoding)
    if declared and declared.startswith(("utf-16", "utf-32")):
        # BOM-less UTF-16/32 is full of NUL bytes; only the header can vouch for it.
        text = _try(body, declared)
        if text is not None:
            return _checked(text, declared)
    if _looks_binary(body):
        raise InputError("not text (binary signature or control bytes)", reason="binary")
    for encoding in (normalise_charset(header_encoding), _sniff_declared(body, kind)):
        if encoding:
            text = _declared(body, encoding)
            if text is not None:
                return _checked(text, encoding)
            if encoding == "utf-8":
                lenient = _lenient_utf8(body)
                return _checked(lenient.text, lenient.encoding, lenient.replaced)
    text = _detect(body)
    if text is None:
        raise InputError("no encoding decodes these bytes", reason="decode")
    return _checked(text, "detected")


def _sniff_declared(body: bytes, kind: str) -> str | None:
    if kind != "html":
        return None
    head = body[:8192]
    m = _META_CHARSET.search(head) or _XML_DECL.search(head)
    if not m:
        return None
    encoding = normalise_charset(m.group(1).decode("ascii", "replace"))
    # A <meta> that claims UTF-16/32 on bytes we could scan as ASCII is wrong by
    # construction; browsers read such pages as UTF-8, so do we.
    if encoding and encoding.startswith(("utf-16", "utf-32")):
        return "utf-8"
    return encoding


def _checked(text: str, encoding: str, replaced: int = 0) -> Decoded:
    if not text.strip():
        raise InputError("page decodes to whitespace only", reason="empty")
    return Decoded(text=text, encoding=encoding, replaced=replaced)
