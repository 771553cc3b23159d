"""Deployments built from the config: what `wiredesk serve` serves and `prefect.yaml` mirrors.

One ``ingest/<source>`` deployment per source that has a ``schedule`` (its cron and time zone),
plus manual deployments without a schedule: ``ingest/all`` (every configured source and input,
or the ones named by its ``sources`` parameter) and ``export/corpus``. Every deployment has a
concurrency limit of one. A scheduled tick that finds the previous run still going is
cancelled (``cancel-new``): ticks never queue behind a slow or stuck run. A manual run waits
for its turn (``enqueue``): someone asked for it.

Planning (``plan_deployments``) is plain data and needs neither prefect nor the stage packages;
``build_deployments`` turns the plans into prefect ``RunnerDeployment`` objects.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from wiredesk.config import WiredeskConfig
from wiredesk.core.errors import ConfigError
from wiredesk.flows.server import DeadServe, local_serve_api

if TYPE_CHECKING:  # prefect is imported only when deployments are actually built
    from prefect.deployments.runner import RunnerDeployment

INGEST_FLOW = "ingest"
EXPORT_FLOW = "export"
ALL_SOURCES = "all"  # the manual ingest deployment; a source may not take this name
EXPORT_DEPLOYMENT = "corpus"

# Where each flow lives, as an importable module path: the served run subprocess and a work
# pool's worker import the flow by module, so neither depends on the current directory.
FLOW_ENTRYPOINTS: dict[str, str] = {
    INGEST_FLOW: "wiredesk.flows.ingest.ingest",
    EXPORT_FLOW: "wiredesk.flows.ingest.export_flow",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploymentSettings:
    """How deployments are built (the same for `wiredesk serve` and a work pool)."""

    concurrency_limit: int = 1  # runs of one deployment at a time
    # Manual deployments: a run that would exceed the limit waits for a slot ("enqueue") rather
    # than being dropped ("cancel-new"): a manual trigger during a run must still happen after.
    collision_strategy: Literal["enqueue", "cancel-new"] = "enqueue"
    # Scheduled deployments: an overdue tick is dropped, so ticks never pile up behind a stuck
    # run (nor after a downtime: the late runs are cancelled but one).
    scheduled_collision_strategy: Literal["enqueue", "cancel-new"] = "cancel-new"
    manual: bool = True  # also build ingest/all and export/corpus
    tags: tuple[str, ...] = ("wiredesk",)
    paused: bool = False  # create the schedules paused (a human turns them on in the UI)

    def __post_init__(self) -> None:
        if self.concurrency_limit < 1:
            raise ConfigError(f"deployments: concurrency_limit must be at least 1 (got {self.concurrency_limit})")
        for strategy in (self.collision_strategy, self.scheduled_collision_strategy):
            if strategy not in ("enqueue", "cancel-new"):
                raise ConfigError(f"deployments: collision_strategy must be enqueue or cancel-new (got {strategy!r})")

    def strategy_for(self, plan: DeploymentPlan) -> str:
        return self.scheduled_collision_strategy if plan.scheduled else self.collision_strategy


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploymentPlan:
    """One deployment, as data: what to run, with which parameters, on which schedule."""

    flow: str  # INGEST_FLOW or EXPORT_FLOW
    name: str  # the deployment's own name; the full name is "<flow>/<name>"
    parameters: dict[str, Any] = field(default_factory=dict)
    cron: str | None = None
    timezone: str | None = None
    description: str = ""
    tags: tuple[str, ...] = ()

    @property
    def full_name(self) -> str:
        return f"{self.flow}/{self.name}"

    @property
    def entrypoint(self) -> str:
        return FLOW_ENTRYPOINTS[self.flow]

    @property
    def scheduled(self) -> bool:
        return self.cron is not None


def plan_deployments(
    config: WiredeskConfig,
    *,
    config_path: str | Path | None = None,
    store: str | None = None,
    settings: DeploymentSettings = DeploymentSettings(),
    only: Sequence[str] | None = None,
) -> list[DeploymentPlan]:
    """The deployments for ``config``: scheduled sources first, then the manual ones.

    ``config_path`` (made absolute) and ``store`` become default parameters of every
    deployment, so a run started by the schedule, the UI or `wiredesk trigger` reads the same
    config and writes the same store as the process that registered it. ``only`` keeps the
    deployments with those names (``ingest/x``, or just ``x`` for ingest deployments).
    """
    common: dict[str, Any] = {}
    if config_path is not None:
        common["config_path"] = str(Path(config_path).resolve())
    if store is not None:
        _refuse_secret(store)
        common["store"] = store
    plans: list[DeploymentPlan] = []
    for source in config.sources:
        if source.schedule is None:
            continue
        if source.name == ALL_SOURCES:
            raise ConfigError(f"source name {ALL_SOURCES!r} is reserved for the manual ingest/{ALL_SOURCES} deployment")
        plans.append(
            DeploymentPlan(
                flow=INGEST_FLOW,
                name=source.name,
                parameters={"sources": [source.name], **common},
                cron=source.schedule.cron,
                timezone=source.schedule.timezone,
                description=f"Ingest source {source.name} on schedule {source.schedule.cron!r} ({source.schedule.timezone})",
                tags=(*settings.tags, f"source:{source.name}"),
            )
        )
    if settings.manual:
        plans.append(
            DeploymentPlan(
                flow=INGEST_FLOW,
                name=ALL_SOURCES,
                parameters=dict(common),
                description="Ingest every configured source and input; pass sources=[...] to run only some",
                tags=settings.tags,
            )
        )
        plans.append(
            DeploymentPlan(
                flow=EXPORT_FLOW,
                name=EXPORT_DEPLOYMENT,
                parameters=dict(common),
                description="Write the corpus export from the store",
                tags=settings.tags,
            )
        )
    if only:
        wanted = {qualify(name) for name in only}
        unknown = wanted - {p.full_name for p in plans}
        if unknown:
            known = ", ".join(p.full_name for p in plans) or "none"
            raise ConfigError(f"no deployment named {', '.join(sorted(unknown))} (known: {known})")
        plans = [p for p in plans if p.full_name in wanted]
    if not plans:
        raise ConfigError("nothing to serve: no source has a schedule and manual deployments are off")
    return plans


def _refuse_secret(store: str) -> None:
    """Deployment parameters are shown in the Prefect UI and API: never put a password there."""
    from urllib.parse import urlsplit

    try:
        password = urlsplit(store).password
    except ValueError:
        password = None
    if password:
        raise ConfigError(
            "a URL with a password would be shown with the run's parameters in the Prefect UI: "
            "put it in the config file or in WIREDESK_STORE__URL for `wiredesk serve` or the worker "
            "(runs read the config by its path), or give it to `wiredesk serve --store`"
        )


def qualify(name: str) -> str:
    """``x`` -> ``ingest/x``; ``flow/x`` unchanged. The name users type to `wiredesk trigger`."""
    name = name.strip()
    if not name or name.startswith("/") or name.endswith("/"):
        raise ConfigError(f"not a deployment name: {name!r} (expected NAME or FLOW/NAME)")
    return name if "/" in name else f"{INGEST_FLOW}/{name}"


def build_deployments(
    plans: Sequence[DeploymentPlan], *, settings: DeploymentSettings = DeploymentSettings()
) -> list[RunnerDeployment]:
    """prefect ``RunnerDeployment`` objects for ``plans`` (for ``prefect.serve``)."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    from wiredesk import __version__
    from wiredesk.flows.ingest import export_flow, ingest

    flows = {INGEST_FLOW: ingest, EXPORT_FLOW: export_flow}
    strategies = {"enqueue": ConcurrencyLimitStrategy.ENQUEUE, "cancel-new": ConcurrencyLimitStrategy.CANCEL_NEW}
    deployments = []
    for plan in plans:
        strategy = strategies[settings.strategy_for(plan)]
        schedules = [Cron(plan.cron, timezone=plan.timezone)] if plan.cron else None
        deployments.append(
            flows[plan.flow].to_deployment(
                name=plan.name,
                schedules=schedules,
                paused=settings.paused if schedules else None,
                concurrency_limit=ConcurrencyLimitConfig(limit=settings.concurrency_limit, collision_strategy=strategy),
                parameters=dict(plan.parameters),
                description=plan.description,
                tags=list(plan.tags),
                version=__version__,
                entrypoint_type=EntrypointType.MODULE_PATH,
            )
        )
    return deployments


@dataclass(frozen=True, slots=True, kw_only=True)
class TriggeredRun:
    """A flow run created from a deployment (and its state when we stopped looking)."""

    deployment: str  # full name, flow/deployment
    flow_run_id: str
    flow_run_name: str
    state: str  # state name: Scheduled, Pending, Running, Completed, Failed, ...
    final: bool  # the state is final (completed, failed, crashed, cancelled)
    parameters: dict[str, Any] = field(default_factory=dict)
    api_url: str | None = None
    ui_url: str | None = None  # the run's page in the Prefect UI, when the API names a UI
    served: bool = True  # a runner or worker was polling for the deployment when it was created
    message: str | None = None  # the state's message (why it failed, was cancelled...)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


# A deployment counts as served when a runner (`wiredesk serve`) or a worker polled for its runs
# this recently; both poll every few seconds (Prefect marks it NOT_READY after 60 s).
SERVED_WITHIN_S = 90.0


class NothingServing(Exception):
    """Raised by ``trigger`` (without ``queue``) when no runner or worker would pick the run up."""


def trigger(
    name: str,
    parameters: dict[str, Any] | None = None,
    *,
    wait_s: float | None = 0,
    queue: bool = False,
    local_api: str | None = None,
) -> TriggeredRun:
    """Create a flow run of deployment ``name`` (``x`` means ``ingest/x``) through the Prefect API.

    The API is ``PREFECT_API_URL``, else ``local_api`` (the server of a running `wiredesk
    serve`). Unless ``queue``, the deployment must be served (polled recently by `wiredesk
    serve` or a worker), else a one-line ``WiredeskError``: a run nobody picks up would happen
    by surprise, much later. ``wait_s`` 0 returns once the run is scheduled; ``None`` follows it
    to a final state; more waits up to that long. Unknown deployments and unreachable APIs are
    one-line ``ConfigError`` / ``WiredeskError``s, never tracebacks.
    """
    import httpx
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

    from wiredesk.core.errors import WiredeskError

    full_name = qualify(name)
    for value in (parameters or {}).values():
        if isinstance(value, str) and "://" in value:
            _refuse_secret(value)
    api_url = PREFECT_API_URL.value() or local_api
    if api_url is None:
        raise WiredeskError(
            "nothing is serving: PREFECT_API_URL is not set and no `wiredesk serve` runs with this "
            "config's data directory (start `wiredesk serve`, or set PREFECT_API_URL to your Prefect server)",
            reason="not-served",
        )
    ui_base = PREFECT_UI_URL.value() or (api_url[: -len("/api")] if api_url.endswith("/api") else None)
    try:
        with temporary_settings(updates={PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
            try:
                deployment = client.read_deployment_by_name(full_name)
            except ObjectNotFound:
                known = sorted(_deployment_names(client))
                raise ConfigError(
                    f"no deployment {full_name!r} at {api_url} "
                    f"(known: {', '.join(known) or 'none; start `wiredesk serve` or run `prefect deploy --all`'})"
                ) from None
            # The server checks values against the flow's signature but lets unknown names through,
            # and the run would then fail in its worker: catch a typo'd name here, while a human looks.
            accepted = set((deployment.parameter_openapi_schema or {}).get("properties", {}))
            unknown = sorted(set(parameters or {}) - accepted) if accepted else []
            if unknown:
                raise ConfigError(
                    f"deployment {full_name!r} has no parameter {', '.join(unknown)} (known: {', '.join(sorted(accepted))})"
                )
            served = served_recently(deployment)
            if not served and not queue:
                raise NothingServing(
                    f"nothing is serving {full_name} at {api_url} ({_last_polled(deployment)}): start `wiredesk serve`"
                    + (f" or a worker for pool {deployment.work_pool_name!r}" if deployment.work_pool_name else "")
                    + ", or pass --queue to leave the run scheduled until one does"
                )
            run = run_deployment(
                full_name,
                parameters=dict(parameters or {}),
                timeout=wait_s,
                poll_interval=1,
                as_subflow=False,
                client=client,
            )
    except PrefectHTTPStatusError as exc:  # before httpx.HTTPError: it is one
        # 409/422: the server refused the parameters (they are checked against the flow's signature)
        detail = _response_detail(exc)
        raise ConfigError(f"deployment {full_name!r} refused the run: {detail}") from None
    except httpx.HTTPError as exc:
        raise WiredeskError(
            f"cannot reach the Prefect API at {api_url}: {_one_line(exc)}", reason="prefect-api"
        ) from None
    state = run.state
    return TriggeredRun(
        deployment=full_name,
        flow_run_id=str(run.id),
        flow_run_name=run.name,
        state=state.name if state else "unknown",
        final=bool(state and state.is_final()),
        parameters=dict(run.parameters),
        api_url=api_url,
        ui_url=f"{ui_base.rstrip('/')}/runs/flow-run/{run.id}" if ui_base else None,
        served=served,
        message=(state.message or None) if state else None,
    )


def served_recently(deployment: Any, *, within_s: float = SERVED_WITHIN_S) -> bool:
    """Did a runner or worker poll for this deployment's runs within ``within_s``?"""
    from datetime import UTC, datetime

    polled = getattr(deployment, "last_polled", None)
    if polled is None:
        return False
    return (datetime.now(UTC) - polled).total_seconds() <= within_s


def _last_polled(deployment: Any) -> str:
    from datetime import UTC, datetime

    polled = getattr(deployment, "last_polled", None)
    if polled is None:
        return "never polled"
    return f"last polled {(datetime.now(UTC) - polled).total_seconds():.0f} s ago"


def _deployment_names(client: Any) -> list[str]:
    flows = {f.id: f.name for f in client.read_flows()}
    return [f"{flows.get(d.flow_id, '?')}/{d.name}" for d in client.read_deployments()]


def _response_detail(exc: Any) -> str:
    """The server's own reason (``detail``) when it gave one, else the status line."""
    try:
        detail = exc.response.json().get("detail")
    except Exception:  # not JSON, or no response: the status line will do
        detail = None
    return _one_line(ValueError(str(detail))) if detail else _one_line(exc)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


PREFECT_YAML_HEADER = """\
# wiredesk deployments for a Prefect server and a work pool.
#
#   prefect work-pool create wiredesk --type process       # once
#   prefect deploy --all                                   # from the repository root
#   prefect worker start --pool wiredesk                   # on every machine that runs ingests
#
# Entrypoints are module paths: a worker imports the installed wiredesk package (the Docker
# image, or `pip install .`), so nothing is pulled. Workers run flows in a scratch directory:
# give them the config and an absolute store through the environment, e.g.
#   WIREDESK_CONFIG=/etc/wiredesk.yaml  WIREDESK_STORE__URL=postgresql://wiredesk@db/wiredesk
# Regenerate the per-source deployments from your config with:
#   wiredesk deployments --config YOUR.yaml --prefect-yaml --pool wiredesk > prefect.yaml
"""


def render_prefect_yaml(
    plans: Sequence[DeploymentPlan],
    *,
    pool: str = "wiredesk",
    queue: str | None = None,
    settings: DeploymentSettings = DeploymentSettings(),
) -> str:
    """A ``prefect.yaml`` holding the same deployments as ``plans``, for ``prefect deploy --all``."""
    import yaml

    from wiredesk import __version__

    work_pool: dict[str, Any] = {"name": pool}
    if queue:
        work_pool["work_queue_name"] = queue
    deployments = []
    for plan in plans:
        entry: dict[str, Any] = {
            "name": plan.name,
            "entrypoint": plan.entrypoint,
            "description": plan.description,
            "version": __version__,
            "tags": list(plan.tags),
            "parameters": dict(plan.parameters),
            "concurrency_limit": {
                "limit": settings.concurrency_limit,
                "collision_strategy": settings.strategy_for(plan).upper().replace("-", "_"),
            },
            "schedules": (
                [{"cron": plan.cron, "timezone": plan.timezone, "active": not settings.paused}] if plan.cron else []
            ),
            "work_pool": dict(work_pool),
        }
        deployments.append(entry)
    document = {
        "name": "wiredesk",
        "prefect-version": _prefect_version(),
        "build": None,
        "push": None,
        "pull": [],
        "deployments": deployments,
    }
    return PREFECT_YAML_HEADER + "\n" + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)


def _prefect_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("prefect")
    except PackageNotFoundError:  # pragma: no cover - prefect is a dependency
        return "3"


def serve(
    deployments: Sequence[RunnerDeployment],
    *,
    limit: int | None = None,
    announce: bool = True,
    home: Path | None = None,
    port: int | None = None,
) -> None:
    """Register ``deployments`` and run their schedules and triggered runs until interrupted.

    With ``PREFECT_API_URL`` set, against that server. Without it, against a `prefect server
    start` this process starts and stops (``flows.server``: its scheduler is what makes
    schedules fire), with its state in ``home``. Either way, runs a crashed serve left
    unfinished are set Crashed first, and stopping serve leaves the schedules active.
    """
    from prefect.settings import PREFECT_API_URL

    from wiredesk.flows.server import DEFAULT_PORT, LocalPrefectServer

    names = [f"{d.flow_name}/{d.name}" for d in deployments]
    if PREFECT_API_URL.value():
        _serve_against(
            str(PREFECT_API_URL.value()), deployments, names, limit=limit, announce=announce, exclusive=False
        )
        return
    if home is None:
        raise ConfigError("serve: no PREFECT_API_URL and no Prefect home for the local server")
    server = LocalPrefectServer(home, port=port or DEFAULT_PORT)
    if announce:
        print(f"starting a local Prefect server on {server.url} (state and log in {server.home}) ...", file=sys.stderr)
    with server:
        if announce:
            print(
                f"Prefect server for this process: {server.url} (UI), API {server.api_url}, state in {server.home}; "
                f"it stops with serve (set PREFECT_API_URL to serve against a shared server instead)",
                file=sys.stderr,
            )
        # Every flow run serve starts is a subprocess: it must talk to this server too.
        os.environ["PREFECT_API_URL"] = server.api_url
        os.environ["PREFECT_UI_URL"] = server.url
        _serve_against(
            server.api_url,
            deployments,
            names,
            limit=limit,
            announce=announce,
            exclusive=True,
            dead_serve=server.dead_serve,
        )


def _serve_against(
    api_url: str,
    deployments: Sequence[RunnerDeployment],
    names: Sequence[str],
    *,
    limit: int | None,
    announce: bool,
    exclusive: bool,
    dead_serve: DeadServe | None = None,
) -> None:
    import prefect
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

    from wiredesk.flows.recovery import crash_orphaned_runs

    updates: dict[Any, Any] = {PREFECT_API_URL: api_url}
    if exclusive:
        updates[PREFECT_UI_URL] = api_url.removesuffix("/api")
    with temporary_settings(updates=updates):
        ended = crash_orphaned_runs(names, exclusive=exclusive, dead_serve=dead_serve)
        if ended and announce:
            print(
                f"set Crashed {len(ended)} run(s) a dead serve left unfinished or that ended with it: {', '.join(ended)}",
                file=sys.stderr,
            )
        # pause_on_shutdown=False: stopping serve must not pause the schedules (with a shared
        # server, workers or the next serve go on running them).
        prefect.serve(*deployments, limit=limit, print_starting_message=announce, pause_on_shutdown=False)


__all__ = [
    "ALL_SOURCES",
    "DeploymentPlan",
    "DeploymentSettings",
    "EXPORT_DEPLOYMENT",
    "FLOW_ENTRYPOINTS",
    "TriggeredRun",
    "NothingServing",
    "build_deployments",
    "local_serve_api",
    "plan_deployments",
    "qualify",
    "render_prefect_yaml",
    "serve",
    "trigger",
]
