"""Deployments from config, and `wiredesk trigger`, against the session's Prefect test server."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import pytest

from wiredesk import cli
from wiredesk.cli.schedule import parse_params
from wiredesk.config import load_config
from wiredesk.core.errors import ConfigError, WiredeskError
from wiredesk.flows.deployments import (
    DeploymentSettings,
    NothingServing,
    build_deployments,
    plan_deployments,
    qualify,
    trigger,
)

pytest_plugins = ["tests.prefect_harness"]


def _config_file(tmp_path: Path, sources_yaml: str) -> Path:
    path = tmp_path / "wiredesk.yaml"
    path.write_text(f"store: {{url: {tmp_path / 'store.db'}}}\nsources:\n{sources_yaml}", encoding="utf-8")
    return path


def _three_sources(tmp_path: Path, prefix: str) -> Path:
    """Two scheduled sources (different zones) and one without a schedule; names unique per test,
    because every test shares the session's Prefect database."""
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "a.txt").write_text("x " * 50, encoding="utf-8")
    return _config_file(
        tmp_path,
        f"""\
  - name: {prefix}-berlin
    paths: ["{pages}"]
    schedule: {{cron: "*/30 * * * *", timezone: Europe/Berlin}}
  - name: {prefix}-nyc
    paths: ["{pages}"]
    schedule: {{cron: "15 6 * * 1-5", timezone: America/New_York}}
  - name: {prefix}-manual
    paths: ["{pages}"]
""",
    )


def _unique() -> str:
    return "t" + uuid.uuid4().hex[:8]


def test_plan_has_one_deployment_per_scheduled_source_plus_manual_ones(tmp_path: Path) -> None:
    cfg_path = _three_sources(tmp_path, "s")
    plans = plan_deployments(load_config(cfg_path, environ={}), config_path=cfg_path)
    assert [p.full_name for p in plans] == ["ingest/s-berlin", "ingest/s-nyc", "ingest/all", "export/corpus"]
    berlin, nyc, everything, export = plans
    assert (berlin.cron, berlin.timezone) == ("*/30 * * * *", "Europe/Berlin")
    assert (nyc.cron, nyc.timezone) == ("15 6 * * 1-5", "America/New_York")
    assert berlin.parameters == {"sources": ["s-berlin"], "config_path": str(cfg_path.resolve())}
    assert not everything.scheduled and not export.scheduled
    assert "sources" not in everything.parameters  # all sources unless the trigger names some
    assert [p.full_name for p in plan_deployments(load_config(cfg_path, environ={}), only=["s-nyc"])] == [
        "ingest/s-nyc"
    ]
    no_manual = plan_deployments(load_config(cfg_path, environ={}), settings=DeploymentSettings(manual=False))
    assert [p.full_name for p in no_manual] == ["ingest/s-berlin", "ingest/s-nyc"]


def test_plan_errors_are_one_line_config_errors(tmp_path: Path) -> None:
    cfg_path = _config_file(tmp_path, '  - name: all\n    paths: ["/x"]\n    schedule: {cron: "0 * * * *"}\n')
    with pytest.raises(ConfigError, match="reserved"):
        plan_deployments(load_config(cfg_path, environ={}))
    cfg_path = _three_sources(tmp_path, "e")
    with pytest.raises(ConfigError, match=r"no deployment named ingest/nope \(known: ingest/e-berlin"):
        plan_deployments(load_config(cfg_path, environ={}), only=["nope"])
    with pytest.raises(ConfigError, match="nothing to serve"):
        plan_deployments(load_config(None, environ={}), settings=DeploymentSettings(manual=False))
    with pytest.raises(ConfigError, match="password") as caught:
        plan_deployments(load_config(None, environ={}), store="postgresql://wd:s3cret@127.0.0.1/wiredesk")
    assert "s3cret" not in caught.value.message
    assert plan_deployments(load_config(None, environ={}), store="postgresql://wd@127.0.0.1/wiredesk")[
        0
    ].parameters == {"store": "postgresql://wd@127.0.0.1/wiredesk"}
    with pytest.raises(ConfigError):
        DeploymentSettings(concurrency_limit=0)
    assert qualify("berlin") == "ingest/berlin" and qualify("export/corpus") == "export/corpus"
    with pytest.raises(ConfigError):
        qualify("ingest/")


def test_params_are_json_when_they_parse_else_strings() -> None:
    assert parse_params(
        ['sources=["a", "b"]', "limit=5", "dry_run=true", "since=2026-11-01", "store=./x.db", "note=a=b"]
    ) == {"sources": ["a", "b"], "limit": 5, "dry_run": True, "since": "2026-11-01", "store": "./x.db", "note": "a=b"}
    for bad in ("novalue", "=5", "not an id=1"):
        with pytest.raises(ConfigError):
            parse_params([bad])


@pytest.mark.prefect
def test_deployments_created_with_configured_cron_schedules(tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client

    prefix = _unique()
    cfg_path = _three_sources(tmp_path, prefix)
    plans = plan_deployments(load_config(cfg_path, environ={}), config_path=cfg_path)
    for deployment in build_deployments(plans):
        deployment.apply()
    with get_client(sync_client=True) as client:
        berlin = client.read_deployment_by_name(f"ingest/{prefix}-berlin")
        nyc = client.read_deployment_by_name(f"ingest/{prefix}-nyc")
        everything = client.read_deployment_by_name("ingest/all")
        export = client.read_deployment_by_name("export/corpus")
        names = {d.name for d in client.read_deployments()}
    for deployment, cron, zone in (
        (berlin, "*/30 * * * *", "Europe/Berlin"),
        (nyc, "15 6 * * 1-5", "America/New_York"),
    ):
        assert [(s.schedule.cron, s.schedule.timezone, s.active) for s in deployment.schedules] == [(cron, zone, True)]
        assert deployment.global_concurrency_limit is not None and deployment.global_concurrency_limit.limit == 1
        assert deployment.entrypoint == "wiredesk.flows.ingest.ingest"
    assert berlin.parameters == {"sources": [f"{prefix}-berlin"], "config_path": str(cfg_path.resolve())}
    assert f"{prefix}-manual" not in names  # no schedule: run it through ingest/all
    assert everything.schedules == [] and export.schedules == []
    assert everything.global_concurrency_limit.limit == 1 and export.entrypoint == "wiredesk.flows.ingest.export_flow"


@pytest.mark.prefect
def test_trigger_creates_a_run_with_the_deployment_and_given_parameters(tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client

    prefix = _unique()
    cfg_path = _three_sources(tmp_path, prefix)
    plans = plan_deployments(load_config(cfg_path, environ={}), config_path=cfg_path, only=[f"{prefix}-berlin"])
    build_deployments(plans)[0].apply()
    # registered, but no runner or worker polls for it: refused unless queued on purpose
    with pytest.raises(NothingServing, match=rf"nothing is serving ingest/{prefix}-berlin .*never polled.*--queue"):
        trigger(f"{prefix}-berlin", {"limit": 2})
    run = trigger(f"{prefix}-berlin", {"limit": 2, "since": "2026-11-01"}, queue=True)
    assert run.deployment == f"ingest/{prefix}-berlin" and run.state == "Scheduled" and not run.final
    assert not run.served
    with get_client(sync_client=True) as client:
        stored = client.read_flow_run(uuid.UUID(run.flow_run_id))
    assert stored.parameters == {
        "sources": [f"{prefix}-berlin"],
        "config_path": str(cfg_path.resolve()),
        "limit": 2,
        "since": "2026-11-01",
    }

    with pytest.raises(ConfigError, match=rf"no deployment 'ingest/nope-{prefix}'.*known: .*ingest/{prefix}-berlin"):
        trigger(f"nope-{prefix}")
    with pytest.raises(ConfigError, match="has no parameter limt"):
        trigger(f"{prefix}-berlin", {"limt": 2})
    with pytest.raises(ConfigError, match="password"):
        trigger(f"{prefix}-berlin", {"store": "postgresql://wd:s3cret@127.0.0.1/wiredesk"})
    with pytest.raises(ConfigError, match="refused the run: .*limit"):
        trigger(f"{prefix}-berlin", {"limit": "many"}, queue=True)


@pytest.mark.prefect
def test_cli_trigger_prints_the_run_or_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prefix = _unique()
    cfg_path = _three_sources(tmp_path, prefix)
    plans = plan_deployments(load_config(cfg_path, environ={}), config_path=cfg_path, only=[f"{prefix}-nyc"])
    build_deployments(plans)[0].apply()
    assert cli.main(["trigger", f"{prefix}-nyc", "--param", "limit=1"]) == 1  # nothing serves it
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith(f"wiredesk: error: nothing is serving ingest/{prefix}-nyc at ")
    assert cli.main(["trigger", f"{prefix}-nyc", "--param", "limit=1", "--queue"]) == 0
    out = capsys.readouterr().out
    assert f"ingest/{prefix}-nyc: flow run " in out and "is Scheduled (queued: nothing serves it yet)" in out
    assert cli.main(["trigger", f"ingest/missing-{prefix}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"wiredesk: error: no deployment 'ingest/missing-{prefix}'") and err.count("\n") == 1


def test_trigger_without_a_reachable_api_is_one_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with socket.socket() as sock:  # a port nobody listens on: bound, then closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api"
    with temporary_settings(updates={PREFECT_API_URL: url}):
        with pytest.raises(WiredeskError, match=f"cannot reach the Prefect API at {url}"):
            trigger("anything")
        assert cli.main(["trigger", "anything"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"wiredesk: error: cannot reach the Prefect API at {url}") and err.count("\n") == 1
