"""Make a feed or sitemap safe to parse: no DTD and no entity declaration survives, and HTML
named entities become the characters they name.

feedparser keeps entity declarations it finds before the root element *as text*: it looks
for lines starting with ``<!ENTITY`` there, wherever they sit (inside a comment of the
DOCTYPE, a processing instruction, a quoted string), keeps those whose value looks plain,
and its loose parser expands them. A 97 KB feed with one such declaration referenced
10,000 times took 1.5 GB. So nothing but the XML declaration may reach it in front of the
root element, and nothing that is declared may be referenced:

- any ``<!ENTITY`` before the root element, in any construct, or outside a comment or
  CDATA section after it, refuses the document as ``xml-bomb``;
- the DOCTYPE is removed, its bounds found by a scan that knows quoted strings, comments
  and processing instructions inside the internal subset (an external DTD is never read);
- comments and processing instructions are removed (the XML declaration is kept);
- ``&nbsp;`` and the other HTML named entities, common in real feeds and undefined in XML,
  become numeric character references; any other undeclared name becomes literal text.

The result must then pass a strict parse with DTDs and entities forbidden (``safe_tree``).
"""

from __future__ import annotations

import html.entities
import re

from wiredesk.core.errors import PermanentFetchError


class BadFeed(PermanentFetchError):
    reason = "bad-feed"


class XmlBomb(PermanentFetchError):
    reason = "xml-bomb"


_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
# HTML5's named references (with their semicolon) as XML character references.
_HTML_ENTITIES: dict[bytes, bytes] = {
    name[:-1].encode("ascii"): "".join(f"&#x{ord(c):X};" for c in chars).encode("ascii")
    for name, chars in html.entities.html5.items()
    if name.endswith(";") and name[:-1] not in _XML_ENTITIES
}
_STRUCTURE = re.compile(rb"<!--|<!\[CDATA\[|<\?|<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_ROOT_TAG = re.compile(rb"<[A-Za-z_:]")
# References to anything but XML's five own entities (those need no work and are the most common).
_REFERENCE = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos);)([A-Za-z_:][\w.:-]*);")
_IN_DOCTYPE = re.compile(rb"[\"'\[>]")
_IN_SUBSET = re.compile(rb"<!--|<\?|[\"'\]]")
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_XML_DECL = re.compile(rb"<\?xml[ \t\r\n]")
_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
)


def sanitize(body: bytes, where: str) -> bytes:
    """``body`` without DTD, comments or processing instructions, HTML entities mapped.

    Raises XmlBomb for an entity declaration, BadFeed for markup left open."""
    body = _ascii_compatible(body, where)
    out = bytearray()
    pos = 0
    root = -1  # where the root element's start tag is, once found (the prolog ends there)
    while (match := _STRUCTURE.search(body, pos)) is not None:
        start = match.start()
        out += _REFERENCE.sub(_reference, body[pos:start])
        if root < 0 and (tag := _ROOT_TAG.search(body, pos, start)) is not None:
            root = tag.start()
        in_prolog = root < 0
        token = match.group(0).upper()
        if token == b"<!--":
            pos = _skip(body, b"-->", match.end(), "comment", where)
        elif token == b"<![CDATA[":
            pos = _skip(body, b"]]>", match.end(), "CDATA section", where)
            out += body[start:pos]
        elif token == b"<?":
            pos = _skip(body, b"?>", match.end(), "processing instruction", where)
            at_start = start == 0 or (start == 3 and body.startswith(b"\xef\xbb\xbf"))
            if at_start and _XML_DECL.match(body, start):
                out += body[start:pos]  # the XML declaration (encoding) stays
        elif token == b"<!DOCTYPE":
            if not in_prolog:
                raise BadFeed(f"not well-formed XML (DOCTYPE after the root element): {where}")
            pos = _doctype_end(body, match.end(), where)
        else:  # <!ENTITY outside any DOCTYPE, comment or CDATA section
            raise XmlBomb(f"entity declaration in {where}")
        if in_prolog:  # feedparser reads declarations in front of the root wherever they sit
            _refuse_declarations(body[start:pos], where)
    out += _REFERENCE.sub(_reference, body[pos:])
    return bytes(out)


def _reference(match: re.Match[bytes]) -> bytes:
    name = match.group(1)
    mapped = _HTML_ENTITIES.get(name)
    if mapped is not None:
        return mapped
    return b"&amp;" + name + b";"  # undeclared and not HTML: the text as written


def _refuse_declarations(chunk: bytes, where: str) -> None:
    if _ENTITY_DECL.search(chunk):
        raise XmlBomb(f"entity declaration in {where}")


def _skip(body: bytes, end: bytes, start: int, what: str, where: str) -> int:
    found = body.find(end, start)
    if found < 0:
        raise BadFeed(f"not well-formed XML (unterminated {what}): {where}")
    return found + len(end)


def _doctype_end(body: bytes, pos: int, where: str) -> int:
    """Index just past the DOCTYPE that starts before ``pos``: ``>`` outside quotes, with an
    internal subset's quoted strings, comments and processing instructions skipped whole."""
    while (match := _IN_DOCTYPE.search(body, pos)) is not None:
        char = match.group(0)
        if char in (b'"', b"'"):
            pos = _skip(body, char, match.end(), "quoted string in the DOCTYPE", where)
        elif char == b"[":
            pos = _subset_end(body, match.end(), where)
        else:
            return match.end()
    raise BadFeed(f"not well-formed XML (unterminated DOCTYPE): {where}")


def _subset_end(body: bytes, pos: int, where: str) -> int:
    while (match := _IN_SUBSET.search(body, pos)) is not None:
        token = match.group(0)
        if token == b"<!--":
            pos = _skip(body, b"-->", match.end(), "comment in the DOCTYPE", where)
        elif token == b"<?":
            pos = _skip(body, b"?>", match.end(), "processing instruction in the DOCTYPE", where)
        elif token in (b'"', b"'"):
            pos = _skip(body, token, match.end(), "quoted string in the DOCTYPE", where)
        else:  # "]": the internal subset ends
            return match.end()
    raise BadFeed(f"not well-formed XML (unterminated DOCTYPE internal subset): {where}")


def _ascii_compatible(body: bytes, where: str) -> bytes:
    """UTF-16/32 documents re-encoded as UTF-8, so the byte-level scan sees their markup."""
    for mark, codec in _BOMS:
        if body.startswith(mark):
            try:
                text = body.decode(codec).lstrip("\ufeff")
            except UnicodeDecodeError as exc:
                raise BadFeed(f"not valid {codec} ({exc.reason}): {where}") from None
            # The declaration's encoding would now be wrong; UTF-8 is the default.
            text = re.sub(r"^(<\?xml[^>]*?)\s+encoding\s*=\s*(['\"])[^'\"]*\2", r"\1", text)
            return text.encode("utf-8")
    return body
