"""WARC reading: FastWARC vs warcio, our reader's overhead, and whole runs on 1, 2 and 4 workers.

    .venv/bin/python bench/warc.py                      # build sample archives, measure all
    .venv/bin/python bench/warc.py --records 4000 --repeat 5
    .venv/bin/python bench/warc.py --warc FILE.warc.gz  # a real archive of yours (reading only)

The sample archive is CC-NEWS-shaped: a warcinfo record, then one request, one response (12
HTTP header fields) and one metadata record per page, with real article pages (samples/html, and
../shared/data/extraction pages when present) under distinct URLs; it is measured plain
(``.warc``), with one gzip member per record (``.warc.gz``, what crawlers write) and as one
gzip stream (whole-file gzip). Reading is measured on the same file, in the same process:
- bare warcio: iterate, read every record's content stream;
- bare FastWARC: iterate, read every record's block, HTTP not parsed (and: only the response
  records' blocks; and: records framed, nothing read);
- FastWARC user loop (**the anchor**): what a user of FastWARC minimally writes to get each
  response's URL, date, HTTP status and headers and payload: the library's defaults
  (``parse_http=True``), every record seen (a reader that accounts for every record must),
  for each response ``WARC-Target-URI``, ``record_date``, ``http_headers`` (status,
  Content-Type) and the payload read; and the same with the library filtering the responses
  itself (``record_types=response``: it then sees no other record);
- wiredesk (``fetching.warc.read_archive``): every record classified, framing checked, HTTP
  parsed leniently, bodies decoded, pages built.
The readers run in turn, round after round; each figure is the median over the rounds, in
CPU seconds of this process (user + system: what the machine's other work does not inflate)
and in wall seconds. The overhead is wiredesk / FastWARC user loop (the goal: <= 1.2). Then
``--runs`` measures a whole ingest (extract, dedup, store in SQLite) of N archive files
with run.workers 1, 2, 4.
"""

from __future__ import annotations

import argparse
import gzip
import io
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sample_pages(limit: int) -> list[bytes]:
    pages = [p.read_bytes() for p in sorted((ROOT / "samples" / "html").glob("*.html"))]
    shared = ROOT.parent / "shared" / "data" / "extraction" / "scrapinghub-aeb" / "html"
    for path in sorted(shared.glob("*.html.gz"))[:limit]:
        pages.append(gzip.decompress(path.read_bytes()))
    return pages


# What a news site's response carries besides its type and length (a crawl's responses have
# ten to twenty header fields; readers that parse them pay per field).
HTTP_FIELDS = [
    ("Date", "Thu, 03 Dec 2026 18:03:33 GMT"),
    ("Server", "nginx/1.22.1"),
    ("Connection", "keep-alive"),
    ("Vary", "Accept-Encoding"),
    ("Cache-Control", "max-age=300, public"),
    ("Last-Modified", "Thu, 03 Dec 2026 17:00:00 GMT"),
    ("ETag", '"5f3a-9c1b"'),
    ("Set-Cookie", "session=abc123; Path=/; HttpOnly; Secure"),
    ("X-Frame-Options", "SAMEORIGIN"),
    ("Strict-Transport-Security", "max-age=31536000"),
]


def build_archive(path: Path, records: int, *, gz: bool = True, offset: int = 0) -> int:
    """A CC-NEWS-shaped archive with ``records`` responses; returns the number of records."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    pages = sample_pages(200)
    written = 0
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=gz)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "wiredesk bench"}))
        written += 1
        for i in range(records):
            url = f"https://news{i % 17}.example.com/{offset + i}/story.html"
            body = pages[i % len(pages)].replace(b"</body>", f"<p>n{offset + i}</p></body>".encode(), 1)
            request = StatusAndHeaders(
                f"GET /{i}/story.html HTTP/1.1", [("Host", f"news{i % 17}.example.com")], is_http_request=True
            )
            writer.write_record(writer.create_warc_record(url, "request", http_headers=request))
            fields = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))), *HTTP_FIELDS]
            headers = StatusAndHeaders("200 OK", fields, protocol="HTTP/1.1")
            response = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers)
            writer.write_record(response)
            meta = writer.create_warc_record(
                url,
                "metadata",
                payload=io.BytesIO(b"fetchTimeMs: 120\r\n"),
                warc_content_type="application/warc-fields",
            )
            writer.write_record(meta)
            written += 3
    return written


def bare_warcio(path: Path) -> int:
    from warcio.archiveiterator import ArchiveIterator

    n = 0
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh):
            record.content_stream().read()
            n += 1
    return n


def bare_fastwarc(path: Path) -> int:
    from fastwarc.warc import ArchiveIterator

    n = 0
    for record in ArchiveIterator(str(path), parse_http=False, fsspec_args=False):
        # sized: read() without a size grows its buffer as it goes, measurably slower on gzip
        record.reader.read(record.content_length)
        n += 1
    return n


def bare_fastwarc_iterate(path: Path) -> int:
    """The floor: records framed and passed over, no content read."""
    from fastwarc.warc import ArchiveIterator

    return sum(1 for _ in ArchiveIterator(str(path), parse_http=False, fsspec_args=False))


def bare_fastwarc_responses(path: Path) -> int:
    """What a page reader must at least do: read the response records, pass over the rest."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    n = 0
    for record in ArchiveIterator(str(path), parse_http=False, fsspec_args=False):
        if record.record_type == WarcRecordType.response:
            record.reader.read(record.content_length)
        n += 1
    return n


def fastwarc_user(path: Path, *, filtered: bool = False) -> int:
    """The anchor: the library's defaults (HTTP parsed), every record seen; for each response
    its URL, date, HTTP status and Content-Type, and its payload. ``filtered``: the library
    passes over the other records itself (the loop then sees and counts the responses only)."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    response = WarcRecordType.response
    only = {"record_types": response} if filtered else {}
    n = 0
    for record in ArchiveIterator(str(path), fsspec_args=False, **only):
        if record.record_type == response:
            record.headers.get("WARC-Target-URI")
            record.record_date  # noqa: B018 - the property parses the date
            http = record.http_headers
            if http.status_code == 200:
                http.get("Content-Type")
            record.reader.read(record.content_length)
        n += 1
    return n


def fastwarc_user_filtered(path: Path) -> int:
    return fastwarc_user(path, filtered=True)


def wiredesk_reader(path: Path) -> int:
    from wiredesk.fetching.warc import read_archive

    return sum(1 for _ in read_archive(path, source="bench", max_bytes=10_000_000))


READERS = (
    ("warcio", bare_warcio),
    ("fastwarc", bare_fastwarc),
    ("fastwarc-resp", bare_fastwarc_responses),
    ("fastwarc-iter", bare_fastwarc_iterate),
    ("fastwarc-user", fastwarc_user),
    ("fastwarc-user-f", fastwarc_user_filtered),
    ("wiredesk", wiredesk_reader),
)


def measure_reading(path: Path, repeat: int) -> dict[str, float]:
    """Each reader ``repeat`` times, in turn; the medians (CPU and wall seconds) and ratios."""
    size_mb = path.stat().st_size / 1e6
    print(f"\n{path.name}: {size_mb:.1f} MB")
    counts: dict[str, int] = {}
    readers = []
    for name, fn in READERS:  # warm: imports, page cache
        try:
            counts[name] = fn(path)
        except Exception as exc:  # warcio stops at whole-file gzip
            print(f"{name}: cannot read this file ({type(exc).__name__})")
            continue
        readers.append((name, fn))
    cpu: dict[str, list[float]] = {name: [] for name, _ in readers}
    wall: dict[str, list[float]] = {name: [] for name, _ in readers}
    for _ in range(repeat):
        for name, fn in readers:
            started, started_cpu = time.perf_counter(), time.process_time()
            fn(path)
            cpu[name].append(time.process_time() - started_cpu)
            wall[name].append(time.perf_counter() - started)
    print(f"{'reader':<16}{'records':>9}{'cpu s':>9}{'wall s':>9}{'records/s':>11}{'MB/s':>8}  (per CPU second)")
    med = {}
    for name, _ in readers:
        c, w = statistics.median(cpu[name]), statistics.median(wall[name])
        med[name] = c
        n = counts[name]
        print(f"{name:<16}{n:>9}{c:>9.3f}{w:>9.3f}{n / c:>11.0f}{size_mb / c:>8.1f}")
    wall_ratio = statistics.median(wall["wiredesk"]) / statistics.median(wall["fastwarc-user"])
    if "warcio" in med:
        print(f"fastwarc is {med['warcio'] / med['fastwarc']:.1f}x warcio")
    print(
        f"wiredesk / FastWARC user loop = {med['wiredesk'] / med['fastwarc-user']:.2f} CPU, {wall_ratio:.2f} wall"
        " (goal <= 1.2)"
    )
    print(f"wiredesk / FastWARC user loop, library-filtered = {med['wiredesk'] / med['fastwarc-user-f']:.2f}")
    print(f"wiredesk / bare FastWARC, every block read, HTTP not parsed = {med['wiredesk'] / med['fastwarc']:.2f}")
    print(f"wiredesk / bare FastWARC, responses read, HTTP not parsed = {med['wiredesk'] / med['fastwarc-resp']:.2f}")
    return med


def measure_runs(files: int, records: int, worker_counts: list[int]) -> None:
    from wiredesk.config import load_config
    from wiredesk.pipeline.run import run_ingest

    with tempfile.TemporaryDirectory(prefix="wiredesk-bench-warc-") as tmp:
        folder = Path(tmp, "warcs")
        folder.mkdir()
        total = 0
        for f in range(files):
            total += build_archive(folder / f"bench-{f:02d}.warc.gz", records, offset=f * records)
        print(f"\nwhole runs: {files} files, {total} records ({files * records} pages), SQLite store")
        print(f"{'workers':>8}{'seconds':>10}{'records/s':>12}{'pages stored':>14}")
        for workers in worker_counts:
            store = Path(tmp, f"w{workers}.db")
            config = load_config().with_overrides(store={"url": str(store)}, run={"workers": workers})
            started = time.perf_counter()
            summary, tallies = run_ingest(config, inputs=[str(folder)], export=False)
            seconds = time.perf_counter() - started
            records_seen = sum(t.discovered for t in tallies)
            print(f"{workers:>8}{seconds:>10.2f}{records_seen / seconds:>12.0f}{summary['stored']:>14}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=3000, help="responses in the sample archive")
    parser.add_argument("--repeat", type=int, default=5, help="rounds (each reader once a round)")
    parser.add_argument("--warc", type=Path, help="measure reading on this archive instead")
    parser.add_argument("--runs", type=int, default=4, help="archive files for the 1/2/4-worker runs (0: skip)")
    parser.add_argument("--run-records", type=int, default=150, help="responses per file in the runs")
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args(argv)
    if args.warc:
        measure_reading(args.warc, args.repeat)
        return
    with tempfile.TemporaryDirectory(prefix="wiredesk-bench-warc-") as tmp:
        plain = Path(tmp, "sample.warc")
        build_archive(plain, args.records, gz=False)
        measure_reading(plain, args.repeat)
        whole = Path(tmp, "sample-whole-file-gzip.warc.gz")
        with open(plain, "rb") as src, gzip.open(whole, "wb") as out:  # the same records, one gzip stream
            shutil.copyfileobj(src, out)
        plain.unlink()
        per_record = Path(tmp, "sample.warc.gz")
        build_archive(per_record, args.records, gz=True)
        measure_reading(per_record, args.repeat)
        measure_reading(whole, args.repeat)
    if args.runs:
        measure_runs(args.runs, args.run_records, [int(w) for w in args.workers.split(",")])


if __name__ == "__main__":
    main(sys.argv[1:])
