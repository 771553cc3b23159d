"""The pipeline core, without Prefect: stage wiring, batching, per-source runs and tallies.

The public Python API for notebooks and downstream projects is ``Pipeline`` (and
``run_ingest`` for the whole run with its tallies); ``wiredesk.flows`` wraps the same
functions in Prefect flows and tasks.
"""

from wiredesk.pipeline.report import SourceTally
from wiredesk.pipeline.run import Pipeline, resolve_config, run_ingest
from wiredesk.pipeline.sources import Job, plan_jobs

__all__ = ["Job", "Pipeline", "SourceTally", "plan_jobs", "resolve_config", "run_ingest"]
