"""Corpus export: JSONL, gzipped JSONL or Parquet, atomically, with a manifest.

Layout for ``out = data/corpus.jsonl``:
    data/corpus.jsonl                         the full snapshot
    data/corpus.delta-101-250.jsonl           an incremental export: seqs 101..250
    data/corpus.jsonl.manifest.json           every file of the corpus, with sha256
With ``partition_by_date`` ``out`` is a directory of Hive partitions
(``corpus/published_date=2019-10-04/part-1-250.parquet``); the manifest is ``corpus.manifest.json``.

A consumer applies the files in manifest order and upserts by ``id`` (a changed article
reappears in a later delta). Every data file is written under a temporary name, fsynced and
renamed, so no reader ever sees a partial file; the manifest is renamed last and the
watermark is committed after it (a crash in between only repeats a delta).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, select

from storage import schema as t
from storage.codec import day_of, decode_text, iso
from storage.engine import read_tx, write_tx
from storage.locks import file_lock
from storage.store import Store, _counter
from wiredesk.errors import ConfigError, StoreError
from wiredesk.records import EXPORT_FIELDS, utcnow

Format = Literal["jsonl", "jsonl.gz", "parquet"]
_EXT = {"jsonl": ".jsonl", "jsonl.gz": ".jsonl.gz", "parquet": ".parquet"}
_PARQUET_ROWS = 5000  # rows per Parquet row group flush
# Measured on the dev news bodies: level 1 packs 2.41x at ~43 MB/s, 3 packs 2.62x at ~31 MB/s,
# 6 packs 2.85x at ~10 MB/s. Export rate matters more than the last 10% of size.
_GZIP_LEVEL = 1
EXPORT_FORMAT_VERSION = 1



@lru_cache(maxsize=1)
def parquet_schema():
    import pyarrow as pa  # imported on first use: a third of a second nobody else should pay

    return pa.schema([pa.field(n, pa.float64() if n == "similarity" else pa.string()) for n in EXPORT_FIELDS])


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportResult:
    out: str  # the export target (a file, or a directory when partitioned)
    fmt: str
    manifest: str  # path of the manifest
    files: tuple[str, ...]  # data files written by this call
    records: int  # records written by this call
    incremental: bool  # only changes since the previous export were written
    seq_from: int  # exclusive lower bound of the seqs covered by this call
    seq_to: int  # inclusive upper bound: the store's high-water mark at export time
    withdrawn_ids: tuple[str, ...] = ()  # incremental, representatives only: ids now duplicates
    total_records: int = 0  # records over every file the manifest lists

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def export_corpus(
    store: Store,
    out: str,
    *,
    fmt: Format = "jsonl",
    include_duplicates: bool = False,
    incremental: bool = False,
    partition_by_date: bool = False,
) -> ExportResult:
    """Write the corpus (cluster representatives; with ``include_duplicates`` every article)."""
    if fmt not in _EXT:
        raise ConfigError(f"unknown export format {fmt!r} (use jsonl, jsonl.gz or parquet)")
    target = Path(out).expanduser().absolute()
    options = {"fmt": fmt, "include_duplicates": include_duplicates, "partition_by_date": partition_by_date}
    # Beside the output, never inside it: readers that scan a partition directory
    # (pyarrow.dataset, DuckDB globs, datasets) must see data files only.
    manifest_path = target.with_name(target.name + ".manifest.json")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create export directory {target.parent}: {exc.strerror or exc}") from None
    # One export per output at a time (two would race on the same delta and manifest names).
    with file_lock(target.with_name(f".{target.name}.lock"), timeout_s=None, where=str(target)):
        try:
            return _export(store, target, manifest_path, options, incremental)
        except OSError as exc:
            raise StoreError(f"export to {target} failed: {exc}") from exc


def _export(store: Store, target: Path, manifest_path: Path, options: dict[str, Any], incremental: bool) -> ExportResult:
    fmt, partitioned = options["fmt"], options["partition_by_date"]
    a = t.articles.c
    with read_tx(store.engine, snapshot=True) as conn:
        high_water = _counter(conn)
        previous = _previous(conn, str(target), options)
        # A delta only makes sense on top of an export with the same options that still exists.
        base = previous if incremental and previous and _files_exist(previous, manifest_path.parent) else None
        seq_from = int(base["seq_to"]) if base else 0
        cols = [a[c] for c in _COLUMNS]
        query = select(*cols).where(a.seq > seq_from, a.seq <= high_water)
        if not options["include_duplicates"]:
            query = query.where(a.duplicate_of.is_(None))
        query = query.order_by(a.published, a.seq) if partitioned else query.order_by(a.seq)
        withdrawn: tuple[str, ...] = ()
        if base and not options["include_duplicates"]:
            # Now duplicates, changed since the last export, and stored before it: ids a consumer
            # may hold as representatives (or, if they were duplicates then too, ids it never had).
            withdrawn = tuple(conn.execute(
                select(a.id).where(a.seq > seq_from, a.seq <= high_water, a.duplicate_of.is_not(None),
                                   a.stored_at <= base["_exported_at"]).order_by(a.seq)
            ).scalars())
        rows = conn.execution_options(yield_per=2000).execute(query)
        tag = f"{seq_from + 1}-{high_water}"
        if partitioned:
            entries = _write_partitioned(rows, target, fmt, tag, replace=base is None)
        else:
            name = target if base is None else target.with_name(f"{_stem(target.name, fmt)}.delta-{tag}{_EXT[fmt]}")
            entries = [_write_file(rows, name, fmt)]
        schema_version = int(conn.execute(select(t.schema_version.c.version).order_by(
            t.schema_version.c.version.desc()).limit(1)).scalar_one())

    if base is not None:  # an empty delta leaves no file behind
        for e in entries:
            if not e["records"]:
                Path(e["abs"]).unlink(missing_ok=True)
        entries = [e for e in entries if e["records"]]
    for e in entries:
        e.update(path=os.path.relpath(e.pop("abs"), manifest_path.parent), seq_from=seq_from, seq_to=high_water,
                 mode="incremental" if base else "full")
    if base and withdrawn:
        if entries:
            entries[-1]["withdrawn_ids"] = list(withdrawn)
        else:
            entries.append({"path": None, "records": 0, "seq_from": seq_from, "seq_to": high_water,
                            "mode": "incremental", "withdrawn_ids": list(withdrawn)})
    files = (list(base["files"]) if base else []) + entries
    manifest = _manifest(store, options, files, high_water, schema_version)
    _atomic_write(manifest_path, (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode())
    if previous and base is None and not previous.get("_other_options"):
        _remove_stale(previous, manifest, manifest_path.parent)
    with write_tx(store.engine) as conn:
        conn.execute(t.exports.delete().where(t.exports.c.out == str(target)))
        conn.execute(t.exports.insert().values(out=str(target), seq=high_water, fmt=options["fmt"],
                                               manifest=json.dumps(manifest), exported_at=utcnow()))
    written = tuple(str(manifest_path.parent / e["path"]) for e in entries if e.get("path"))
    return ExportResult(
        out=str(target), fmt=fmt, manifest=str(manifest_path), files=written,
        records=sum(e["records"] for e in entries), incremental=base is not None,
        seq_from=seq_from, seq_to=high_water, withdrawn_ids=withdrawn, total_records=manifest["records"],
    )


# -- records ------------------------------------------------------------------------------


# Columns selected for export, in this order (rows are read as plain tuples: no per-row
# mapping objects on a path that handles 100,000s of rows).
_COLUMNS = ("id", "url", "path", "source", "title", "author", "published", "language",
            "text", "text_z", "content_hash", "cluster_id", "duplicate_of", "similarity",
            "fetched_at", "run_id")
_SOURCE, _PUBLISHED, _RUN_ID = _COLUMNS.index("source"), _COLUMNS.index("published"), _COLUMNS.index("run_id")
_FETCHED_AT = _COLUMNS.index("fetched_at")
_BLOCK = 1000  # rows encoded and written at a time


def _record(row: tuple) -> dict[str, Any]:
    (aid, url, path, source, title, author, published, language, plain, packed,
     content_hash, cluster_id, duplicate_of, similarity, fetched_at, _run) = row
    return {
        "id": aid, "url": url, "path": path, "source": source, "title": title, "author": author,
        "published": published, "language": language,
        "text": plain if packed is None else decode_text(plain, packed, article_id=aid),
        "content_hash": content_hash, "cluster_id": cluster_id, "duplicate_of": duplicate_of,
        "similarity": similarity, "fetched_at": iso(fetched_at),
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
        return {"abs": path, "records": self.records, "sha256": digest, "bytes": path.stat().st_size,
                "sources": sorted(self.sources), "run_ids": sorted(self.run_ids),
                "published": self.published or None,
                "fetched_at": [iso(v) for v in self.fetched] or None}


# -- writers ------------------------------------------------------------------------------

try:  # orjson (a Prefect dependency) encodes these records ~4x faster than the stdlib
    import orjson

    def _json_line(record: dict[str, Any]) -> bytes:
        return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
except ImportError:  # pragma: no cover - same bytes for these records, only slower
    _stdlib_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def _json_line(record: dict[str, Any]) -> bytes:
        return (_stdlib_encode(record) + "\n").encode("utf-8")



class _Sink:
    """One output file under a temporary name; ``commit`` fsyncs it and renames it into place."""

    def __init__(self, final: Path, fmt: str) -> None:
        self.final = final
        self.tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        self.fmt = fmt
        self.tally = _Tally()
        self._rows: list[tuple] = []
        self._raw = open(self.tmp, "wb")
        if fmt == "parquet":
            import pyarrow.parquet as pq

            self._pq = pq.ParquetWriter(self._raw, parquet_schema(), compression="zstd")
        else:
            self._hashed = _Hashed(self._raw)  # hash on the way out: no second read of the file
            self._out = gzip.GzipFile(fileobj=self._hashed, mode="wb", compresslevel=_GZIP_LEVEL, mtime=0) \
                if fmt == "jsonl.gz" else self._hashed

    def add(self, row: tuple) -> None:
        self._rows.append(row)
        if len(self._rows) >= (_PARQUET_ROWS if self.fmt == "parquet" else _BLOCK):
            self._flush()

    def _flush(self) -> None:
        rows, self._rows = self._rows, []
        if not rows:
            return
        self.tally.add(rows)
        if self.fmt != "parquet":
            self._out.writelines([_json_line(_record(r)) for r in rows])
            return
        import pyarrow as pa

        cols = dict(zip(_COLUMNS, zip(*rows)))
        cols["text"] = [p if z is None else decode_text(p, z, article_id=i)
                        for i, p, z in zip(cols["id"], cols["text"], cols["text_z"])]
        cols["fetched_at"] = [iso(v) for v in cols["fetched_at"]]
        self._pq.write_table(pa.Table.from_arrays([pa.array(cols[n], type=f.type) for n, f in
                                                   zip(EXPORT_FIELDS, parquet_schema())], schema=parquet_schema()))

    def commit(self) -> dict[str, Any]:
        self._flush()
        if self.fmt == "parquet":
            self._pq.close()  # writes the footer; an empty file still carries the schema
        elif self._out is not self._hashed:
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


def _write_file(rows: Iterator, final: Path, fmt: str) -> dict[str, Any]:
    sink = _Sink(final, fmt)
    try:
        for row in rows:
            sink.add(row)
        return sink.commit()
    except BaseException:
        sink.abort()
        raise


def _write_partitioned(rows: Iterator, target: Path, fmt: str, tag: str, *, replace: bool) -> list[dict[str, Any]]:
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
                sink = _Sink(folder / f"part-{tag}{'' if n == 1 else f'-{n}'}{_EXT[fmt]}", fmt)
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


# -- manifest and watermark ---------------------------------------------------------------


def _manifest(store: Store, options: dict[str, Any], files: list[dict[str, Any]], high_water: int,
              schema_version: int) -> dict[str, Any]:
    data = [f for f in files if f.get("path")]
    published = [v for f in data if f.get("published") for v in f["published"]]
    fetched = [v for f in data if f.get("fetched_at") for v in f["fetched_at"]]
    return {
        "format": "wiredesk-corpus",
        "format_version": EXPORT_FORMAT_VERSION,
        "schema_version": schema_version,
        "fields": list(EXPORT_FIELDS),
        **options,
        "created_at": utcnow().isoformat(),
        "store": store.url,
        "seq_to": high_water,
        "records": sum(f["records"] for f in data),
        "time_range": {
            "published": [min(published), max(published)] if published else None,
            "fetched_at": [min(fetched), max(fetched)] if fetched else None,
        },
        "sources": sorted({s for f in data for s in f.get("sources", ())}),
        "run_ids": sorted({r for f in data for r in f.get("run_ids", ())}),
        "apply": "read files in order; upsert by id (a later file wins); drop withdrawn_ids",
        "files": files,
    }


def _previous(conn: Connection, out: str, options: dict[str, Any]) -> dict[str, Any] | None:
    row = conn.execute(
        select(t.exports.c.manifest, t.exports.c.exported_at).where(t.exports.c.out == out)
    ).one_or_none()
    if row is None:
        return None
    manifest = json.loads(row.manifest)
    manifest["_exported_at"] = row.exported_at
    if any(manifest.get(k) != v for k, v in options.items()):
        # Other options: the old files are of another shape. Treat as no previous export,
        # but remember them so a full export can clean them up.
        manifest["_other_options"] = True
    return manifest


def _files_exist(previous: dict[str, Any], folder: Path) -> bool:
    if previous.get("_other_options"):
        return False
    return all((folder / f["path"]).exists() for f in previous["files"] if f.get("path"))


def _remove_stale(previous: dict[str, Any], manifest: dict[str, Any], folder: Path) -> None:
    """After a full export, delete the old deltas it supersedes (only files we listed)."""
    keep = {f["path"] for f in manifest["files"] if f.get("path")}
    for f in previous.get("files", []):
        path = f.get("path")
        if path and path not in keep:
            (folder / path).unlink(missing_ok=True)


def _stem(name: str, fmt: str) -> str:
    ext = _EXT[fmt]
    return name[: -len(ext)] if name.endswith(ext) and len(name) > len(ext) else name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
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
