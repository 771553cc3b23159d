"""The Prefect server `wiredesk serve` starts when no ``PREFECT_API_URL`` is set.

Prefect's own ephemeral API (``SubprocessASGIServer``) runs no scheduler service, so schedules
registered against it never produce a run. A real ``prefect server start`` does: it runs the
scheduler, the late-runs and the cancellation services and serves the UI. So serve starts one,
as its child, on loopback, with its state (database, logs) under the data directory.

Lifecycle, so that no server outlives its serve process:
- ``<home>/serve.lock`` is held (``flock``) by the serve process for its whole life: a second
  serve on the same home stops with one line; the kernel releases it when serve dies, even by
  ``kill -9``.
- the server runs in its own process group and, on Linux, gets SIGTERM when its parent dies
  (``PR_SET_PDEATHSIG``), so a ``kill -9`` of serve takes the server down with it;
- ``<home>/server.json`` records the server's pid and process group: the next serve on that
  home stops a server a dead serve left behind (elsewhere than Linux, or if the signal was
  missed) before it starts its own.

That record also dates the serve: when it started, and (its modification time, touched every
``HEARTBEAT_S`` while serve lives) when it was last seen alive. A record found at the next start
means its serve died without stopping: ``LocalPrefectServer.dead_serve`` tells recovery
(``flows.recovery``) which runs ended as that serve died.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO

from wiredesk.core.errors import ConfigError, WiredeskError

DEFAULT_PORT = 4200  # Prefect's own default: the UI at http://127.0.0.1:4200
STARTUP_TIMEOUT_S = 180.0  # a first start creates and migrates the database: ~20 s idle, more when busy
STOP_GRACE_S = 15.0
HEARTBEAT_S = 5.0  # how often a living serve touches its server record
SERVER_RECORD = "server.json"
SERVE_LOCK = "serve.lock"
SERVER_LOG = "server.log"


def prefect_executable() -> str:
    """The ``prefect`` command of this interpreter's environment."""
    beside = Path(sys.executable).with_name("prefect")
    if beside.exists():
        return str(beside)
    found = shutil.which("prefect")
    if found is None:
        raise WiredeskError("cannot find the `prefect` command beside this Python", reason="prefect-server")
    return found


def _die_with_parent() -> None:
    """In the child before exec: Linux sends SIGTERM when the parent (serve) dies, even by kill -9."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the server record covers it at the next start
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _is_prefect_server(pid: int) -> bool:
    """Is ``pid`` a `prefect server start` (not an unrelated process that reused the pid)?"""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return _alive(pid)  # no /proc: trust the record
    return b"server" in argv and b"start" in argv and any(b"prefect" in a for a in argv)


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # as the server itself binds: connections of a stopped server in TIME_WAIT do not count
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class DeadServe:
    """A serve that died without stopping on this home: when it started, when it was last seen alive
    (its server record's last heartbeat: it died at most ``HEARTBEAT_S`` later, load permitting)."""

    serve_pid: int | None
    started: datetime | None
    last_seen: datetime


def dead_serve(home: Path) -> DeadServe | None:
    """The serve that left its server record in ``home`` (it died without stopping), or None.
    Call with the lock held: no living serve holds this home then."""
    record_path = Path(home) / SERVER_RECORD
    try:
        last_seen = datetime.fromtimestamp(record_path.stat().st_mtime, UTC)
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict):
        return None
    try:
        started = datetime.fromisoformat(record["started"]) if record.get("started") else None
    except (TypeError, ValueError):
        started = None
    pid = record.get("serve_pid")
    return DeadServe(serve_pid=pid if isinstance(pid, int) else None, started=started, last_seen=last_seen)


class LocalPrefectServer:
    """A `prefect server start` owned by this process: ``with LocalPrefectServer(home) as server:``."""

    def __init__(self, home: Path, *, port: int = DEFAULT_PORT, host: str = "127.0.0.1") -> None:
        if not 1 <= port <= 65535:
            raise ConfigError(f"serve: --port must be between 1 and 65535 (got {port})")
        self.home = Path(home).absolute()
        self.host = host
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self._lock_fd: int | None = None
        self._log: IO[bytes] | None = None
        self._heartbeat: threading.Event | None = None
        self.dead_serve: DeadServe | None = None  # the serve before this one, if it died without stopping

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    @property
    def log_path(self) -> Path:
        return self.home / SERVER_LOG

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> LocalPrefectServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self, timeout_s: float = STARTUP_TIMEOUT_S) -> None:
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"serve: cannot create the Prefect home {self.home} ({exc.strerror or exc})") from None
        self._take_lock()
        try:
            self.dead_serve = dead_serve(self.home)
            reap_stale_server(self.home)
            if not _port_free(self.host, self.port):
                raise ConfigError(
                    f"serve: port {self.port} on {self.host} is in use (another Prefect server? use it with "
                    f"PREFECT_API_URL={self.url}/api, or give serve another --port)"
                )
            self._spawn()
            self._wait_healthy(timeout_s)
        except BaseException:
            self.stop()
            raise

    def _take_lock(self) -> None:
        fd = os.open(self.home / SERVE_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise ConfigError(
                f"serve: another `wiredesk serve` (pid {holder}) is using the Prefect home {self.home}"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd

    def _spawn(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
        env.update(
            PREFECT_HOME=str(self.home),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="true",
            PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED="true",
            PREFECT_UI_API_URL=self.api_url,
        )
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        self.process = subprocess.Popen(
            [prefect_executable(), "server", "start", "--host", self.host, "--port", str(self.port)],
            env=env,
            cwd=self.home,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Ctrl-C to serve is serve's to handle
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only prctl, before exec
        )
        record = {
            "pid": self.process.pid,
            "pgid": self.process.pid,
            "serve_pid": os.getpid(),
            "url": self.url,
            "started": datetime.now(UTC).isoformat(),
        }
        (self.home / SERVER_RECORD).write_text(json.dumps(record), encoding="utf-8")
        self._heartbeat = threading.Event()
        threading.Thread(
            target=_beat, args=(self.home / SERVER_RECORD, self._heartbeat), name="serve-heartbeat", daemon=True
        ).start()

    def _wait_healthy(self, timeout_s: float) -> None:
        import httpx

        assert self.process is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise WiredeskError(
                    f"the local Prefect server exited ({self.process.returncode}) while starting: "
                    f"{_last_line(self.log_path)} (log: {self.log_path})",
                    reason="prefect-server",
                )
            try:
                if httpx.get(f"{self.api_url}/health", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise WiredeskError(
            f"the local Prefect server did not answer on {self.url} within {timeout_s:g}s (log: {self.log_path})",
            reason="prefect-server",
        )

    def stop(self) -> None:
        """Stop the server (SIGTERM to its group, SIGKILL after a grace period) and release the home."""
        if self._heartbeat is not None:
            self._heartbeat.set()
            self._heartbeat = None
        if self.process is not None:
            _stop_group(self.process.pid, wait=self.process.wait)
            self.process = None
            (self.home / SERVER_RECORD).unlink(missing_ok=True)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None


def _beat(record: Path, stopped: threading.Event) -> None:
    """Touch the server record every ``HEARTBEAT_S`` until serve stops: its mtime is serve's last sign of life."""
    while not stopped.wait(HEARTBEAT_S):
        try:
            os.utime(record)
        except OSError:  # removed by stop(): serve is stopping
            return


def _stop_group(pgid: int, *, wait: object = None) -> None:
    try:
        os.killpg(pgid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + STOP_GRACE_S
    while time.monotonic() < deadline:
        if callable(wait):
            try:
                wait(timeout=0.2)  # type: ignore[call-arg]
                break
            except subprocess.TimeoutExpired:
                continue
        elif not _alive(pgid):
            break
        time.sleep(0.2)
    try:
        os.killpg(pgid, signal.SIGKILL)  # whatever is left of the group
    except (ProcessLookupError, PermissionError):
        pass


def reap_stale_server(home: Path) -> bool:
    """Stop the server a dead serve left under ``home``; True if there was one. Call with the lock held."""
    record_path = Path(home) / SERVER_RECORD
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        pid, pgid = int(record["pid"]), int(record["pgid"])
    except (OSError, ValueError, KeyError, TypeError):
        record_path.unlink(missing_ok=True)
        return False
    stale = _alive(pid) and _is_prefect_server(pid)
    if stale:
        _stop_group(pgid)
    record_path.unlink(missing_ok=True)
    return stale


def _last_line(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1].strip()[:300] if lines else "no output"


def default_home(store_url: str) -> Path:
    """Where the embedded server keeps its state: ``prefect/`` in the data directory (beside a
    SQLite store, else ``./data``)."""
    from urllib.parse import urlsplit

    if "://" not in store_url or urlsplit(store_url).scheme in ("sqlite", "file"):
        path = store_url.split("///", 1)[-1] if "://" in store_url else store_url
        return Path(path).expanduser().absolute().parent / "prefect"
    return Path("data").absolute() / "prefect"


# -- a one-shot `wiredesk run`: reuse a running server, else (when asked) start the embedded one --


def _healthy(api_url: str, timeout_s: float = 1.0) -> bool:
    """Does a Prefect API answer ``/health`` at ``api_url``? (urllib: no httpx import for a probe)."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout_s) as answer:  # noqa: S310
            return answer.status == 200
    except (OSError, ValueError, urllib.error.URLError):
        return False


def _profile_api_url(environ: dict[str, str]) -> str | None:
    """PREFECT_API_URL of the active Prefect profile (``prefect config set``), read without importing
    prefect: ``$PREFECT_PROFILES_PATH`` or ``$PREFECT_HOME/profiles.toml``, profile ``$PREFECT_PROFILE`` or
    the file's ``active``."""
    import tomllib

    home = Path(environ.get("PREFECT_HOME") or "~/.prefect").expanduser()
    path = Path(environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        with open(path, "rb") as f:
            profiles = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return None
    name = environ.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    value = profiles.get("profiles", {}).get(name, {}).get("PREFECT_API_URL")
    return str(value) if value else None


def local_serve_api(home: Path) -> str | None:
    """The API URL of a running `wiredesk serve` whose local server keeps its state in ``home``."""
    try:
        record = json.loads((Path(home) / SERVER_RECORD).read_text(encoding="utf-8"))
        os.kill(int(record["serve_pid"]), 0)  # its serve still running?
        return f"{record['url']}/api"
    except (OSError, ValueError, KeyError, TypeError):
        return None


def configured_api(environ: dict[str, str] | None = None) -> tuple[str, str] | None:
    """``PREFECT_API_URL`` as the user set it (the environment; Prefect's own settings when prefect is
    already imported; the active profile), and where it was found; None: not set. Needs no config."""
    own = environ is None  # this process's environment, not one a caller describes
    environ = dict(os.environ if environ is None else environ)
    if environ.get("PREFECT_API_URL"):
        return environ["PREFECT_API_URL"], "PREFECT_API_URL"
    if own and "prefect.settings" in sys.modules:  # already paid for: Prefect's answer (settings contexts too)
        from prefect.settings import PREFECT_API_URL

        if PREFECT_API_URL.value():
            return str(PREFECT_API_URL.value()), "PREFECT_API_URL (settings)"
    profile = _profile_api_url(environ)
    if profile:
        return profile, "PREFECT_API_URL (profile)"
    return None


def running_api(home: Path, environ: dict[str, str] | None = None) -> tuple[str, str] | None:
    """The Prefect API a one-shot run should use, and where it was found, or None (no server).

    In order: ``PREFECT_API_URL`` (the environment; Prefect's own settings when prefect is already
    imported, as in a test session; the active profile), taken as the user set it, reachable or not;
    then the local server of a `wiredesk serve` on ``home``, if it answers. ``environ``: look in this
    environment instead of the process's (Prefect's settings are then not consulted).
    """
    configured = configured_api(environ)
    if configured is not None:
        return configured
    local = local_serve_api(home)
    if local and _healthy(local):
        return local, f"wiredesk serve ({home})"
    return None


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class EmbeddedServer:
    """Prefect's ephemeral API server (what Prefect itself starts when no PREFECT_API_URL is set, the
    same ``uvicorn prefect.server.api.server:create_app`` with UI and services off), spawned by us at the
    start of a one-shot run so that it starts while this process imports, loads and reads pages.

    The parent imports nothing of ``prefect.server`` (about 3 s): the child does. The child dies with its
    parent (``PR_SET_PDEATHSIG``) and ``stop()`` ends its process group. Its database is Prefect's
    default one under ``PREFECT_HOME``, as for Prefect's own ephemeral server.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        import importlib.util

        spec = importlib.util.find_spec("prefect")
        if spec is None or spec.origin is None:
            raise WiredeskError("prefect is not installed", reason="prefect-server")
        self.host = host
        self.port = _free_port(host)
        self.started = time.monotonic()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_URL")}
        env.update(PREFECT_UI_ENABLED="0", PREFECT__SERVER_EPHEMERAL="1", PREFECT__SERVER_FINAL="1")
        env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        import tempfile

        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - the child's stderr, read if it fails
        self.process: subprocess.Popen[bytes] | None = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(Path(spec.origin).parent.parent),
                "--factory",
                "prefect.server.api.server:create_app",
                "--host",
                host,
                "--port",
                str(self.port),
                "--log-level",
                "error",
                "--lifespan",
                "on",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            start_new_session=True,  # its own group: stop() ends it and whatever it started
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only prctl, before exec
        )
        self.ready_after: float | None = None

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/api"

    def wait_ready(self, timeout_s: float = STARTUP_TIMEOUT_S) -> float:
        """Block until the server answers; the seconds from spawn to ready. A server that exits or does
        not answer in time is a one-line error."""
        assert self.process is not None
        deadline = self.started + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._log.seek(0)
                err = self._log.read().decode(errors="replace")
                last = next((line for line in reversed(err.splitlines()) if line.strip()), "no output")
                raise WiredeskError(
                    f"the embedded Prefect server exited ({self.process.returncode}) while starting: {last[:300]}",
                    reason="prefect-server",
                )
            if _healthy(self.api_url, timeout_s=2.0):
                self.ready_after = time.monotonic() - self.started
                return self.ready_after
            time.sleep(0.05)
        self.stop()
        raise WiredeskError(
            f"the embedded Prefect server did not answer on {self.api_url} within {timeout_s:g}s "
            "(set PREFECT_API_URL to use a running server)",
            reason="prefect-server",
        )

    def stop(self) -> None:
        if self.process is not None:
            _stop_group(self.process.pid, wait=self.process.wait)
            self.process = None
        self._log.close()

    def __enter__(self) -> EmbeddedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
