"""The Docker image's recipe and the compose file, checked without building anything (cheap, in CI).

The image itself is built and run by scripts/docker-smoke.sh (minutes: not in CI)."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
ENV_EXAMPLE = ROOT / "docker" / "compose.env.example"


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per Dockerfile instruction, continuation lines joined."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


# ---- Dockerfile -------------------------------------------------------------------------------


def test_base_image_is_an_arg_used_by_every_from():
    steps = instructions(DOCKERFILE)
    assert steps[0][0] == "ARG" and steps[0][1].startswith("PYTHON_IMAGE="), (
        "the Dockerfile must open with ARG PYTHON_IMAGE"
    )
    froms = [args for word, args in steps if word == "FROM"]
    assert len(froms) >= 2, "a build stage and a runtime stage"
    for args in froms:
        assert re.fullmatch(r"\$\{?PYTHON_IMAGE\}?( AS \w+)?", args, re.IGNORECASE), (
            f"FROM {args} does not use PYTHON_IMAGE"
        )


def test_image_python_matches_requires_python():
    default = dict(a.split("=", 1) for w, a in instructions(DOCKERFILE) if w == "ARG" and "=" in a)["PYTHON_IMAGE"]
    found = re.search(r"python:(\d+\.\d+)", default)
    assert found, f"cannot read a Python version from PYTHON_IMAGE={default}"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    requires = SpecifierSet(pyproject["project"]["requires-python"])
    assert found.group(1) in requires, f"image Python {found.group(1)} is outside requires-python {requires}"
    # ruff checks the code for the same Python (target-version py311 <-> python:3.11)
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + found.group(1).replace(".", "")


def test_runtime_stage_runs_wiredesk_with_a_healthcheck_and_a_data_volume():
    steps = instructions(DOCKERFILE)
    last_from = max(i for i, (w, _) in enumerate(steps) if w == "FROM")
    runtime = steps[last_from:]
    words = [w for w, _ in runtime]
    assert ("ENTRYPOINT", '["wiredesk"]') in runtime
    assert "CMD" in words and "HEALTHCHECK" in words
    assert any(w == "VOLUME" and "/data" in a for w, a in runtime)
    # no compiler and no pip in the runtime stage; what apt installs there leaves no package lists behind
    for word, args in runtime:
        if word == "RUN":
            assert not re.search(r"\bpip3?\s+install\b|\b(gcc|g\+\+|build-essential|python3?-dev)\b", args), args
            assert "apt-get install" not in args or ("/var/lib/apt/lists/*" in args and "/var/cache/apt/*" in args), (
                args
            )
    # the build stage upgrades pip first and installs against constraints.txt
    build = [a for w, a in steps[:last_from] if w == "RUN"]
    assert "--upgrade" in build[0] and "pip" in build[0]
    assert any("-c constraints.txt" in a for a in build)


def test_dockerignore_keeps_local_state_out_of_the_context():
    rules = [
        r.strip() for r in (ROOT / ".dockerignore").read_text().splitlines() if r.strip() and not r.startswith("#")
    ]
    assert rules[0] == "*", "a whitelist: everything is excluded, then the few things the image needs"
    included = {r[1:].strip("/") for r in rules if r.startswith("!")}
    assert not included & {".venv", "data", "tests", "bench", ".git", ".env"}
    copied = set()
    for word, args in instructions(DOCKERFILE):
        if word == "COPY" and not args.startswith("--from"):
            copied.update(p.split("/")[0] for p in args.split()[:-1])
    assert copied <= included, f"the Dockerfile copies {sorted(copied - included)}, which .dockerignore excludes"


@pytest.mark.skipif(shutil.which("sh") is None, reason="no sh")
def test_entrypoint_script_parses():
    subprocess.run(["sh", "-n", str(ROOT / "docker" / "entrypoint.sh")], check=True)
    subprocess.run(["sh", "-n", str(ROOT / "docker" / "slim-venv.sh")], check=True)


# ---- the image's healthcheck --------------------------------------------------------------------


def load_healthcheck():
    spec = importlib.util.spec_from_file_location("wiredesk_healthcheck", ROOT / "docker" / "healthcheck.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_proc(tmp_path: Path, *argvs: list[str]) -> Path:
    proc = tmp_path / "proc"
    for pid, argv in enumerate(argvs, start=1):
        (proc / str(pid)).mkdir(parents=True)
        (proc / str(pid) / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    (proc / "self").mkdir()
    return proc


def test_healthcheck_finds_serve_and_workers(tmp_path):
    health = load_healthcheck()
    assert health.service(fake_proc(tmp_path / "a", ["/opt/venv/bin/python", "/opt/venv/bin/wiredesk", "run"])) is None
    serve = fake_proc(
        tmp_path / "b", ["sh"], ["/opt/venv/bin/python", "/opt/venv/bin/wiredesk", "serve", "--limit", "2"]
    )
    assert health.service(serve) == "serve"
    worker = ["/opt/venv/bin/python", "/opt/venv/bin/prefect", "worker", "start", "--pool", "p", "--with-healthcheck"]
    assert health.service(fake_proc(tmp_path / "c", worker)) == "worker"
    assert health.service(fake_proc(tmp_path / "d", worker[:-1])) is None  # no webserver to ask


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):  # noqa: N802 - the http.server API
        self.send_response(self.status if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def health_server():
    server = HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_healthcheck_asks_the_runner_webserver(tmp_path, monkeypatch, health_server, capsys):
    health = load_healthcheck()
    proc = fake_proc(tmp_path, ["python", "/usr/local/bin/wiredesk", "serve"])
    monkeypatch.setenv("PREFECT_RUNNER_SERVER_HOST", "127.0.0.1")
    monkeypatch.setenv("PREFECT_RUNNER_SERVER_PORT", str(health_server.server_port))
    assert health.main(proc) == 0
    monkeypatch.setattr(_Health, "status", 503)  # the runner stopped polling
    assert health.main(proc) == 1
    health_server.shutdown()
    health_server.server_close()
    assert health.main(proc) == 1  # nothing answers
    assert health.main(fake_proc(tmp_path / "idle", ["python", "wiredesk", "run"])) == 0
    assert "refused" in capsys.readouterr().out.lower()


def test_healthcheck_runs_as_a_script():
    done = subprocess.run([sys.executable, str(ROOT / "docker" / "healthcheck.py")], capture_output=True, text=True)
    # outside a container this machine may run a `wiredesk serve` of its own: the verdict depends
    # on it, but the script must answer with one line and no traceback either way
    assert done.stderr == ""
    assert re.fullmatch(
        r"(healthy: no serve or worker process to check|(serve|worker): http://\S+ (answered \d+|failed: .*))\n",
        done.stdout,
    )
    assert done.returncode == (0 if "healthy" in done.stdout or "answered 200" in done.stdout else 1)


# ---- compose file -------------------------------------------------------------------------------


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_compose_names_its_services_and_volumes():
    doc = compose()
    services = doc["services"]
    assert {"postgres", "redis", "prefect-server", "deploy", "worker"} <= set(services)
    assert set(doc["volumes"]) >= {"postgres-data", "redis-data", "corpus"}
    for name, service in services.items():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if not source.startswith((".", "/", "$")):
                assert source in doc["volumes"], f"service {name} mounts an undeclared volume {source}"
    # the workers poll the work pool that prefect.yaml's deployments name
    pools = {d["work_pool"]["name"] for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]}
    worker = services["worker"]
    command = worker["command"]
    assert worker["entrypoint"] == ["prefect"] and command[:2] == ["worker", "start"]
    assert {command[command.index("--pool") + 1]} == pools
    assert "${WIREDESK_WORKERS" in str(worker["deploy"]["replicas"])
    # every wiredesk process shares one store (PostgreSQL) and one dedup index (Redis), on one Prefect API
    env = worker["environment"]
    assert env["WIREDESK_STORE__URL"].startswith("postgresql://") and "@postgres:" in env["WIREDESK_STORE__URL"]
    assert env["WIREDESK_STORE__DEDUP_INDEX"].startswith("redis://") and "@redis:" in env["WIREDESK_STORE__DEDUP_INDEX"]
    assert env["PREFECT_API_URL"] == "http://prefect-server:4200/api"
    server_db = services["prefect-server"]["environment"]["PREFECT_API_DATABASE_CONNECTION_URL"]
    assert server_db.startswith("postgresql+asyncpg://") and "@postgres:" in server_db


def _strings(node, key=""):
    """(key, string) for every string in the document; list items carry their list's key."""
    if isinstance(node, str):
        yield key, node
    elif isinstance(node, dict):
        for name, value in node.items():
            yield from _strings(value, str(name))
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item, key)


def test_compose_holds_no_secret():
    variables = set()
    for key, value in _strings(compose()):
        if re.search(r"PASSWORD|SECRET|TOKEN|_AUTH", key, re.IGNORECASE):
            assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", value), f"{key} must come from the env file, not {value!r}"
        for password in re.findall(r"://[^/:@\s]*:([^@\s]+)@", value):
            assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", password), f"a password written into a URL: {value}"
        variables.update(re.findall(r"\$\{(\w+):\?", value))
    assert {"POSTGRES_PASSWORD", "WIREDESK_DB_PASSWORD", "PREFECT_DB_PASSWORD", "REDIS_PASSWORD"} <= variables
    # the example env file names each required variable, with no value in it
    example = dict(
        line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines() if "=" in line and not line.startswith("#")
    )
    for name in variables:
        assert name in example, f"{name} is missing from {ENV_EXAMPLE.name}"
        assert "PASSWORD" not in name or example[name] == "", f"{ENV_EXAMPLE.name} must not hold a password"
