"""Building web archives for tests: real captures with warcio's writer from the project's
mock server, and hand-made records with the quirks real archives have."""

from __future__ import annotations

import gzip
import io
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from tests.fetchserver import FILLER

DATE = "2024-01-02T03:04:05Z"


def article(n: int, *, words: str = "", charset: str = "utf-8") -> str:
    """A news page with enough prose for the extractor (distinct per ``n``)."""
    return (
        f"<!doctype html><html><head><meta charset='{charset}'><title>Archived story {n}</title></head>"
        f"<body><nav><a href='/'>Home</a></nav><article><h1>Archived story {n}</h1>"
        f"<p>Story number {n} opens with a lede long enough to read as news {words}.</p>"
        + FILLER
        * 6
        + f"<p>The closing paragraph of story {n} quotes an official who declined to comment.</p>"
        "</article><footer>Copyright</footer></body></html>"
    )


def http_response(
    body: bytes,
    *,
    status: str = "200 OK",
    headers: Sequence[tuple[str, str]] = (("Content-Type", "text/html; charset=utf-8"),),
    eol: bytes = b"\r\n",
    protocol: str = "HTTP/1.1",
) -> bytes:
    head = f"{protocol} {status}".rstrip().encode() + eol
    for name, value in headers:
        head += f"{name}: {value}".encode("latin-1") + eol
    return head + eol + body


def warc_record(
    block: bytes,
    *,
    kind: str = "response",
    uri: str | None = "http://example.com/x",
    date: str = DATE,
    version: str = "WARC/1.0",
    length: int | None | bool = None,
    content_type: str = "application/http; msgtype=response",
) -> bytes:
    """One WARC record; ``length`` overrides Content-Length (False: leave it out)."""
    lines = [version, f"WARC-Type: {kind}", f"WARC-Date: {date}", "WARC-Record-ID: <urn:uuid:00000000-0000>"]
    if uri is not None:
        lines.append(f"WARC-Target-URI: {uri}")
    lines.append(f"Content-Type: {content_type}")
    if length is not False:
        lines.append(f"Content-Length: {len(block) if length is None else length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + block + b"\r\n\r\n"


def page_record(n: int, **kwargs: object) -> bytes:
    uri = kwargs.pop("uri", f"http://example.com/news/{n}")
    return warc_record(http_response(article(n).encode()), uri=uri, **kwargs)  # type: ignore[arg-type]


def per_record_gzip(records: Sequence[bytes]) -> bytes:
    return b"".join(gzip.compress(r, mtime=0) for r in records)


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def capture(urls: Sequence[str], out: Path, *, gz: bool = True) -> Path:
    """Fetch ``urls`` with urllib while warcio's capture_http writes request and response
    records, as a crawler writing WARCs does."""
    from warcio.capture_http import capture_http
    from warcio.warcwriter import WARCWriter

    with open(out, "wb") as fh:
        writer = WARCWriter(fh, gzip=gz)
        with capture_http(writer):
            for url in urls:
                with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - loopback test server
                    resp.read()
    return out


def write_warcio(out: Path, pages: Sequence[tuple[str, bytes, Sequence[tuple[str, str]]]], *, gz: bool = True) -> Path:
    """Responses written with warcio's writer: (url, body, http headers) each."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(out, "wb") as fh:
        writer = WARCWriter(fh, gzip=gz)
        writer.write_record(writer.create_warcinfo_record(out.name, {"software": "wiredesk tests"}))
        for url, body, headers in pages:
            http = StatusAndHeaders("200 OK", list(headers), protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))
    return out
