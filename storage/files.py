"""Export files: rows encoded as JSONL, gzipped JSONL, Parquet or CSV, each written under a
hidden temporary name, fsynced and renamed into place (no reader ever sees a partial file).

CSV follows RFC 4180: UTF-8 without a byte-order mark, a header row with the field names,
CRLF after every row, comma-separated; every string is in double quotes (inner quotes doubled,
so commas and newlines inside a text are safe), numbers are bare, and null is an empty field
with no quotes (an empty string is ``""``)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import queue
import secrets
import shutil
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from wiredesk.core.records import EXPORT_FIELDS
from wiredesk.storage.codec import day_of, decode_text, iso

EXT = {"jsonl": ".jsonl", "jsonl.gz": ".jsonl.gz", "parquet": ".parquet", "csv": ".csv"}
_PARQUET_ROWS = 5000  # rows per Parquet row group flush
# Measured on the dev news bodies: level 1 packs 2.41x at ~43 MB/s, 3 packs 2.62x at ~31 MB/s,
# 6 packs 2.85x at ~10 MB/s. Export rate matters more than the last 10% of size.
_GZIP_LEVEL = 1


@lru_cache(maxsize=1)
def parquet_schema(*, signatures: bool = False):
    import pyarrow as pa  # imported on first use: a third of a second nobody else should pay

    fields = [pa.field(n, pa.float64() if n == "similarity" else pa.string()) for n in EXPORT_FIELDS]
    if signatures:
        fields.append(pa.field(SIGNATURE_FIELD, pa.list_(pa.uint32())))
    return pa.schema(fields)


SIGNATURE_FIELD = "signature"


class Signing(Protocol):
    """Computes the ``signature`` field (``--signatures``): ``wiredesk.dedup.Sketcher`` is
    one. Passed in, so that storage needs no dedup import."""

    def signatures(self, texts: Sequence[str]) -> Any:
        """(len(texts), num_perm) unsigned hash values."""

    def params(self) -> str:
        """What the values depend on (shingle size, permutations, seed), for the manifest."""


# -- records ------------------------------------------------------------------------------


# Columns selected for export, in this order (rows are read as plain tuples: no per-row
# mapping objects on a path that handles 100,000s of rows).
COLUMNS = (
    "id",
    "url",
    "path",
    "source",
    "title",
    "author",
    "published",
    "language",
    "text",
    "text_z",
    "content_hash",
    "cluster_id",
    "duplicate_of",
    "similarity",
    "fetched_at",
    "run_id",
)
_SOURCE, _PUBLISHED, _RUN_ID = COLUMNS.index("source"), COLUMNS.index("published"), COLUMNS.index("run_id")
_FETCHED_AT = COLUMNS.index("fetched_at")
_BLOCK = 1000  # rows encoded and written at a time


def _record(row: tuple) -> dict[str, Any]:
    (
        aid,
        url,
        path,
        source,
        title,
        author,
        published,
        language,
        plain,
        packed,
        content_hash,
        cluster_id,
        duplicate_of,
        similarity,
        fetched_at,
        _run,
    ) = row
    return {
        "id": aid,
        "url": url,
        "path": path,
        "source": source,
        "title": title,
        "author": author,
        "published": published,
        "language": language,
        "text": plain if packed is None else decode_text(plain, packed, article_id=aid),
        "content_hash": content_hash,
        "cluster_id": cluster_id,
        "duplicate_of": duplicate_of,
        "similarity": similarity,
        "fetched_at": iso(fetched_at),
    }


@dataclass
class _Tally:
    """What the manifest says about one file, gathered a block of rows at a time."""

    records: int = 0
    sources: set[str] = field(default_factory=set)
    run_ids: set[str] = field(default_factory=set)
    published: list[str] = field(default_factory=list)  # [min, max]
    fetched: list = field(default_factory=list)  # [min, max] datetimes

    def add(self, rows: list[tuple]) -> None:
        self.records += len(rows)
        self.sources.update(r[_SOURCE] for r in rows)
        self.run_ids.update(r[_RUN_ID] for r in rows if r[_RUN_ID])
        for bounds, idx in ((self.published, _PUBLISHED), (self.fetched, _FETCHED_AT)):
            values = [r[idx] for r in rows if r[idx] is not None]
            if values:
                low, high = min(values), max(values)
                if not bounds:
                    bounds.extend((low, high))
                else:
                    bounds[0], bounds[1] = min(bounds[0], low), max(bounds[1], high)

    def entry(self, path: Path, digest: str) -> dict[str, Any]:
        return {
            "abs": path,
            "records": self.records,
            "sha256": digest,
            "bytes": path.stat().st_size,
            "sources": sorted(self.sources),
            "run_ids": sorted(self.run_ids),
            "published": self.published or None,
            "fetched_at": [iso(v) for v in self.fetched] or None,
        }


# -- writers ------------------------------------------------------------------------------

try:  # orjson (a Prefect dependency) encodes these records ~4x faster than the stdlib
    import orjson

    def _json_line(record: dict[str, Any]) -> bytes:
        return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
except ImportError:  # pragma: no cover - same bytes for these records, only slower
    _stdlib_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def _json_line(record: dict[str, Any]) -> bytes:
        return (_stdlib_encode(record) + "\n").encode("utf-8")


def _csv_field(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    return repr(value)  # similarity: a float, written so it reads back exactly


def _csv_line(record: dict[str, Any]) -> str:
    return ",".join([_csv_field(v) for v in record.values()]) + "\r\n"


CSV_HEADER = (",".join(EXPORT_FIELDS) + "\r\n").encode()


class _Pipe:
    """Compress, hash and write blocks on a second thread while the caller reads and encodes
    the next ones (zlib, sha256 and file writes release the GIL on large buffers)."""

    def __init__(self, out) -> None:
        self._out = out
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=4)  # ~16 MB in flight at most
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="wiredesk-export-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (block := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._out.write(block)
                except BaseException as exc:  # handed to the caller at its next put/close
                    self._error = exc

    def put(self, block: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(block)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


class _Sink:
    """One output file under a temporary name; ``commit`` fsyncs it and renames it into place."""

    def __init__(self, final: Path, fmt: str, signing: Signing | None = None) -> None:
        self.final = final
        self.signing = signing
        self.tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        self.fmt = fmt
        self.tally = _Tally()
        self._rows: list[tuple] = []
        self._raw = open(self.tmp, "wb")
        if fmt == "parquet":
            import pyarrow.parquet as pq

            self._pq = pq.ParquetWriter(self._raw, self._schema(), compression="zstd")
        else:
            self._hashed = _Hashed(self._raw)  # hash on the way out: no second read of the file
            self._out = (
                gzip.GzipFile(fileobj=self._hashed, mode="wb", compresslevel=_GZIP_LEVEL, mtime=0)
                if fmt == "jsonl.gz"
                else self._hashed
            )
            self._pipe = _Pipe(self._out)
            if fmt == "csv":
                self._pipe.put(CSV_HEADER)  # an empty export is still a valid CSV: its header

    def _schema(self):
        return parquet_schema(signatures=self.signing is not None)

    def add(self, row: tuple) -> None:
        self._rows.append(row)
        if len(self._rows) >= (_PARQUET_ROWS if self.fmt == "parquet" else _BLOCK):
            self._flush()

    def _flush(self) -> None:
        rows, self._rows = self._rows, []
        if not rows:
            return
        self.tally.add(rows)
        if self.fmt == "csv":
            self._pipe.put("".join([_csv_line(_record(r)) for r in rows]).encode("utf-8"))
            return
        if self.fmt != "parquet":
            records = [_record(r) for r in rows]
            if self.signing is not None:
                sigs = self.signing.signatures([rec["text"] for rec in records])
                for rec, sig in zip(records, sigs):
                    rec[SIGNATURE_FIELD] = sig.tolist()
            self._pipe.put(b"".join([_json_line(rec) for rec in records]))
            return
        import pyarrow as pa

        cols = dict(zip(COLUMNS, zip(*rows)))
        cols["text"] = [
            p if z is None else decode_text(p, z, article_id=i)
            for i, p, z in zip(cols["id"], cols["text"], cols["text_z"])
        ]
        cols["fetched_at"] = [iso(v) for v in cols["fetched_at"]]
        schema = self._schema()
        arrays = [pa.array(cols[n], type=f.type) for n, f in zip(EXPORT_FIELDS, schema)]
        if self.signing is not None:
            sigs = self.signing.signatures(cols["text"])
            n, k = sigs.shape
            offsets = pa.array(range(0, n * k + 1, k), type=pa.int32())
            arrays.append(pa.ListArray.from_arrays(offsets, pa.array(sigs.ravel(), type=pa.uint32())))
        self._pq.write_table(pa.Table.from_arrays(arrays, schema=schema))

    def commit(self) -> dict[str, Any]:
        self._flush()
        if self.fmt == "parquet":
            self._pq.close()  # writes the footer; an empty file still carries the schema
        else:
            self._pipe.close()
            if self._out is not self._hashed:
                self._out.close()  # the gzip trailer
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        digest = _sha256(self.tmp) if self.fmt == "parquet" else self._hashed.digest.hexdigest()
        os.replace(self.tmp, self.final)
        _fsync_dir(self.final.parent)
        return self.tally.entry(self.final, digest)

    def abort(self) -> None:
        try:
            if self.fmt != "parquet":
                try:
                    self._pipe.close()
                except Exception:
                    pass  # the error that made us abort is already on its way up
            self._raw.close()
        finally:
            self.tmp.unlink(missing_ok=True)


class _Hashed:
    """A write-only binary file that hashes everything written through it."""

    def __init__(self, raw) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.raw.write(data)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.raw.flush()


def write_file(rows: Iterator, final: Path, fmt: str, signing: Signing | None = None) -> dict[str, Any]:
    sink = _Sink(final, fmt, signing)
    try:
        for row in rows:
            sink.add(row)
        return sink.commit()
    except BaseException:
        sink.abort()
        raise


def write_partitioned(
    rows: Iterator, target: Path, fmt: str, tag: str, *, replace: bool, signing: Signing | None = None
) -> list[dict[str, Any]]:
    """Hive partitions by publication day. Rows arrive ordered by ``published``, so one
    partition is open at a time. A full export builds a fresh directory and swaps it in;
    a delta adds part files to the existing one."""
    root = target.with_name(f".{target.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}") if replace else target
    root.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, Any]] = []
    parts: dict[str, int] = {}
    sink: _Sink | None = None
    key = None
    try:
        for row in rows:
            day = day_of(row[_PUBLISHED])
            if day != key:
                if sink is not None:
                    entries.append(sink.commit())
                key = day
                n = parts[day] = parts.get(day, 0) + 1
                folder = root / f"published_date={day}"
                folder.mkdir(exist_ok=True)
                sink = _Sink(folder / f"part-{tag}{'' if n == 1 else f'-{n}'}{EXT[fmt]}", fmt, signing)
            sink.add(row)
        if sink is not None:
            entries.append(sink.commit())
            sink = None
    except BaseException:
        if sink is not None:
            sink.abort()
        if replace:
            shutil.rmtree(root, ignore_errors=True)
        raise
    if replace:
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{secrets.token_hex(4)}")
            os.replace(target, old)
        os.replace(root, target)
        _fsync_dir(target.parent)
        if old is not None:
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)
        for e in entries:
            e["abs"] = target / Path(e["abs"]).relative_to(root)
    return entries


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def remove_leftovers(target: Path, *, stem: str) -> None:
    """Delete the temporary files and directories of an export that was killed midway.

    Called under the output's export lock: no other export to ``target`` is running, so every
    temporary name of ours beside or inside it is a leftover.
    """
    patterns = [
        (target.parent, f".{target.name}.tmp-*"),
        (target.parent, f".{target.name}.old-*"),
        (target.parent, f".{stem}.delta-*.tmp-*"),
        (target.parent, f".{target.name}.manifest.json.tmp-*"),
        (target.parent, f".{target.name}.schema.json.tmp-*"),
    ]
    if target.is_dir():
        patterns.append((target, ".*.tmp-*"))
        patterns += [(part, ".*.tmp-*") for part in target.iterdir() if part.is_dir()]
    for folder, pattern in patterns:
        for path in folder.glob(pattern):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
