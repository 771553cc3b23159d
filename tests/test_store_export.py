"""Corpus export: the record contract, formats loaded by the tools downstream projects use,
manifests with checksums, incremental deltas that add up to a full snapshot, atomicity."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.json as pa_json
import pyarrow.parquet as pq
import pytest

from tests.test_store_support import dup, make_article, new, store, store_target  # noqa: F401
from wiredesk.core.errors import ConfigError, StoreError
from wiredesk.core.records import EXPORT_FIELDS
from wiredesk.storage import export_corpus


def _fill(store, n: int = 12, *, run_id: str = "run-a", start: int = 0):
    """n articles; every third one a near copy of the one before it."""
    arts = [make_article(i, source=f"src{i % 2}") for i in range(start, start + n)]
    verdicts = []
    for k, art in enumerate(arts):
        verdicts.append(dup(art, arts[k - 1]) if k % 3 == 2 else new(art))
    store.write_batch(run_id=run_id, articles=arts, assignments=verdicts)
    return arts, verdicts


def _jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _apply(manifest_path: Path, load) -> dict[str, dict]:
    """What a consumer does: read the files in manifest order, upsert by id, drop withdrawn ids."""
    manifest = json.loads(manifest_path.read_text())
    corpus: dict[str, dict] = {}
    for entry in manifest["files"]:
        if entry.get("path"):
            for rec in load(manifest_path.parent / entry["path"]):
                corpus[rec["id"]] = rec
        for gone in entry.get("withdrawn_ids", ()):
            corpus.pop(gone, None)
    return corpus


def test_jsonl_has_the_contract_fields_representatives_only(store, tmp_path):
    arts, verdicts = _fill(store)
    out = tmp_path / "out" / "corpus.jsonl"
    result = export_corpus(store, str(out))
    records = _jsonl(out)
    reps = [a for a, v in zip(arts, verdicts) if v.duplicate_of is None]
    assert result.records == len(records) == len(reps) == 8
    assert all(tuple(r) == EXPORT_FIELDS for r in records)  # exactly the fields, in order
    first = records[0]
    assert first["id"] == arts[0].id and first["text"] == arts[0].text and first["duplicate_of"] is None
    assert first["fetched_at"] == arts[0].fetched_at.isoformat() and first["published"] == arts[0].published
    assert result.files == (str(out),) and not result.incremental


def test_all_adds_every_duplicate_with_its_own_text(store, tmp_path):
    arts, verdicts = _fill(store)
    out = tmp_path / "all.jsonl"
    export_corpus(store, str(out), include_duplicates=True)
    records = {r["id"]: r for r in _jsonl(out)}
    assert len(records) == 12
    for art, verdict in zip(arts, verdicts):
        rec = records[art.id]
        assert rec["text"] == art.text and rec["duplicate_of"] == verdict.duplicate_of
        assert rec["cluster_id"] == verdict.cluster_id and rec["similarity"] == verdict.similarity


def test_manifest_lists_files_with_checksums_and_provenance(store, tmp_path):
    _fill(store, run_id="run-a")
    _fill(store, 3, run_id="run-b", start=100)
    out = tmp_path / "corpus.jsonl.gz"
    result = export_corpus(store, str(out), fmt="jsonl.gz")
    manifest = json.loads(Path(result.manifest).read_text())
    assert manifest["records"] == result.records == len(_jsonl(out)) == 10
    assert manifest["fields"] == list(EXPORT_FIELDS) and manifest["schema_version"] >= 2
    assert manifest["run_ids"] == ["run-a", "run-b"] and manifest["sources"] == ["src0", "src1"]
    assert manifest["time_range"]["published"][0] <= manifest["time_range"]["published"][1]
    [entry] = manifest["files"]
    assert entry["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest() and entry["records"] == 10
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]  # nothing half-written left over


def test_formats_load_in_pyarrow_pandas_duckdb(store, tmp_path):
    import duckdb
    import pandas as pd

    _fill(store)
    jsonl = Path(export_corpus(store, str(tmp_path / "c.jsonl"), include_duplicates=True).out)
    gz = Path(export_corpus(store, str(tmp_path / "c.jsonl.gz"), include_duplicates=True, fmt="jsonl.gz").out)
    parquet = Path(export_corpus(store, str(tmp_path / "c.parquet"), include_duplicates=True, fmt="parquet").out)

    table = pq.read_table(parquet)
    assert table.num_rows == 12 and tuple(table.column_names) == EXPORT_FIELDS
    assert table.schema.field("similarity").type == pa.float64()
    frame = pd.read_parquet(parquet)
    assert len(frame) == 12 and frame["duplicate_of"].notna().sum() == 4
    for path in (jsonl, gz):
        frame = pd.read_json(path, lines=True)
        assert len(frame) == 12 and tuple(frame.columns) == EXPORT_FIELDS
    assert pa_json.read_json(jsonl).num_rows == 12
    con = duckdb.connect()
    for path, reader in ((jsonl, "read_json_auto"), (gz, "read_json_auto"), (parquet, "read_parquet")):
        n, dups, texts = con.execute(
            f"SELECT count(*), count(duplicate_of), count(DISTINCT text) FROM {reader}('{path}')"
        ).fetchone()
        assert (n, dups, texts) == (12, 4, 12)


def test_huggingface_datasets_loads_the_export(store, tmp_path):
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")  # local files only: never reach the Hub
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    datasets = pytest.importorskip("datasets")
    _fill(store)
    jsonl = export_corpus(store, str(tmp_path / "c.jsonl")).out
    parquet = export_corpus(store, str(tmp_path / "c.parquet"), fmt="parquet").out
    cache = str(tmp_path / "hf-cache")
    for kind, path in (("json", jsonl), ("parquet", parquet)):
        data = datasets.load_dataset(kind, data_files=path, split="train", cache_dir=cache)
        assert data.num_rows == 8 and tuple(data.column_names) == EXPORT_FIELDS


def test_partitioned_parquet_by_publication_day(store, tmp_path):
    import duckdb

    arts, _ = _fill(store)
    odd = replace(make_article(500), published="yesterday-ish")
    store.write_batch(run_id="r", articles=[odd], assignments=[new(odd)])
    out = tmp_path / "corpus"
    result = export_corpus(store, str(out), fmt="parquet", partition_by_date=True, include_duplicates=True)
    days = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert days == [
        "published_date=2026-11-01",
        "published_date=2026-11-02",
        "published_date=2026-11-03",
        "published_date=unknown",
    ]
    dataset = ds.dataset(out, format="parquet", partitioning="hive")
    table = dataset.to_table()
    assert table.num_rows == result.records == 13
    assert set(EXPORT_FIELDS) <= set(table.column_names)
    for rec in table.to_pylist():
        expected = rec["published"][:10] if rec["published"] != "yesterday-ish" else "unknown"
        assert str(rec["published_date"]) == expected
    n = (
        duckdb.connect()
        .execute(f"SELECT count(*) FROM read_parquet('{out}/*/*.parquet', hive_partitioning=true)")
        .fetchone()[0]
    )
    assert n == 13 and Path(result.manifest) == tmp_path / "corpus.manifest.json"


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_incremental_deltas_add_up_to_the_full_snapshot(store, tmp_path, fmt):
    arts, _ = _fill(store)
    out = tmp_path / f"inc.{fmt}"
    first = export_corpus(store, str(out), fmt=fmt, incremental=True)
    assert not first.incremental and first.records == 8  # nothing before: a full snapshot

    again = export_corpus(store, str(out), fmt=fmt, incremental=True)
    assert again.incremental and again.records == 0 and again.files == ()

    # New articles, a changed article, and a representative demoted to a duplicate.
    more, _ = _fill(store, 3, run_id="run-b", start=50)
    changed = replace(arts[0], text=arts[0].text + " Correction appended.", content_hash="v2")
    store.write_batch(
        run_id="run-b", articles=[changed], assignments=[new(changed)], updates=[dup(arts[3], more[0], similarity=0.88)]
    )
    delta = export_corpus(store, str(out), fmt=fmt, incremental=True)
    assert delta.incremental and delta.seq_from == first.seq_to
    assert delta.records == 3  # two new representatives + the changed one
    assert delta.withdrawn_ids == (arts[3].id,)

    def load(path: Path):
        return _jsonl(path) if fmt == "jsonl" else pq.read_table(path).to_pylist()

    full = export_corpus(store, str(tmp_path / f"full.{fmt}"), fmt=fmt)
    assert _apply(Path(delta.manifest), load) == {r["id"]: r for r in load(Path(full.out))}

    # A full export to the same place replaces base and deltas alike.
    snapshot = export_corpus(store, str(out), fmt=fmt)
    assert not Path(delta.files[0]).exists()
    assert len(json.loads(Path(snapshot.manifest).read_text())["files"]) == 1


def test_incremental_partitioned_export_adds_part_files(store, tmp_path):
    _fill(store)
    out = tmp_path / "parts"
    export_corpus(store, str(out), fmt="parquet", partition_by_date=True, incremental=True)
    _fill(store, 4, run_id="run-b", start=30)
    delta = export_corpus(store, str(out), fmt="parquet", partition_by_date=True, incremental=True)
    assert delta.incremental and delta.records == 3 and all(Path(f).exists() for f in delta.files)
    table = ds.dataset(out, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 11 == json.loads(Path(delta.manifest).read_text())["records"]


def test_failed_export_leaves_the_previous_file_and_watermark(store, tmp_path):
    arts, _ = _fill(store)
    out = tmp_path / "corpus.jsonl"
    first = export_corpus(store, str(out))
    before = out.read_bytes()
    late = make_article(900)
    store.write_batch(run_id="r", articles=[late], assignments=[new(late)])
    from sqlalchemy import update

    from wiredesk.storage.schema import articles

    with store.engine.begin() as conn:  # damage the newest row: the export fails on its last record
        conn.execute(update(articles).where(articles.c.id == late.id).values(text=None, text_z=b"not zlib"))
    with pytest.raises(StoreError, match="corrupt"):
        export_corpus(store, str(out))
    assert out.read_bytes() == before
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != "db")
    assert left == ["corpus.jsonl", "corpus.jsonl.manifest.json", "corpus.jsonl.schema.json"]  # no lock left
    # The watermark did not move: the next incremental export still starts where the first ended.
    with pytest.raises(StoreError):
        export_corpus(store, str(out), incremental=True)
    assert json.loads(Path(first.manifest).read_text())["seq_to"] == first.seq_to


def test_unknown_format_is_a_config_error(store, tmp_path):
    with pytest.raises(ConfigError, match="unknown export format"):
        export_corpus(store, str(tmp_path / "x.xml"), fmt="xml")
