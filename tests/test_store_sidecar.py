"""The schema sidecar: an exported JSONL (or CSV) whose column is null in every record loads
with the corpus's types in pyarrow, pandas, DuckDB and Hugging Face ``datasets``, using the
one-liners the README documents. Without it, each of them types such a column as null."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq
import pytest

from tests.test_store_support import make_article, new, store, store_target  # noqa: F401
from wiredesk.core.records import EXPORT_FIELDS
from wiredesk.storage import export_corpus


@pytest.fixture()
def exported(store, tmp_path: Path) -> Path:  # noqa: F811
    """A representatives-only JSONL export where author and similarity are null everywhere."""
    arts = [make_article(i) for i in (0, 2, 4)]  # even numbers: no byline
    assert all(a.author is None for a in arts)
    store.write_batch(run_id="r", articles=arts, assignments=[new(a) for a in arts])
    return Path(export_corpus(store, str(tmp_path / "corpus.jsonl")).out)


def _expected() -> dict[str, pa.DataType]:
    return {name: pa.float64() if name == "similarity" else pa.string() for name in EXPORT_FIELDS}


def test_the_sidecar_is_the_parquet_schema_and_listed_in_the_manifest(exported: Path, tmp_path: Path) -> None:
    sidecar_file = Path(f"{exported}.schema.json")
    sidecar = json.loads(sidecar_file.read_text())
    manifest = json.loads(Path(f"{exported}.manifest.json").read_text())
    assert manifest["schema_file"] == sidecar_file.name
    schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(sidecar["arrow_ipc_base64"])))
    assert [(f["name"], f["type"]) for f in sidecar["fields"]] == [(f.name, str(f.type)) for f in schema]
    assert dict(zip(schema.names, schema.types)) == _expected()


def test_without_the_sidecar_readers_guess_null(exported: Path) -> None:
    """The failure the sidecar exists for (if readers stop guessing, this test says so)."""
    guessed = pa_json.read_json(exported).schema
    assert guessed.field("author").type == pa.null() and guessed.field("similarity").type == pa.null()


def test_pyarrow_with_the_sidecar(exported: Path) -> None:
    side = json.loads(Path(f"{exported}.schema.json").read_text())
    # README one-liner:
    schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(side["arrow_ipc_base64"])))
    table = pa_json.read_json(exported, parse_options=pa_json.ParseOptions(explicit_schema=schema))
    assert dict(zip(table.schema.names, table.schema.types)) == _expected() and table.num_rows == 3
    assert table.column("author").null_count == 3


def test_pandas_with_the_sidecar(exported: Path) -> None:
    import pandas as pd

    side = json.loads(Path(f"{exported}.schema.json").read_text())
    frame = pd.read_json(exported, lines=True, dtype=side["pandas"])  # README one-liner
    assert str(frame["author"].dtype) == "string" and str(frame["similarity"].dtype) == "float64"
    assert str(frame["text"].dtype) == "string" and frame["author"].isna().all() and len(frame) == 3


def test_duckdb_with_the_sidecar(exported: Path) -> None:
    import duckdb

    side = json.loads(Path(f"{exported}.schema.json").read_text())
    # README one-liner:
    rel = duckdb.sql(f"SELECT * FROM read_json('{exported}', columns={side['duckdb']})")
    types = dict(zip(rel.columns, map(str, rel.types)))
    assert types == {n: ("DOUBLE" if n == "similarity" else "VARCHAR") for n in EXPORT_FIELDS}
    assert rel.aggregate("count(*), count(author)").fetchall() == [(3, 0)]


def test_datasets_with_the_sidecar(exported: Path, tmp_path: Path) -> None:
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")  # local files only: never reach the Hub
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    datasets = pytest.importorskip("datasets")
    side = json.loads(Path(f"{exported}.schema.json").read_text())
    data = datasets.load_dataset(  # README one-liner
        "json",
        data_files=str(exported),
        features=datasets.Features.from_dict(side["datasets"]),
        split="train",
        cache_dir=str(tmp_path / "hf"),
    )
    assert data.features["author"] == datasets.Value("string")
    assert data.features["similarity"] == datasets.Value("float64")
    assert data.num_rows == 3 and data[0]["author"] is None


def test_csv_with_the_sidecar_in_duckdb_and_pandas(store, tmp_path: Path) -> None:  # noqa: F811
    import duckdb
    import pandas as pd

    arts = [make_article(i) for i in (0, 2)]
    store.write_batch(run_id="r", articles=arts, assignments=[new(a) for a in arts])
    out = Path(export_corpus(store, str(tmp_path / "corpus.csv"), fmt="csv").out)
    side = json.loads(Path(f"{out}.schema.json").read_text())
    rel = duckdb.sql(f"SELECT * FROM read_csv('{out}', header=true, columns={side['duckdb']})")
    assert dict(zip(rel.columns, map(str, rel.types)))["similarity"] == "DOUBLE"
    assert rel.aggregate("count(*), count(author)").fetchall() == [(2, 0)]
    frame = pd.read_csv(out, dtype=side["pandas"])
    assert str(frame["author"].dtype) == "string" and frame["author"].isna().all()


def test_parquet_files_carry_the_same_schema(store, tmp_path: Path) -> None:  # noqa: F811
    arts = [make_article(i) for i in (0, 2)]
    store.write_batch(run_id="r", articles=arts, assignments=[new(a) for a in arts])
    out = Path(export_corpus(store, str(tmp_path / "c.parquet"), fmt="parquet").out)
    side = json.loads(Path(f"{out}.schema.json").read_text())
    schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(side["arrow_ipc_base64"])))
    assert pq.read_schema(out).remove_metadata().equals(schema)


def test_the_saved_sidecar_is_the_one_built_from_the_schema_and_is_what_an_export_writes(exported: Path) -> None:
    """Exports write the sidecar saved beside storage/sidecar.py (no pyarrow import at a run's end):
    it must be byte for byte what the schema builds with the pyarrow installed (if this fails after
    a pyarrow upgrade or a change of the export fields: run ``save_sidecar()``)."""
    from wiredesk.storage.files import parquet_schema
    from wiredesk.storage.sidecar import SAVED, saved_sidecar, sidecar_bytes, sidecar_path

    built = sidecar_bytes(parquet_schema())
    saved = saved_sidecar(EXPORT_FIELDS)
    assert saved == built, f"{SAVED.name} is stale: regenerate it with save_sidecar()"
    assert sidecar_path(exported).read_bytes() == built
    assert saved_sidecar([*EXPORT_FIELDS, "another"]) is None  # other fields: built, not read


def test_an_export_builds_the_sidecar_when_the_saved_one_does_not_apply(store, tmp_path, monkeypatch) -> None:  # noqa: F811
    from wiredesk.storage import export as export_module
    from wiredesk.storage.files import parquet_schema
    from wiredesk.storage.sidecar import sidecar_bytes

    monkeypatch.setattr(export_module, "saved_sidecar", lambda fields: None)
    arts = [make_article(i) for i in (0, 1)]
    store.write_batch(run_id="r", articles=arts, assignments=[new(a) for a in arts])
    out = Path(export_corpus(store, str(tmp_path / "c.jsonl")).out)
    assert (tmp_path / "c.jsonl.schema.json").read_bytes() == sidecar_bytes(parquet_schema())
    assert out.exists()
