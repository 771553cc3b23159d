"""The schema sidecar, ``<out>.schema.json``: the corpus's types, for readers that guess.

JSONL and CSV carry no types, and a column that is null in every record of a file (``author``
on sites without bylines, ``similarity`` in a representatives-only export) is read as type
``null`` by pyarrow, DuckDB and Hugging Face ``datasets``, and as float by pandas; such a file
then no longer concatenates with the next one. The sidecar holds the export's Arrow schema
(the one its Parquet files are written with), exactly and spelt for each reader::

    {"format": "wiredesk-corpus-schema", "version": 1,
     "fields": [{"name": "id", "type": "string", "nullable": true}, ...],   # Arrow types
     "arrow_ipc_base64": "...",          # the exact pyarrow.Schema, serialised
     "duckdb": {"id": "VARCHAR", ...},   # read_json(..., columns=...) / read_csv(..., columns=...)
     "pandas": {"id": "string", ...},    # read_json/read_csv(..., dtype=...)
     "datasets": {"id": {"dtype": "string", "_type": "Value"}, ...}}   # Features.from_dict

The loading one-liners are in the README ("Export: loading with the schema").
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

SIDECAR_VERSION = 1

# Arrow type (by its string form) -> (DuckDB type, pandas dtype, datasets Value dtype)
_SCALARS = {
    "string": ("VARCHAR", "string", "string"),
    "large_string": ("VARCHAR", "string", "large_string"),
    "double": ("DOUBLE", "float64", "float64"),
    "float": ("FLOAT", "float32", "float32"),
    "int64": ("BIGINT", "Int64", "int64"),
    "int32": ("INTEGER", "Int32", "int32"),
    "uint32": ("UINTEGER", "UInt32", "uint32"),
    "uint64": ("UBIGINT", "UInt64", "uint64"),
    "bool": ("BOOLEAN", "boolean", "bool"),
}


def sidecar_path(target: Path) -> Path:
    return target.with_name(target.name + ".schema.json")


def schema_sidecar(schema: Any) -> dict[str, Any]:
    """The sidecar document for a ``pyarrow.Schema``."""
    duck: dict[str, str] = {}
    pandas: dict[str, str] = {}
    hf: dict[str, Any] = {}
    for field in schema:
        duck[field.name], pandas[field.name], hf[field.name] = _spell(field.type)
    return {
        "format": "wiredesk-corpus-schema",
        "version": SIDECAR_VERSION,
        "fields": [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in schema],
        "arrow_ipc_base64": base64.b64encode(schema.serialize().to_pybytes()).decode("ascii"),
        "duckdb": duck,
        "pandas": pandas,
        "datasets": hf,
    }


def _spell(arrow_type: Any) -> tuple[str, str, dict[str, Any]]:
    import pyarrow as pa

    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        inner_duck, _, inner_hf = _spell(arrow_type.value_type)
        return f"{inner_duck}[]", "object", {"feature": inner_hf, "_type": "List"}
    spelt = _SCALARS.get(str(arrow_type))
    if spelt is None:
        raise ValueError(f"schema sidecar: no spelling for Arrow type {arrow_type}")
    duck, pandas, value = spelt
    return duck, pandas, {"dtype": value, "_type": "Value"}


def sidecar_bytes(schema: Any) -> bytes:
    return (json.dumps(schema_sidecar(schema), indent=2) + "\n").encode()


# The export schema's sidecar as built with the pyarrow installed when it was saved (regenerate it
# with ``save_sidecar()``): every export writes it, and building it imports pyarrow (0.15-0.3 s of
# CPU at a run's very end, after the last page) for JSONL and CSV exports too.
SAVED = Path(__file__).with_name("export_schema.json")


def saved_sidecar(fields: Sequence[str]) -> bytes | None:
    """The saved sidecar of the export schema, if it was built from ``fields`` by the pyarrow
    installed now (else None: build it)."""
    try:
        saved = json.loads(SAVED.read_text(encoding="utf-8"))
        version = metadata.version("pyarrow")
    except (OSError, ValueError, metadata.PackageNotFoundError):
        return None
    if saved.get("pyarrow") != version or saved.get("fields") != list(fields):
        return None
    return str(saved["sidecar"]).encode()


def save_sidecar() -> None:
    """Write ``SAVED`` from the export schema and the pyarrow installed."""
    from wiredesk.core.records import EXPORT_FIELDS
    from wiredesk.storage.files import parquet_schema

    doc = {
        "pyarrow": metadata.version("pyarrow"),
        "fields": list(EXPORT_FIELDS),
        "sidecar": sidecar_bytes(parquet_schema()).decode(),
    }
    SAVED.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
