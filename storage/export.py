"""Corpus export: JSONL, gzipped JSONL, Parquet or CSV, atomically, with a manifest.

Layout for ``out = data/corpus.jsonl``:
    data/corpus.jsonl                         the full snapshot
    data/corpus.delta-101-250.jsonl           an incremental export: seqs 101..250
    data/corpus.jsonl.manifest.json           every file of the corpus, with sha256
    data/corpus.jsonl.schema.json             the Arrow schema, spelt for each reader (sidecar)
With ``partition_by_date`` ``out`` is a directory of Hive partitions
(``corpus/published_date=2019-10-04/part-1-250.parquet``); the manifest is ``corpus.manifest.json``.

A consumer applies the files in manifest order and upserts by ``id`` (a changed article
reappears in a later delta). Every data file is written under a temporary name, fsynced and
renamed, so no reader ever sees a partial file; the manifest is renamed last and the
watermark is committed after it (a crash in between only repeats a delta).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, select
from sqlalchemy.exc import SQLAlchemyError

from wiredesk.core.errors import ConfigError, StoreError
from wiredesk.core.records import EXPORT_FIELDS, utcnow
from wiredesk.storage import schema as t
from wiredesk.storage.engine import read_tx, write_tx
from wiredesk.storage.files import (
    COLUMNS,
    EXT,
    SIGNATURE_FIELD,
    Signing,
    atomic_write,
    parquet_schema,
    remove_leftovers,
    write_file,
    write_partitioned,
)
from wiredesk.storage.locks import file_lock
from wiredesk.storage.sidecar import saved_sidecar, sidecar_bytes, sidecar_path
from wiredesk.storage.store import Store, read_high_water

Format = Literal["jsonl", "jsonl.gz", "parquet", "csv"]
EXPORT_FORMAT_VERSION = 1


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
    signing: Signing | None = None,
) -> ExportResult:
    """Write the corpus (cluster representatives; with ``include_duplicates`` every article).

    ``signing`` (e.g. ``wiredesk.dedup.Sketcher(settings)``) adds a ``signature`` field:
    each text's MinHash hash values, which datasketch reads as they are (dedup/README.md).
    """
    if fmt not in EXT:
        raise ConfigError(f"unknown export format {fmt!r} (use {', '.join(EXT)})")
    target = Path(out).expanduser().absolute()
    options = {"fmt": fmt, "include_duplicates": include_duplicates, "partition_by_date": partition_by_date}
    options["signatures"] = signing.params() if signing is not None else None
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
            remove_leftovers(target, stem=_stem(target.name, fmt))
            return _export(store, target, manifest_path, options, incremental, signing)
        except OSError as exc:
            raise StoreError(f"export to {target} failed: {exc}") from exc
        except SQLAlchemyError as exc:
            detail = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
            raise StoreError(f"export from store {store.url} failed: {detail}") from exc


def _export(
    store: Store,
    target: Path,
    manifest_path: Path,
    options: dict[str, Any],
    incremental: bool,
    signing: Signing | None = None,
) -> ExportResult:
    fmt, partitioned = options["fmt"], options["partition_by_date"]
    a = t.articles.c
    with read_tx(store.engine, snapshot=True) as conn:
        high_water = read_high_water(conn)
        previous = _previous(conn, str(target), options)
        # A delta only makes sense on top of an export with the same options that still exists.
        base = previous if incremental and previous and _files_exist(previous, manifest_path.parent) else None
        seq_from = int(base["seq_to"]) if base else 0
        cols = [a[c] for c in COLUMNS]
        query = select(*cols).where(a.seq > seq_from, a.seq <= high_water)
        if not options["include_duplicates"]:
            query = query.where(a.duplicate_of.is_(None))
        query = query.order_by(a.published, a.seq) if partitioned else query.order_by(a.seq)
        withdrawn: tuple[str, ...] = ()
        if base and not options["include_duplicates"]:
            # Now duplicates, changed since the last export, and stored before it: ids a consumer
            # may hold as representatives (or, if they were duplicates then too, ids it never had).
            withdrawn = tuple(
                conn.execute(
                    select(a.id)
                    .where(
                        a.seq > seq_from,
                        a.seq <= high_water,
                        a.duplicate_of.is_not(None),
                        a.stored_at <= base["_exported_at"],
                    )
                    .order_by(a.seq)
                ).scalars()
            )
        rows = conn.execution_options(yield_per=2000).execute(query)
        tag = f"{seq_from + 1}-{high_water}"
        if partitioned:
            entries = write_partitioned(rows, target, fmt, tag, replace=base is None, signing=signing)
        else:
            name = target if base is None else target.with_name(f"{_stem(target.name, fmt)}.delta-{tag}{EXT[fmt]}")
            entries = [write_file(rows, name, fmt, signing)]
        schema_version = int(
            conn.execute(
                select(t.schema_version.c.version).order_by(t.schema_version.c.version.desc()).limit(1)
            ).scalar_one()
        )

    if base is not None:  # an empty delta leaves no file behind
        for e in entries:
            if not e["records"]:
                Path(e["abs"]).unlink(missing_ok=True)
        entries = [e for e in entries if e["records"]]
    for e in entries:
        e.update(
            path=os.path.relpath(e.pop("abs"), manifest_path.parent),
            seq_from=seq_from,
            seq_to=high_water,
            mode="incremental" if base else "full",
        )
    if base and withdrawn:
        if entries:
            entries[-1]["withdrawn_ids"] = list(withdrawn)
        else:
            entries.append(
                {
                    "path": None,
                    "records": 0,
                    "seq_from": seq_from,
                    "seq_to": high_water,
                    "mode": "incremental",
                    "withdrawn_ids": list(withdrawn),
                }
            )
    files = (list(base["files"]) if base else []) + entries
    schema_file = sidecar_path(target)
    atomic_write(schema_file, saved_sidecar(EXPORT_FIELDS) or sidecar_bytes(parquet_schema()))
    manifest = _manifest(store, options, files, high_water, schema_version)
    manifest["schema_file"] = os.path.relpath(schema_file, manifest_path.parent)
    atomic_write(manifest_path, (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode())
    if previous and base is None and not previous.get("_other_options"):
        _remove_stale(previous, manifest, manifest_path.parent)
    with write_tx(store.engine) as conn:
        conn.execute(t.exports.delete().where(t.exports.c.out == str(target)))
        conn.execute(
            t.exports.insert().values(
                out=str(target), seq=high_water, fmt=options["fmt"], manifest=json.dumps(manifest), exported_at=utcnow()
            )
        )
    written = tuple(str(manifest_path.parent / e["path"]) for e in entries if e.get("path"))
    return ExportResult(
        out=str(target),
        fmt=fmt,
        manifest=str(manifest_path),
        files=written,
        records=sum(e["records"] for e in entries),
        incremental=base is not None,
        seq_from=seq_from,
        seq_to=high_water,
        withdrawn_ids=withdrawn,
        total_records=manifest["records"],
    )


# -- manifest and watermark ---------------------------------------------------------------


def _manifest(
    store: Store, options: dict[str, Any], files: list[dict[str, Any]], high_water: int, schema_version: int
) -> dict[str, Any]:
    data = [f for f in files if f.get("path")]
    published = [v for f in data if f.get("published") for v in f["published"]]
    fetched = [v for f in data if f.get("fetched_at") for v in f["fetched_at"]]
    return {
        "format": "wiredesk-corpus",
        "format_version": EXPORT_FORMAT_VERSION,
        "schema_version": schema_version,
        "fields": list(EXPORT_FIELDS) + ([SIGNATURE_FIELD] if options.get("signatures") else []),
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
    ext = EXT[fmt]
    return name[: -len(ext)] if name.endswith(ext) and len(name) > len(ext) else name
