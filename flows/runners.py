"""The task runner named by ``run.task_runner``: Prefect's default, or prefect-dask's DaskTaskRunner.

prefect-dask is an optional extra (``pip install 'wiredesk[dask]'``): it is imported only when
the config asks for Dask, and its absence is a one-line ConfigError, not an ImportError.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wiredesk.config import RunConfig
from wiredesk.core.errors import ConfigError

if TYPE_CHECKING:
    from prefect.flows import Flow
    from prefect.task_runners import TaskRunner

DASK_MISSING = "run.task_runner is dask but prefect-dask is not installed: pip install 'wiredesk[dask]'"


def build_task_runner(run: RunConfig) -> TaskRunner | None:
    """None for ``default`` (the flow keeps its own runner), else a DaskTaskRunner.

    With ``run.dask_address`` the runner connects to that scheduler (a cluster shared by
    several workers); without it, it starts a local cluster of ``run.workers`` processes
    (one per core when unset) for the life of the flow run.
    """
    if run.task_runner == "default":
        return None
    if run.task_runner != "dask":  # the config model already restricts it; keep the error readable
        raise ConfigError(f"run.task_runner: expected default or dask (got {run.task_runner!r})")
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:
        raise ConfigError(DASK_MISSING) from None
    if run.dask_address:
        return DaskTaskRunner(address=run.dask_address)
    cluster_kwargs: dict[str, Any] = {"processes": True, "threads_per_worker": 1}
    if run.workers:
        cluster_kwargs["n_workers"] = run.workers
    return DaskTaskRunner(cluster_kwargs=cluster_kwargs)


def with_task_runner(flow: Flow[Any, Any], run: RunConfig) -> Flow[Any, Any]:
    """``flow`` itself, or a copy of it that submits its tasks to the configured runner."""
    runner = build_task_runner(run)
    return flow if runner is None else flow.with_options(task_runner=runner)


__all__ = ["DASK_MISSING", "build_task_runner", "with_task_runner"]
