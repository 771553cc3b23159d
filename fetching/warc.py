"""Web archives as a source of pages: WARC (plain, per-record gzip, whole-file gzip) and ARC.

``read_archive`` streams one archive file and yields one ``ArchiveItem`` per record found:
a page (an HTML or plain-text HTTP 200 ``response``), a record skipped with its kind
(``warc-request``, ``warc-revisit``, ``non-html``, ``http-404``...) or a failure with its
offset and reason. Nothing is held in memory beyond one record's payload (capped).

FastWARC does the record framing (chosen by measurement, ``bench/warc.py``; it also reads
whole-file gzip and records split over several gzip members, where warcio stops). Where
the library reads on silently past damage (a wrong Content-Length, junk between records)
or stops (a corrupt gzip member), this module checks each record's framing, reports what
was lost, and restarts the library at the next record it can find. ARC files (which
FastWARC does not read) go through warcio. HTTP headers are parsed here, leniently (LF-only
lines, status lines without a reason), and the body decoded under the same byte cap as a
fetched page: chunked transfer coding, then gzip/deflate Content-Encoding.
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import BinaryIO, NamedTuple

from fastwarc.warc import ArchiveIterator, WarcHeader, WarcRecordType

from wiredesk.core.records import PageKind, RawPage

from .urls import without_tracking

ARCHIVE_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
_HTML_TYPES = {"text/html", "application/xhtml+xml", "application/vnd.wap.xhtml+xml"}
_TEXT_TYPES = {"text/plain"}
_HEADER_PEEK = 64 * 1024  # a WARC header block longer than this is not a header block
_GZIP_MAGIC = b"\x1f\x8b\x08"
_OVERRUN = ("warc-bad-length", "warc-truncated")
_RESPONSE = WarcRecordType.response
_UNKNOWN = WarcRecordType.unknown
# What a record of each known type is counted as when it is not read (WarcRecordType's str()
# is a Python-level call; this is one dict look-up per record).
_SKIPPED = {
    int(t): f"warc-{t}"
    for t in (
        WarcRecordType.warcinfo,
        WarcRecordType.resource,
        WarcRecordType.request,
        WarcRecordType.metadata,
        WarcRecordType.revisit,
        WarcRecordType.conversion,
        WarcRecordType.continuation,
    )
}
# Header look-ups by the library's own keys: several times cheaper than by name.
_URI = WarcHeader.WARC_TARGET_URI
_DATE = WarcHeader.WARC_DATE
_LENGTH = WarcHeader.CONTENT_LENGTH
_WARC_HEAD = 1024  # most WARC header blocks fit: one small pread per record
_FIELDS = {
    name.encode(): name for name in ("content-type", "content-length", "transfer-encoding", "content-encoding", "date")
}
# The header fields this module reads, found in the whole header block by one search (a
# response carries ten or twenty fields; taking each line apart in Python cost more than the
# library's read of the body).
_FIELD = re.compile(rb"^[ \t]*(" + b"|".join(_FIELDS) + rb")[ \t]*:(.*)$", re.IGNORECASE | re.MULTILINE)
_RECORD_START = re.compile(rb"(?:^|\n)(WARC/\d+\.\d+\r?\n)")
_HTTP = ("http://", "https://")
_MEDIA: dict[str, tuple[str, str | None]] = {}  # Content-Type value -> (media type, charset)
_MEDIA_MAX = 512


def is_archive(path: str | os.PathLike[str]) -> bool:
    return str(path).lower().endswith(ARCHIVE_SUFFIXES)


class ArchiveItem(NamedTuple):
    """One record of an archive: exactly one of ``page``, ``skipped`` or ``failed`` is set.
    (A named tuple: one is made per record, and a tuple is several times cheaper to build
    than a frozen dataclass.)"""

    offset: int  # byte offset of the record in the file (of its gzip member when compressed)
    page: RawPage | None = None
    skipped: str | None = None  # why a record is not a page: its kind or its HTTP status
    failed: str | None = None  # reason code of a record that could not be read
    detail: str = ""
    url: str | None = None  # WARC-Target-URI, when the record had one


# ArchiveItem((offset, page, skipped, failed, detail, url)) without the named tuple's
# Python-level __new__: made once per record on the fast path.
_new_item = partial(tuple.__new__, ArchiveItem)


class _Bad(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def read_archive(path: str | os.PathLike[str], *, source: str, max_bytes: int) -> Iterator[ArchiveItem]:
    """Every record of one WARC or ARC file, in file order (see the module docstring). Lazy:
    nothing is opened before the first item is asked for."""
    path = Path(path)
    name = path.name.lower()
    # The reader's own generator, not one more delegating it: every level an item passes
    # through costs a resumption, and a plain file yields thousands of items a second.
    if name.endswith((".arc", ".arc.gz")):
        return _read_arc(path, source=source, max_bytes=max_bytes)
    return _read_warc(path, source=source, max_bytes=max_bytes)


# -- WARC framing -------------------------------------------------------------------------------


def _read_warc(path: Path, *, source: str, max_bytes: int) -> Iterator[ArchiveItem]:
    size = path.stat().st_size
    if size == 0:
        yield ArchiveItem(offset=0, failed="warc-empty", detail=f"{path.name}: empty file, no records")
        return
    items = _warc_items(path, size, source, max_bytes)
    first = next(items, None)
    if first is None:
        yield ArchiveItem(offset=0, failed="not-an-archive", detail=f"{path.name}: no WARC record found")
        return
    if first.offset > 0 and not first.failed:  # the library passed over a head
        yield ArchiveItem(offset=0, failed="warc-junk", detail=f"{first.offset} bytes before the first record skipped")
    yield first
    yield from items  # the rest as they come, with no check of each


def _warc_items(path: Path, size: int, source: str, max_bytes: int) -> Iterator[ArchiveItem]:
    """Plain files are read on the fast path (``_fast_items``) and drop to the recovering path
    below where it finds something off; the recovering path hands back once two records in a
    row are framed right. Compressed files are read on the recovering path (with no framing
    check of its own: it costs nothing there)."""
    with open(path, "rb") as fh:
        fd = fh.fileno()
        compressed = fh.read(3) == _GZIP_MAGIC
        start = 0
        fast = not compressed
        while start < size:
            if fast:
                stop: list[int] = []
                yield from _fast_items(path, fh, start, source, max_bytes, stop)
                start, fast = stop[0], False  # the recovering path reads again from there
                continue
            iterator = _records(path, fh, start, quirks=True)
            resume: int | None = None
            pending: tuple[int, ArchiveItem, int] | None = None  # (offset, item, expected end)
            last: int | None = None
            framed = 0  # records in a row whose framing held
            try:
                for record in iterator:
                    offset = record.stream_pos
                    if pending is not None:
                        if pending[2] == offset:  # the framing held
                            yield pending[1]
                            framed += 1
                            if framed >= 2 and offset > start:  # past the damage: the fast path again
                                pending = None
                                resume, fast = offset, True
                                break
                        else:  # what went wrong, and what was passed over
                            framed = 0
                            yield from _settle(fh, pending, offset)
                            swallowed = _swallowed(fh, pending, offset)
                            if swallowed is not None:  # read again from the record it swallowed
                                pending = None
                                resume = swallowed
                                break
                        pending = None
                    last = offset
                    try:
                        item, end = _item(record, offset, fd, source, max_bytes, compressed=compressed)
                    except OSError as exc:  # the record's own data is damaged
                        yield ArchiveItem(
                            offset=offset, failed="warc-corrupt", detail=f"record at offset {offset}: {exc}"
                        )
                        resume = _next_start(fh, offset + 1, size, compressed)
                        break
                    if end is not None:
                        pending = (offset, item, end)
                        continue
                    yield item
                    if item.failed in _OVERRUN:  # records it ran into: read them again
                        resume = _next_start(fh, offset + 1, size, compressed)
                        if resume is not None:
                            break
                else:
                    if pending is not None:
                        yield from _settle(fh, pending, size)
                        resume = _swallowed(fh, pending, size)
                        pending = None
            except OSError as exc:  # a corrupt gzip member or header between records
                if pending is not None:
                    yield pending[1]
                if last is None:  # nothing readable here: report it, look further on
                    resume = _next_start(fh, start + 1, size, compressed)
                    lost_to = resume if resume is not None else size
                    yield ArchiveItem(
                        offset=start,
                        failed="warc-corrupt",
                        detail=f"{path.name}: unreadable data at offset {start} ({exc}); bytes up to {lost_to} skipped",
                    )
                else:  # restart at the member after the last good one; a damaged one fails there
                    resume = _next_start(fh, last + 1, size, compressed)
            if resume is None or resume <= start:
                break
            start = resume


def _records(path: Path, fh: BinaryIO, start: int, *, quirks: bool) -> ArchiveIterator:
    """The library's records from ``start``. From the start, FastWARC opens the file itself
    (its native reader is faster than reading through a Python file object); past the start
    (after damage), it reads on from ``fh``."""
    fh.seek(start)
    return ArchiveIterator(
        str(path) if start == 0 else fh,
        parse_http=False,
        quirks_mode=quirks,
        fsspec_args=False,
        max_header_len=_HEADER_PEEK,
    )


def _fast_items(
    path: Path, fh: BinaryIO, start: int, source: str, max_bytes: int, stop: list[int]
) -> Iterator[ArchiveItem]:
    """The fast path for a plain file, from ``start``: the library in its strict mode, which
    reads each record's header exactly where the previous record's Content-Length says it
    ends (blank lines between records allowed) and raises where no header is there. So a
    record's framing held once the next record is found, with no read of our own (the
    recovering path reads each header again to check it): each item is held back until then.
    Where the library raises, where a record is cut off, and at the last record of the file
    (whose end no next record confirms), it stops: ``stop`` gets the offset from which the
    recovering path reads again; nothing from there on has been yielded.

    This loop runs once per record of every plain archive: the records that are not responses
    (two of three in a crawl) are counted here without a call, and items are made by
    ``_new_item`` (see ``_item`` for the same done per record with a framing check)."""
    iterator = _records(path, fh, start, quirks=False)
    pending: ArchiveItem | None = None
    current = start
    skipped = _SKIPPED.get
    try:
        for record in iterator:
            current = record.stream_pos
            if pending is not None:
                yield pending
            rtype = record.record_type
            if rtype != _RESPONSE:  # skipped unread: the iterator moves past its content itself
                kind = skipped(int(rtype)) or _unknown_kind(record)
                pending = _new_item((current, None, kind, None, "", None))
                continue
            pending = _response_item(record, current, source, max_bytes, False)
            if pending.failed in _OVERRUN:
                stop.append(current)
                return
    except OSError:  # no record where the last one ends (or this record is damaged)
        pass
    stop.append(pending.offset if pending is not None else current)


def _item(
    record, offset: int, fd: int, source: str, max_bytes: int, *, compressed: bool
) -> tuple[ArchiveItem, int | None]:
    """The item for one record, and (uncompressed files) where it should end."""
    end = None
    if not compressed:
        head = _header_length(fd, offset)
        end = offset + head + record.content_length + 4 if head is not None else None
    rtype = record.record_type
    if rtype != _RESPONSE:  # skipped unread: the iterator moves past its content itself
        kind = _SKIPPED.get(int(rtype)) or _unknown_kind(record)
        return ArchiveItem(offset, skipped=kind), end
    return _response_item(record, offset, source, max_bytes, compressed), end


def _unknown_kind(record) -> str:
    """A record type unknown to the library: named by its own WARC-Type."""
    return "warc-" + (record.headers.get("WARC-Type") or "untyped").strip().lower()


def _response_item(record, offset: int, source: str, max_bytes: int, compressed: bool) -> ArchiveItem:
    """The item for a ``response`` record: a page, a record skipped (not HTTP, not 200, not
    HTML) or a failure."""
    headers = record.headers
    url = _target_uri(headers.get(_URI))
    try:
        declared = headers.get(_LENGTH)
        if declared is None or not declared.strip().isdigit():
            raise _Bad("warc-no-length", f"record at offset {offset}: no valid Content-Length ({declared!r})")
        if not url or not url.startswith(_HTTP) and not url.lower().startswith(_HTTP):
            return ArchiveItem(offset, skipped="warc-not-http", url=url)
        # The library parses the HTTP head (leniently: LF-only lines, no reason phrase); the
        # body is then read in one read of its own size, never copied out of a larger block.
        record.parse_http(max_header_len=_HEADER_PEEK, quirks_mode=True, strict_mode=False)
        http = record.http_headers
        status = http.status_code
        if status is None:
            raise _Bad("warc-bad-http", f"record at offset {offset}: bad status line {(http.status_line or '')[:80]!r}")
        want = record.content_length  # the payload's, once the head is parsed
        if want == 0 and status == 200:  # a head cut off by its Content-Length reads the same
            raise _Bad("warc-bad-http", f"record at offset {offset}: no HTTP body after the header block")
        cap = max_bytes + _HEADER_PEEK
        body = record.reader.read(want if want <= cap else cap + 1) if want > 0 else b""
        if len(body) < want and len(body) <= cap:
            raise _Bad("warc-truncated", f"record at offset {offset}: {len(body)} of {want} body bytes, file cut off")
        fields = _named_fields(http.items_bytes())
        return _http_item(
            status, fields, body, url, headers.get(_DATE), offset, source, max_bytes, check_overrun=compressed
        )
    except _Bad as bad:
        return ArchiveItem(offset, failed=bad.reason, detail=bad.detail, url=url)


def _settle(fh: BinaryIO, pending: tuple[int, ArchiveItem, int], next_offset: int) -> Iterator[ArchiveItem]:
    """Yield a record held back until the next record's offset showed whether its framing held."""
    offset, item, end = pending
    if end == next_offset or item.failed:
        yield item
        return
    if end < next_offset and os.pread(fh.fileno(), 4, end - 4) == b"\r\n\r\n":  # whole; junk follows
        yield item
        yield ArchiveItem(
            offset=end,
            failed="warc-junk",
            detail=f"{next_offset - end} bytes between records at offset {end} skipped",
        )
        return
    yield ArchiveItem(
        offset=offset,
        failed="warc-bad-length",
        detail=f"record at offset {offset}: Content-Length does not match the record ({end} vs {next_offset})",
        url=item.url,
    )


def _swallowed(fh: BinaryIO, pending: tuple[int, ArchiveItem, int], next_offset: int) -> int | None:
    """Where a record the library passed over (inside a Content-Length too large, or junk it
    stopped at) starts before ``next_offset``, if any; the caller restarts the library there."""
    offset, _item, end = pending
    if end == next_offset:
        return None
    intact = end <= next_offset and os.pread(fh.fileno(), 4, end - 4) == b"\r\n\r\n"
    found = _next_start(fh, end if intact else offset + 1, next_offset, compressed=False)
    return found if found is not None and found < next_offset else None


def _header_length(fd: int, offset: int) -> int | None:
    # pread: the library reads through the same file object, its position must not move.
    peek = os.pread(fd, _WARC_HEAD, offset)
    cut = peek.find(b"\r\n\r\n")
    if cut < 0:
        peek = os.pread(fd, _HEADER_PEEK, offset)
        cut = peek.find(b"\r\n\r\n")
    return cut + 4 if cut >= 0 else None


def _next_start(fh: BinaryIO, after: int, size: int, compressed: bool) -> int | None:
    """The offset of the next record start at or after ``after``: a ``WARC/x.y`` line in a
    plain file, a gzip member that inflates to one in a compressed file."""
    position = after
    window = 1 << 20
    while position < size:
        chunk = os.pread(fh.fileno(), min(window + 16, size - position), position)
        if not chunk:
            return None
        if compressed:
            at = chunk.find(_GZIP_MAGIC)
            while at >= 0:
                if _member_is_record(fh, position + at):
                    return position + at
                at = chunk.find(_GZIP_MAGIC, at + 1)
        else:
            match = _RECORD_START.search(chunk)
            if match is not None:
                return position + match.start(1)
        position += window
    return None


def _member_is_record(fh: BinaryIO, offset: int) -> bool:
    data = os.pread(fh.fileno(), 4096, offset)
    try:
        head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, 16)
    except zlib.error:
        return False
    return head.startswith(b"WARC/")


def _target_uri(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if value.startswith("<") and value.endswith(">"):  # WARC/1.1 drafts and some writers
        value = value[1:-1].strip()
    return value or None


# -- the HTTP response inside a record ------------------------------------------------------------


def _response(
    block: bytes,
    url: str,
    warc_date: str | None,
    offset: int,
    source: str,
    max_bytes: int,
) -> ArchiveItem:
    """The item for an HTTP response given whole (head and body in one block)."""
    head, body = _split_head(block)
    if head is None:
        raise _Bad("warc-bad-http", f"record at offset {offset}: no HTTP header block")
    lines = head.split(b"\n")
    status = _status(lines[0])
    if status is None:
        raise _Bad("warc-bad-http", f"record at offset {offset}: bad status line {lines[0][:80]!r}")
    return _http_item(status, _fields(b"\n".join(lines[1:])), body, url, warc_date, offset, source, max_bytes)


def _http_item(
    status: int,
    fields: dict[str, str],
    body: bytes,
    url: str,
    warc_date: str | None,
    offset: int,
    source: str,
    max_bytes: int,
    *,
    check_overrun: bool = False,
) -> ArchiveItem:
    """The item for an HTTP response: its status, the header fields ``_fields`` reads, its body."""
    if check_overrun and _overrun(body, fields):
        raise _Bad("warc-bad-length", f"record at offset {offset}: its Content-Length runs into the next record")
    if status != 200:
        return ArchiveItem(offset, skipped=f"http-{status}", url=url)
    media, charset = _media(fields.get("content-type", ""))
    coding = fields.get("transfer-encoding")
    if coding and "chunked" in coding.lower():
        body = _dechunk(body)
    coding = fields.get("content-encoding")
    if coding:
        body = _decode(body, coding, max_bytes, offset)
    if len(body) > max_bytes:
        raise _Bad("too-large", f"record at offset {offset}: body over the {max_bytes} byte cap")
    kind = _page_kind(media, body)
    if kind is None:
        return ArchiveItem(offset, skipped="non-html", url=url)
    fetched = _when(warc_date) or _http_date(fields.get("date"))
    page = RawPage(
        source=source,
        body=body,
        kind=kind,
        url=without_tracking(url),  # the page's own URL, as for a fetched page: one article id
        fetched_at=fetched or datetime.now(UTC),
        encoding=charset,
    )
    return _new_item((offset, page, None, None, "", url))


def _overrun(body: bytes, fields: dict[str, str]) -> bool:
    """Does the block run on into the next record (a WARC Content-Length too large, in a gzip
    file where the members do not show it)? Past the HTTP Content-Length only, when there is
    one: scanning every body would cost as much as reading it."""
    declared = fields.get("content-length", "").strip()
    start = int(declared) if declared.isdigit() and "chunked" not in fields.get("transfer-encoding", "") else 0
    if start and len(body) <= start:
        return False
    return body.find(b"\r\n\r\nWARC/", max(0, start - 4)) >= 0


def _split_head(block: bytes) -> tuple[bytes | None, bytes]:
    crlf = block.find(b"\r\n\r\n", 0, _HEADER_PEEK)
    lf = block.find(b"\n\n", 0, crlf if crlf >= 0 else _HEADER_PEEK)  # LF-only header lines
    if crlf < 0 and lf < 0:
        return None, b""
    if lf >= 0 and (crlf < 0 or lf < crlf):
        return block[:lf], block[lf + 2 :]
    return block[:crlf], block[crlf + 4 :]


def _status(line: bytes) -> int | None:
    parts = line.strip().split(None, 2)
    if len(parts) < 2 or not parts[0].upper().startswith(b"HTTP/") or not parts[1].isdigit():
        return None
    return int(parts[1])


def _fields(block: bytes) -> dict[str, str]:
    """The HTTP header fields this module reads from the header lines in ``block`` (without
    the status line): lower-case names, values stripped, repeated fields joined."""
    fields: dict[str, str] = {}
    for name, value in _FIELD.findall(block):
        key = _FIELDS[name.lower()]
        text = value.strip().decode("latin-1")
        fields[key] = f"{fields[key]}, {text}" if key in fields else text
    return fields


def _named_fields(pairs: tuple[tuple[bytes, bytes], ...]) -> dict[str, str]:
    """``_fields`` from the library's parsed header (name, value) pairs, as bytes: the
    library's ``items()`` decodes every name and value (latin-1, as here), several times the
    cost of this loop; only the few fields read here are decoded. The library strips names."""
    fields: dict[str, str] = {}
    get = _FIELDS.get
    for name, value in pairs:
        key = get(name.lower())
        if key is None:
            continue
        text = value.strip().decode("latin-1")
        fields[key] = f"{fields[key]}, {text}" if key in fields else text
    return fields


def _media(content_type: str) -> tuple[str, str | None]:
    """The media type (lower case) and charset of a Content-Type value. A crawl's responses
    carry a handful of distinct values: each is taken apart once (``_MEDIA``)."""
    known = _MEDIA.get(content_type)
    if known is None:
        if len(_MEDIA) >= _MEDIA_MAX:
            _MEDIA.clear()
        known = _MEDIA[content_type] = _parse_media(content_type)
    return known


def _parse_media(content_type: str) -> tuple[str, str | None]:
    media, *params = content_type.split(";")
    charset = None
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip().strip("'\""):
            charset = value.strip().strip("'\"")
    return media.strip().lower(), charset


def _page_kind(media: str, body: bytes) -> PageKind | None:
    if media in _HTML_TYPES:
        return "html"
    if media in _TEXT_TYPES:
        head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        return "html" if head.startswith((b"<!doctype html", b"<html")) else "text"
    if not media:  # no Content-Type: only a body that says it is HTML
        head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        return "html" if head.startswith((b"<!doctype html", b"<html")) else None
    return None


def _dechunk(body: bytes) -> bytes:
    """Undo chunked transfer coding; a body that is not really chunked is kept as it is."""
    out = bytearray()
    position = 0
    while True:
        eol = body.find(b"\n", position)
        if eol < 0:
            return bytes(out) if out else body
        size_text = body[position:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return bytes(out) if out else body
        if size == 0:
            return bytes(out)
        out += body[eol + 1 : eol + 1 + size]
        position = eol + 1 + size
        if body[position : position + 2] == b"\r\n":
            position += 2
        elif body[position : position + 1] == b"\n":
            position += 1


def _decode(body: bytes, encoding: str, max_bytes: int, offset: int) -> bytes:
    """gzip / deflate Content-Encoding under the cap. A body that does not start like its
    declared coding was stored decoded (common in archives): it is taken as it is."""
    coding = encoding.strip().lower()
    if coding in ("gzip", "x-gzip"):
        if not body.startswith(b"\x1f\x8b"):
            return body
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif coding == "deflate":
        decoder = zlib.decompressobj(zlib.MAX_WBITS if _zlib_header(body) else -zlib.MAX_WBITS)
    else:
        return body
    try:
        out = decoder.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise _Bad("content-encoding", f"record at offset {offset}: corrupt {coding} body ({exc})") from None
    if len(out) > max_bytes or decoder.unconsumed_tail:
        raise _Bad("decompression-bomb", f"record at offset {offset}: {coding} body inflates past {max_bytes} bytes")
    return out


def _zlib_header(chunk: bytes) -> bool:
    return len(chunk) >= 2 and chunk[0] & 0x0F == 8 and ((chunk[0] << 8) | chunk[1]) % 31 == 0


def _when(value: str | None) -> datetime | None:
    """A WARC-Date (ISO 8601, or the 14-digit form of ARC and WARC/0.1x); None if invalid."""
    if not value:
        return None
    text = value.strip()
    try:
        if text.isdigit() and len(text) >= 14:
            return datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        when = datetime.fromisoformat(text)  # Python >= 3.11: a trailing Z too
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _http_date(value: str | None) -> datetime | None:
    import email.utils

    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


# -- ARC ------------------------------------------------------------------------------------------


def _read_arc(path: Path, *, source: str, max_bytes: int) -> Iterator[ArchiveItem]:
    """ARC files through warcio (converted to WARC-shaped records). warcio reads per-record
    gzip only: a whole-file gzip ARC is read again through a gzip stream. Where warcio stops
    at damage, the rest of the file is one failure with the offset where it stopped."""
    from warcio.exceptions import ArchiveLoadFailed

    done = 0
    try:
        with open(path, "rb") as fh:
            for item in _arc_items(fh, source, max_bytes):
                done += 1
                yield item
        return
    except ArchiveLoadFailed as exc:
        if "non-chunked gzip" not in str(exc):
            yield ArchiveItem(
                offset=-1, failed="warc-corrupt", detail=f"{path.name}: unreadable after record {done} ({exc})"
            )
            return
    import gzip

    try:
        with gzip.open(path, "rb") as stream:
            for number, item in enumerate(_arc_items(stream, source, max_bytes)):
                if number >= done:
                    yield item
    except (ArchiveLoadFailed, OSError, EOFError, zlib.error) as exc:
        yield ArchiveItem(offset=-1, failed="warc-corrupt", detail=f"{path.name}: unreadable after a record ({exc})")


def _arc_items(stream: BinaryIO, source: str, max_bytes: int) -> Iterator[ArchiveItem]:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    iterator = ArchiveIterator(stream, arc2warc=True)
    offset = 0
    try:
        for record in iterator:
            offset = iterator.get_record_offset()
            kind = record.rec_type
            uri = _target_uri(record.rec_headers.get_header("WARC-Target-URI"))
            if kind != "response" or record.http_headers is None:
                yield ArchiveItem(offset=offset, skipped=f"warc-{kind or 'untyped'}", url=uri)
                continue
            if not uri or not uri.lower().startswith(("http://", "https://")):
                yield ArchiveItem(offset=offset, skipped="warc-not-http", url=uri)
                continue
            raw = record.raw_stream.read(max_bytes + 1)
            if getattr(record.raw_stream, "limit", 0) > 0 and len(raw) <= max_bytes:
                detail = f"record at offset {offset}: file cut off inside the record"
                yield ArchiveItem(offset=offset, failed="warc-truncated", detail=detail, url=uri)
                continue
            head = record.http_headers.to_str().encode("latin-1", "replace").rstrip(b"\r\n") + b"\r\n\r\n"
            date = record.rec_headers.get_header("WARC-Date")
            try:
                yield _response(head + raw, uri, date, offset, source, max_bytes)
            except _Bad as bad:
                yield ArchiveItem(offset=offset, failed=bad.reason, detail=bad.detail, url=uri)
    except ArchiveLoadFailed as exc:
        if "non-chunked gzip" in str(exc):
            raise
        yield ArchiveItem(offset=offset, failed="warc-corrupt", detail=f"unreadable after offset {offset} ({exc})")
    except (OSError, EOFError, zlib.error) as exc:
        yield ArchiveItem(offset=offset, failed="warc-corrupt", detail=f"unreadable after offset {offset} ({exc})")
