"""run.task_runner: the default keeps the flow as it is; dask needs the optional extra."""

from __future__ import annotations

import importlib.util

import pytest

from wiredesk.config import RunConfig
from wiredesk.core.errors import ConfigError
from wiredesk.flows.runners import DASK_MISSING, build_task_runner, with_task_runner

HAVE_DASK = importlib.util.find_spec("prefect_dask") is not None


def test_default_task_runner_leaves_the_flow_alone() -> None:
    from wiredesk.flows.ingest import ingest

    assert build_task_runner(RunConfig()) is None
    assert with_task_runner(ingest, RunConfig()) is ingest


@pytest.mark.skipif(HAVE_DASK, reason="prefect-dask is installed: the missing-extra message cannot show")
def test_dask_without_the_extra_is_one_line_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        build_task_runner(RunConfig(task_runner="dask"))
    assert caught.value.message == DASK_MISSING and "\n" not in DASK_MISSING


@pytest.mark.skipif(not HAVE_DASK, reason="prefect-dask (the dask extra) is not installed")
def test_dask_runner_uses_the_configured_scheduler_or_a_local_cluster() -> None:
    from prefect_dask import DaskTaskRunner

    from wiredesk.flows.ingest import ingest

    remote = build_task_runner(RunConfig(task_runner="dask", dask_address="tcp://127.0.0.1:8786"))
    assert isinstance(remote, DaskTaskRunner) and remote.address == "tcp://127.0.0.1:8786"
    local = build_task_runner(RunConfig(task_runner="dask", workers=2))
    assert local.address is None and local.cluster_kwargs["n_workers"] == 2
    assert isinstance(with_task_runner(ingest, RunConfig(task_runner="dask")).task_runner, DaskTaskRunner)
