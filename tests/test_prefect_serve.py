"""The two ways users register deployments, end to end against the session's Prefect server:
``prefect deploy --all`` from a generated prefect.yaml, and ``wiredesk serve`` (slow: it runs
real flow-run subprocesses started by the Prefect runner)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

from wiredesk.config import load_config
from wiredesk.flows.deployments import DeploymentSettings, plan_deployments, render_prefect_yaml

pytest_plugins = ["tests.prefect_harness"]

REPO = Path(__file__).resolve().parent.parent
SEEDS = [REPO / "samples" / "seeds", REPO.parent / "shared" / "data" / "seeds"]


def _env(api: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


def test_committed_prefect_yaml_matches_the_generator() -> None:
    committed = yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))
    generated = yaml.safe_load(render_prefect_yaml(plan_deployments(load_config(None, environ={}))))
    committed.pop("prefect-version"), generated.pop("prefect-version")
    assert committed == generated
    assert [d["name"] for d in committed["deployments"]] == ["all", "corpus"]


@pytest.mark.prefect
def test_prefect_deploy_all_creates_the_configured_schedules(tmp_path: Path, prefect_api: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    name = "d" + uuid.uuid4().hex[:8]
    config = tmp_path / "wiredesk.yaml"
    config.write_text(
        f"""\
sources:
  - name: {name}
    paths: [/nonexistent]
    schedule: {{cron: "5 4 * * 0", timezone: Asia/Tokyo}}
""",
        encoding="utf-8",
    )
    pool = f"pool-{name}"
    plans = plan_deployments(load_config(config, environ={}), only=[name])
    (tmp_path / "prefect.yaml").write_text(
        render_prefect_yaml(plans, pool=pool, settings=DeploymentSettings()), encoding="utf-8"
    )
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
    prefect_cli = Path(sys.executable).with_name("prefect")
    done = subprocess.run(
        [str(prefect_cli), "--no-prompt", "deploy", "--all"],
        cwd=tmp_path,
        env=_env(prefect_api),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(f"ingest/{name}")
    assert [(s.schedule.cron, s.schedule.timezone) for s in deployment.schedules] == [("5 4 * * 0", "Asia/Tokyo")]
    assert deployment.work_pool_name == pool and deployment.entrypoint == "wiredesk.flows.ingest.ingest"
    assert deployment.parameters == {"sources": [name]}
    assert deployment.global_concurrency_limit.limit == 1


def _stop(serve: subprocess.Popen) -> None:
    """Stop `wiredesk serve` as Ctrl-C does; kill it if it has not exited within 30 s."""
    serve.send_signal(signal.SIGINT)
    try:
        serve.wait(timeout=30)
    except subprocess.TimeoutExpired:
        serve.kill()
        serve.wait()


def _wait_for(what: str, check, *, timeout: float, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(
                f"`wiredesk serve` exited ({proc.returncode}) while waiting for {what}: "
                + (proc.stderr.read() if proc.stderr else "")[-3000:]
            )
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


@pytest.mark.prefect
@pytest.mark.slow
def test_serve_runs_triggered_deployments_one_at_a_time(tmp_path: Path, prefect_api: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.exceptions import ObjectNotFound

    seeds = next((sorted(folder.glob("*.txt")) for folder in SEEDS if len(list(folder.glob("*.txt"))) == 5), None)
    if seeds is None:
        pytest.skip("the five seed pages are in neither samples/seeds nor ../shared/data/seeds")
    alpha, beta = tmp_path / "alpha", tmp_path / "beta"
    for folder, files in ((alpha, seeds[:2]), (beta, seeds[2:])):
        folder.mkdir()
        for file in files:
            shutil.copy(file, folder / file.name)
    name = "s" + uuid.uuid4().hex[:8]  # the scheduled source: its deployment name is unique to this test
    config = tmp_path / "wiredesk.yaml"
    config.write_text(
        f"""\
store: {{url: {tmp_path / "store.db"}}}
export: {{out: {tmp_path / "corpus.jsonl"}}}
run: {{workers: 1}}
sources:
  - name: {name}
    paths: ["{alpha}"]
    schedule: {{cron: "0 3 * * *", timezone: Europe/Berlin}}
  - name: beta
    paths: ["{beta}"]
""",
        encoding="utf-8",
    )
    env = _env(prefect_api)
    serve = subprocess.Popen(
        [sys.executable, "-m", "wiredesk.cli", "serve", "--config", str(config)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def registered():
            with get_client(sync_client=True) as client:
                try:
                    deployment = client.read_deployment_by_name(f"ingest/{name}")
                    everything = client.read_deployment_by_name("ingest/all")
                except ObjectNotFound:
                    return None
            # served: the runner has polled for their runs (else trigger refuses, truthfully)
            return deployment if deployment.last_polled and everything.last_polled else None

        deployment = _wait_for("the deployments", registered, timeout=120, proc=serve)
        assert [(s.schedule.cron, s.schedule.timezone) for s in deployment.schedules] == [
            ("0 3 * * *", "Europe/Berlin")
        ]

        # The documented manual trigger, exactly as a user types it; then twice ingest/all for the
        # scheduled source through `wiredesk trigger`: manual runs wait their turn (enqueue) and
        # never overlap (concurrency limit 1).
        prefect_cli = Path(sys.executable).with_name("prefect")
        ran = subprocess.run(
            [str(prefect_cli), "deployment", "run", "ingest/all", "--param", 'sources=["beta"]'],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert ran.returncode == 0, ran.stderr[-2000:]
        run_ids = []
        for _ in range(2):
            out = subprocess.run(
                [sys.executable, "-m", "wiredesk.cli", "trigger", "all", "--param", f'sources=["{name}"]', "--json"],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert out.returncode == 0, out.stderr[-2000:]
            run_ids.append(uuid.UUID(json.loads(out.stdout)["flow_run_id"]))

        def all_final():
            with get_client(sync_client=True) as client:
                runs = [client.read_flow_run(i) for i in run_ids]
                everything = client.read_deployment_by_name("ingest/all")
                manual = client.read_flow_runs(
                    deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[everything.id]))
                )
            manual = [
                r
                for r in manual
                if r.parameters.get("sources") == ["beta"] and r.parameters.get("config_path") == str(config)
            ]
            done = runs + manual
            return (runs, manual) if manual and all(r.state and r.state.is_final() for r in done) else None

        runs, manual = _wait_for(
            "the three flow runs to finish", all_final, timeout=600, proc=serve
        )  # a bound, not a speed test: a loaded machine needed over 300 s
    finally:
        _stop(serve)
    assert [r.state.name for r in runs + manual] == ["Completed"] * (len(runs) + len(manual))
    first, second = sorted(runs, key=lambda r: r.start_time)
    assert first.end_time <= second.start_time  # never two runs of one deployment at once
    with sqlite3.connect(tmp_path / "store.db") as conn:
        by_source = dict(conn.execute("SELECT source, count(*) FROM articles GROUP BY source"))
    assert by_source == {name: 2, "beta": 3}
