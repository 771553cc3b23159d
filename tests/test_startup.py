"""A one-shot `wiredesk run`'s start-up: which Prefect it uses, and the ``startup`` report.

With a running Prefect server (PREFECT_API_URL, or the local server of a `wiredesk serve`) the
run is a flow run on it and no server is started; with none, the pipeline runs directly in the
process (recorded in the store's run log) unless ``--embedded-server`` asks for Prefect's
embedded server, which the run then starts and stops itself. Every path stores the same.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

ONE_PAGE = sorted((Path(__file__).parent.parent / "samples" / "html").glob("*.html"))[0]


def _run(tmp_path: Path, *args: str, env: dict[str, str] | None = None, name: str = "store.db"):
    """`wiredesk run --input ONE_PAGE` as its own process, with a Prefect home and profile of its own
    (nothing of the developer's ~/.prefect leaks in)."""
    home = tmp_path / "prefect-home"
    home.mkdir(exist_ok=True)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
    full_env.update(PREFECT_HOME=str(home), PREFECT_PROFILES_PATH=str(home / "profiles.toml"))
    full_env.update(env or {})
    store = tmp_path / name
    proc = subprocess.run(
        [sys.executable, "-m", "wiredesk.cli", "run", "--input", str(ONE_PAGE), "--store", str(store), *args],
        cwd=tmp_path,
        env=full_env,
        text=True,
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return proc, store, home


def _run_log(store: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(store) as db:
        return db.execute("SELECT run_id, flow, status FROM runs").fetchall()


def _articles(store: Path) -> list[tuple]:
    with sqlite3.connect(store) as db:
        return db.execute(
            "SELECT id, source, location, title, content_hash, cluster_id, published, language FROM articles"
        ).fetchall()


def _check_order(startup: dict) -> None:
    """The milestones come in the order they happen (no durations asserted)."""
    assert startup["imports_seconds"] is not None and startup["first_page_seconds"] is not None
    assert 0 < startup["imports_seconds"] <= startup["seconds"] <= startup["first_page_seconds"]
    assert startup["first_page_seconds"] <= startup["total_seconds"]


def _flow_run(api_url: str, run_id: str):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        run = client.read_flow_run(uuid.UUID(run_id))
        children = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[run.id]))
        )
    return run, children


def test_cold_run_without_a_server_runs_directly_and_reports_start_up(tmp_path: Path) -> None:
    proc, store, home = _run(tmp_path, "--json", "--no-export")
    summary = json.loads(proc.stdout)
    startup = summary["startup"]
    assert startup["mode"] == "direct" and startup["flow_run"] is False
    assert startup["api_url"] is None and startup["server_ready_seconds"] is None
    _check_order(startup)
    assert startup["total_seconds"] == summary["wall_seconds"]
    assert summary["stored"] == 1 and summary["sources"][0]["status"] == "ok"
    # no Prefect server was started: nothing created its database in the Prefect home
    assert not (home / "prefect.db").exists()
    # the run is in the store's run log, as a flow run's would be
    assert _run_log(store) == [(summary["run_id"], "ingest", "completed")]

    again, _, _ = _run(tmp_path, "--no-export")  # the text summary says how it started
    assert "start-up " in again.stdout and "no Prefect server running" in again.stdout
    assert "already seen 1" in again.stdout


@pytest.mark.prefect
def test_a_running_server_is_reused_and_the_run_is_a_flow_run_on_it(tmp_path: Path, prefect_api: str) -> None:
    proc, store, home = _run(tmp_path, "--json", "--no-export", env={"PREFECT_API_URL": prefect_api})
    summary = json.loads(proc.stdout)
    startup = summary["startup"]
    assert (startup["mode"], startup["api_url"], startup["found_by"]) == ("server", prefect_api, "PREFECT_API_URL")
    assert startup["flow_run"] is True
    _check_order(startup)
    assert not (home / "prefect.db").exists()  # no second server: nothing of Prefect's started here
    run, children = _flow_run(prefect_api, summary["run_id"])
    assert run.name and run.state.is_completed() and run.flow_id is not None
    assert children == []  # one source: its batches are task runs of this flow run, no subflow
    assert _run_log(store) == [(summary["run_id"], "ingest", "completed")]


@pytest.mark.prefect
def test_the_local_server_of_wiredesk_serve_is_reused(tmp_path: Path, prefect_api: str) -> None:
    from wiredesk.flows.server import SERVER_RECORD, default_home

    store = tmp_path / "store.db"
    serve_home = default_home(str(store))  # where `wiredesk serve --store store.db` keeps its server's record
    serve_home.mkdir(parents=True)
    # this test process stands in for the serve process; the server it names is a real, running one
    record = {"pid": os.getpid(), "pgid": os.getpid(), "serve_pid": os.getpid(), "url": prefect_api[: -len("/api")]}
    (serve_home / SERVER_RECORD).write_text(json.dumps(record), encoding="utf-8")

    proc, _, home = _run(tmp_path, "--json", "--no-export")
    startup = json.loads(proc.stdout)["startup"]
    assert startup["mode"] == "server" and startup["api_url"] == prefect_api
    assert startup["found_by"].startswith("wiredesk serve")
    assert not (home / "prefect.db").exists()
    run, _ = _flow_run(prefect_api, json.loads(proc.stdout)["run_id"])
    assert run.state.is_completed()


def test_a_dead_serve_record_or_a_silent_server_is_not_used(tmp_path: Path) -> None:
    from wiredesk.flows.server import SERVER_RECORD, running_api

    home = tmp_path / "prefect"
    home.mkdir()
    env = {"PREFECT_HOME": str(tmp_path), "PREFECT_PROFILES_PATH": str(tmp_path / "none.toml")}
    assert running_api(home, env) is None  # no record
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    url = "http://127.0.0.1:9"  # nothing answers on the discard port
    for serve_pid in (int(dead.stdout), os.getpid()):  # a serve that died; a live one whose server does not answer
        (home / SERVER_RECORD).write_text(json.dumps({"serve_pid": serve_pid, "url": url}), encoding="utf-8")
        assert running_api(home, env) is None
    # PREFECT_API_URL wins, as the user set it; then the active profile's
    assert running_api(home, env | {"PREFECT_API_URL": "http://h:1/api"}) == ("http://h:1/api", "PREFECT_API_URL")
    (tmp_path / "none.toml").write_text(
        'active = "work"\n[profiles.work]\nPREFECT_API_URL = "http://p:2/api"\n[profiles.ephemeral]\n',
        encoding="utf-8",
    )
    assert running_api(home, env) == ("http://p:2/api", "PREFECT_API_URL (profile)")
    assert running_api(home, env | {"PREFECT_PROFILE": "ephemeral"}) is None


@pytest.mark.slow
def test_embedded_server_on_request_is_a_flow_run_and_stops_with_the_run(tmp_path: Path) -> None:
    proc, store, home = _run(tmp_path, "--json", "--no-export", "--embedded-server")
    summary = json.loads(proc.stdout)
    startup = summary["startup"]
    assert startup["mode"] == "embedded" and startup["flow_run"] is True
    assert startup["server_ready_seconds"] is not None and startup["server_ready_seconds"] <= startup["seconds"]
    _check_order(startup)
    # the flow run is in the embedded server's database, in this run's Prefect home, Completed
    with sqlite3.connect(home / "prefect.db") as db:
        rows = db.execute("SELECT state_type FROM flow_run WHERE id = ?", (summary["run_id"],)).fetchall()
    assert rows == [("COMPLETED",)]
    assert _run_log(store) == [(summary["run_id"], "ingest", "completed")]
    # and the server did not outlive the run
    from wiredesk.flows.server import _healthy

    assert not _healthy(startup["api_url"], timeout_s=2.0)


@pytest.mark.prefect
def test_direct_and_flow_runs_store_and_export_the_same(tmp_path: Path, prefect_api: str) -> None:
    direct, direct_store, _ = _run(tmp_path, "--json", "--out", str(tmp_path / "direct.jsonl"), name="direct.db")
    flow, flow_store, _ = _run(
        tmp_path,
        "--json",
        "--out",
        str(tmp_path / "flow.jsonl"),
        name="flow.db",
        env={"PREFECT_API_URL": prefect_api},
    )
    a, b = json.loads(direct.stdout), json.loads(flow.stdout)
    assert (a["startup"]["mode"], b["startup"]["mode"]) == ("direct", "server")
    varying = {"run_id", "wall_seconds", "pipeline_seconds", "startup", "export", "sources"}
    assert {k: v for k, v in a.items() if k not in varying} == {k: v for k, v in b.items() if k not in varying}
    assert [dict(r, seconds=0) for r in a["sources"]] == [dict(r, seconds=0) for r in b["sources"]]
    assert _articles(direct_store) == _articles(flow_store) and len(_articles(direct_store)) == 1

    def records(path: Path) -> list[dict]:
        return [
            {k: v for k, v in json.loads(line).items() if k != "fetched_at"}
            for line in path.read_text(encoding="utf-8").splitlines()
        ]

    assert records(tmp_path / "direct.jsonl") == records(tmp_path / "flow.jsonl") != []


@pytest.mark.parametrize(("args", "status"), [(["--version"], 0), (["run", "--help"], 0), (["run", "--bogus"], 2)])
def test_the_command_ends_with_its_own_status_and_all_its_output(tmp_path: Path, args: list[str], status: int) -> None:
    """The `wiredesk` process ends without module teardown (os._exit after the atexit handlers): the
    status is still the command's, and what it printed is all there."""
    proc = subprocess.run(
        [sys.executable, "-m", "wiredesk.cli", *args], cwd=tmp_path, text=True, capture_output=True, timeout=120
    )
    assert proc.returncode == status, proc.stderr
    assert (proc.stdout + proc.stderr).strip()
    if "--help" in args:
        assert "--embedded-server" in proc.stdout and "--verbose" in proc.stdout.splitlines()[-1]  # to the end


def _api(api_url: str, path: str, body: dict) -> Any:
    import urllib.request

    request = urllib.request.Request(
        f"{api_url}{path}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - the test server, loopback
        return json.load(answer)


@pytest.mark.prefect
def test_one_source_on_a_running_server_is_a_flow_run_made_beside_the_pipeline(
    tmp_path: Path, prefect_api: str
) -> None:
    """The flow run's half runs in a forked process (flows/oneshot.py) while the CLI process imports the
    pipeline: the server still shows an `ingest` flow run with the run's parameters, its final state,
    its logs and artifacts, and the store's run is that flow run (its id, written while it ran)."""
    proc, store, _ = _run(tmp_path, "--json", "--no-export", env={"PREFECT_API_URL": prefect_api})
    summary = json.loads(proc.stdout)
    startup = summary["startup"]
    assert startup["flow_run_seconds"] is not None  # the flow run was made by the forked process
    assert startup["imports_seconds"] <= startup["seconds"] and startup["flow_run_seconds"] <= startup["seconds"]
    assert startup["children_cpu_seconds"] > 0  # the flow-run process ended before the summary
    run, children = _flow_run(prefect_api, summary["run_id"])
    assert run.state.is_completed() and children == []
    assert run.parameters["inputs"] == [str(ONE_PAGE)] and run.parameters["store"] == str(store)
    assert run.parameters["export"] is False and run.parameters["fail_on"] == "source"
    flows = _api(prefect_api, "/flows/filter", {"flows": {"id": {"any_": [str(run.flow_id)]}}})
    assert [f["name"] for f in flows] == ["ingest"]
    logs = _api(prefect_api, "/logs/filter", {"logs": {"flow_run_id": {"any_": [str(run.id)]}}})
    messages = [entry["message"] for entry in logs]
    assert any(m.startswith("source local: ") and "'stored': 1" in m for m in messages), messages
    assert any("Finished in state Completed" in m for m in messages), messages
    artifacts = _api(prefect_api, "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [str(run.id)]}}})
    assert {a["key"] for a in artifacts} >= {"ingest-summary", "ingest-sources", "ingest-source-local"}
    assert _api(prefect_api, "/task_runs/filter", {"flow_runs": {"id": {"any_": [str(run.id)]}}}) == []
    # the pipeline ran inside the flow run: the store's run began after the flow run started
    with sqlite3.connect(store) as db:
        (started,) = db.execute("SELECT started_at FROM runs WHERE run_id = ?", (summary["run_id"],)).fetchone()
    from datetime import UTC, datetime

    began = datetime.fromisoformat(str(started)).replace(tzinfo=UTC)  # stored in UTC, without its zone
    assert run.start_time is not None and began >= run.start_time
    assert _run_log(store) == [(summary["run_id"], "ingest", "completed")]


@pytest.mark.prefect
def test_a_failed_run_beside_the_flow_run_fails_the_flow_run(tmp_path: Path, prefect_api: str) -> None:
    """--fail-on any with a page that yields no article: exit 1, and the flow run ends Failed (its
    message says why), as the in-process flow run does."""
    empty = tmp_path / "empty.html"
    empty.write_text("<html><body></body></html>", encoding="utf-8")
    home = tmp_path / "prefect-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
    env.update(PREFECT_HOME=str(home), PREFECT_PROFILES_PATH=str(home / "profiles.toml"), PREFECT_API_URL=prefect_api)
    proc = subprocess.run(
        [sys.executable, "-m", "wiredesk.cli", "run", "--input", str(empty), "--store", str(tmp_path / "s.db")]
        + ["--no-export", "--json", "--fail-on", "any"],
        cwd=tmp_path,
        env=env,
        text=True,
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["startup"]["flow_run_seconds"] is not None and summary["failed"] == 1
    run, _ = _flow_run(prefect_api, summary["run_id"])
    assert run.state.is_failed() and "failed" in (run.state.message or "")


def test_an_unreachable_server_is_a_one_line_error_and_nothing_is_stored(tmp_path: Path) -> None:
    """PREFECT_API_URL names a server that does not answer: one line, exit 1, no run in the store."""
    home = tmp_path / "prefect-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
    env.update(PREFECT_HOME=str(home), PREFECT_PROFILES_PATH=str(home / "profiles.toml"))
    env["PREFECT_API_URL"] = "http://127.0.0.1:9/api"  # the discard port: nothing answers
    store = tmp_path / "s.db"
    proc = subprocess.run(
        [sys.executable, "-m", "wiredesk.cli", "run", "--input", str(ONE_PAGE), "--store", str(store), "--no-export"],
        cwd=tmp_path,
        env=env,
        text=True,
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wiredesk: error: ") and "127.0.0.1:9" in lines[0], proc.stderr
    assert not store.exists() or _run_log(store) == []


@pytest.mark.prefect
def test_a_wrong_input_with_a_running_server_makes_no_flow_run(tmp_path: Path, prefect_api: str) -> None:
    """The forked flow-run process makes the flow run only once the inputs are checked."""
    before = _api(prefect_api, "/flow_runs/count", {})
    home = tmp_path / "prefect-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
    env.update(PREFECT_HOME=str(home), PREFECT_PROFILES_PATH=str(home / "profiles.toml"), PREFECT_API_URL=prefect_api)
    proc = subprocess.run(
        [sys.executable, "-m", "wiredesk.cli", "run", "--input", str(tmp_path / "missing.html")]
        + ["--store", str(tmp_path / "s.db"), "--no-export"],
        cwd=tmp_path,
        env=env,
        text=True,
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == 2 and proc.stderr.startswith("wiredesk: error: "), proc.stderr
    assert _api(prefect_api, "/flow_runs/count", {}) == before


def test_warm_up_runs_the_first_page_into_a_scratch_store_and_touches_nothing_of_the_run(tmp_path: Path) -> None:
    """The warm-up a run beside its flow run does while the flow run is made: the pipeline on the run's first
    page, into a scratch store with its own index; the configured store, index and export see nothing."""
    import tempfile

    from wiredesk.pipeline.run import resolve_config
    from wiredesk.pipeline.warmup import first_page_file, warm_up

    store, out = tmp_path / "store.db", tmp_path / "corpus.jsonl"
    config = resolve_config(None, store=str(store), out=str(out))
    # a shared index nobody answers at: the warm-up must not use it (it would fail, and return False)
    config = config.model_copy(
        update={"store": config.store.model_copy(update={"dedup_index": SecretStr("redis://127.0.0.1:9/0")})}
    )
    before = set(Path(tempfile.gettempdir()).glob("wiredesk-warmup-*"))
    assert warm_up(config, [str(ONE_PAGE)]) is True
    assert not store.exists() and not out.exists()
    assert set(Path(tempfile.gettempdir()).glob("wiredesk-warmup-*")) == before  # its scratch folder is gone
    archive = tmp_path / "a.warc.gz"
    archive.write_bytes(b"")
    assert first_page_file([str(archive), str(ONE_PAGE)]) == ONE_PAGE
    assert warm_up(config, [str(archive)]) is False  # no page file: nothing to warm up


@pytest.mark.prefect
def test_a_named_source_on_a_running_server_keeps_the_flow_run_in_the_process(tmp_path: Path, prefect_api: str) -> None:
    """`--source NAME` (a configured source: its fetches are bounded inside the flow run) is not run beside
    a forked flow-run process: the flow run is this process's, with its task runs."""
    config = tmp_path / "wiredesk.yaml"
    config.write_text(f"sources:\n  - name: desk\n    paths: [{ONE_PAGE}]\n", encoding="utf-8")
    proc, store, _ = _run(
        tmp_path,
        "--json",
        "--no-export",
        "--source",
        "desk",
        "--config",
        str(config),
        env={"PREFECT_API_URL": prefect_api},
    )
    summary = json.loads(proc.stdout)
    assert summary["startup"]["mode"] == "server" and summary["startup"]["flow_run_seconds"] is None
    assert summary["stored"] == 1
    run, _ = _flow_run(prefect_api, summary["run_id"])
    tasks = _api(prefect_api, "/task_runs/filter", {"flow_runs": {"id": {"any_": [str(run.id)]}}})
    assert run.state.is_completed() and tasks != []  # the beside path makes none (the pipeline is not Prefect's)
