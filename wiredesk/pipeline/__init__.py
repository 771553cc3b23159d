"""The pipeline core, without Prefect: stage wiring, batching, per-source runs and tallies.

The public Python API for notebooks and downstream projects is ``Pipeline`` (and
``run_ingest`` for the whole run with its tallies); ``wiredesk.flows`` wraps the same
functions in Prefect flows and tasks.

The names below are imported on first use: importing a light module of this package
(``wiredesk.pipeline.report``) does not import the whole pipeline (extraction, dedup, store).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wiredesk.pipeline.report import SourceTally
    from wiredesk.pipeline.run import Pipeline, resolve_config, run_ingest
    from wiredesk.pipeline.sources import Job, plan_jobs

_WHERE = {
    "SourceTally": "wiredesk.pipeline.report",
    "Pipeline": "wiredesk.pipeline.run",
    "resolve_config": "wiredesk.pipeline.run",
    "run_ingest": "wiredesk.pipeline.run",
    "Job": "wiredesk.pipeline.sources",
    "plan_jobs": "wiredesk.pipeline.sources",
}

__all__ = ["Job", "Pipeline", "SourceTally", "plan_jobs", "resolve_config", "run_ingest"]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
