"""The ``serve``, ``trigger`` and ``deployments`` commands: operating wiredesk through Prefect.

    wiredesk serve                      serve every scheduled deployment (+ ingest/all, export/corpus)
    wiredesk trigger NAME --param k=v   create a flow run of deployment NAME (ingest/NAME)
    wiredesk deployments                list what `serve` would register

The work is in ``flows.deployments``; this module only parses arguments and prints.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wiredesk.core.errors import ConfigError
from wiredesk.core.redact import has_password, redact_url

EXIT_OK, EXIT_FAILED = 0, 1


def add_commands(subparsers: Any, add_store: Callable[[argparse.ArgumentParser], None]) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="serve the scheduled deployments (and ingest/all, export/corpus) in this process until interrupted",
    )
    serve.add_argument("--only", nargs="+", metavar="NAME", help="serve only these deployments (NAME or FLOW/NAME)")
    serve.add_argument("--no-manual", action="store_true", help="do not serve ingest/all and export/corpus")
    serve.add_argument("--paused", action="store_true", help="register the schedules paused")
    serve.add_argument("--limit", type=int, metavar="N", help="at most N flow runs at once in this process")
    serve.add_argument(
        "--port",
        type=int,
        metavar="N",
        help="without PREFECT_API_URL: port of the local Prefect server and UI (default 4200)",
    )
    serve.add_argument(
        "--prefect-home",
        metavar="DIR",
        help="without PREFECT_API_URL: the local server's state (default: prefect/ in the data directory)",
    )
    serve.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="print only warnings and errors (the Prefect UI still gets every run's logs)",
    )
    add_store(serve)

    trig = subparsers.add_parser("trigger", help="start a run of a deployment through the Prefect API")
    trig.add_argument("name", metavar="NAME", help="deployment: a source name (ingest/NAME), or FLOW/NAME")
    trig.add_argument(
        "--param",
        "-p",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="flow parameter; VALUE is read as JSON when it parses, else as a string (repeatable)",
    )
    trig.add_argument(
        "--wait",
        type=float,
        nargs="?",
        const=-1.0,
        default=0,
        metavar="SECONDS",
        help="follow the run and exit with its outcome (0 Completed, 1 otherwise); "
        "with SECONDS, give up after that long (default: return once it is scheduled)",
    )
    trig.add_argument(
        "--queue",
        action="store_true",
        help="create the run even when nothing serves the deployment (it waits until serve or a worker runs)",
    )
    trig.add_argument(
        "--prefect-home",
        metavar="DIR",
        help="without PREFECT_API_URL: the local server of `wiredesk serve` (default: prefect/ in the data directory)",
    )
    trig.add_argument("--json", action="store_true", help="print the flow run as JSON")
    add_store(trig)

    dep = subparsers.add_parser("deployments", help="list the deployments `wiredesk serve` would register")
    dep.add_argument("--json", action="store_true")
    dep.add_argument(
        "--prefect-yaml",
        action="store_true",
        help="print a prefect.yaml with these deployments on a work pool (for `prefect deploy --all`)",
    )
    dep.add_argument(
        "--pool", default="wiredesk", metavar="NAME", help="work pool for --prefect-yaml (default wiredesk)"
    )
    add_store(dep)


def parse_params(items: list[str]) -> dict[str, Any]:
    """``["limit=5", "sources=[\\"a\\"]", "since=2026-11-01"]`` -> ``{"limit": 5, "sources": ["a"], ...}``."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ConfigError(f"trigger: --param expects KEY=VALUE (got {item!r})")
        try:
            params[key] = json.loads(raw)
        except ValueError:
            params[key] = raw  # a bare string: since=2026-11-01, store=./data/x.db
    return params


def _prefect_env(*, quiet: bool) -> None:
    """Before prefect is imported. Quiet means a quiet console only: the loggers stay at INFO,
    so the runs' logs still reach the API and the UI (PREFECT_LOGGING_LEVEL would cut both)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if quiet:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")


def _plans(args: argparse.Namespace, *, only: list[str] | None = None, manual: bool = True):
    from wiredesk.config import load_config
    from wiredesk.flows.deployments import DeploymentSettings, plan_deployments

    config = load_config(args.config)
    # The config file a run reads is the one named here, or else the one the environment names:
    # pin it as a parameter so runs started later (UI, trigger) agree with this process.
    config_path = args.config or os.environ.get("WIREDESK_CONFIG")
    settings = DeploymentSettings(manual=manual, paused=getattr(args, "paused", False))
    return plan_deployments(config, config_path=config_path, store=args.store, settings=settings, only=only), settings


def _prefect_home(args: argparse.Namespace) -> Path:
    """The embedded server's state: --prefect-home, else ``prefect/`` in the data directory."""
    if args.prefect_home:
        return Path(args.prefect_home).expanduser().absolute()
    from wiredesk.config import load_config
    from wiredesk.flows.server import default_home

    return default_home(args.store or load_config(args.config).store.dsn)


def cmd_serve(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise ConfigError(f"serve: --limit must be at least 1 (got {args.limit})")
    from wiredesk.config import load_config

    load_config(args.config, stages=True)  # every config problem now, not in the first scheduled run
    _prefect_env(quiet=args.quiet)
    # Look for due runs every 5 s, not Prefect's 10 s: a scheduled run starts closer to its tick.
    os.environ.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", "5")
    import signal

    # Ctrl-C stops serve (and its server) even when a shell started it in the background,
    # where SIGINT is ignored by default.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    home = _prefect_home(args)  # used only when no PREFECT_API_URL is set (environment or profile)
    if args.store is not None and has_password(args.store):
        # Never a flow parameter (the UI and the API show those): the runs serve starts are its
        # subprocesses and read the store from their environment instead.
        os.environ["WIREDESK_STORE__URL"] = args.store
        args.store = None
    plans, settings = _plans(args, only=args.only, manual=not args.no_manual)
    from wiredesk.flows.deployments import build_deployments, serve

    deployments = build_deployments(plans, settings=settings)
    if not args.quiet:
        for plan in plans:
            when = f"cron {plan.cron!r} ({plan.timezone})" if plan.scheduled else "manual"
            print(f"serving {plan.full_name}: {when}", file=sys.stderr)
    serve(deployments, limit=args.limit, announce=not args.quiet, home=home, port=args.port)
    return EXIT_OK


def cmd_trigger(args: argparse.Namespace) -> int:
    if args.wait is not None and args.wait < 0 and args.wait != -1.0:
        raise ConfigError(f"trigger: --wait must not be negative (got {args.wait:g})")
    wait_s = None if args.wait == -1.0 else args.wait  # bare --wait: follow the run to its end
    params = parse_params(args.param)
    _prefect_env(quiet=True)
    from wiredesk.core.errors import WiredeskError
    from wiredesk.flows.deployments import NothingServing, local_serve_api, trigger

    # trigger() prefers PREFECT_API_URL (environment or Prefect profile); this is its fallback.
    local_api = local_serve_api(_prefect_home(args))

    try:
        run = trigger(args.name, params, wait_s=wait_s, queue=args.queue, local_api=local_api)
    except NothingServing as exc:
        raise WiredeskError(str(exc), reason="not-served") from None
    if args.json:
        print(json.dumps(run.as_dict(), default=str, indent=2))
    else:
        print(
            f"{run.deployment}: flow run {run.flow_run_name} ({run.flow_run_id}) is {run.state}"
            + (f": {run.message}" if run.message and run.final else "")
            + ("" if run.served else " (queued: nothing serves it yet)")
            + (f"\n  {run.ui_url}" if run.ui_url else "")
        )
    if wait_s == 0:
        return EXIT_OK
    if run.final:
        return EXIT_OK if run.state == "Completed" else EXIT_FAILED
    print(f"wiredesk: error: flow run still {run.state} after {wait_s:g}s", file=sys.stderr)
    return EXIT_FAILED


def cmd_deployments(args: argparse.Namespace) -> int:
    if args.prefect_yaml:
        from wiredesk.config import load_config
        from wiredesk.flows.deployments import DeploymentSettings, plan_deployments, render_prefect_yaml

        # No config path in the parameters: a worker's own $WIREDESK_CONFIG names its config.
        settings = DeploymentSettings()
        plans = plan_deployments(load_config(args.config), store=args.store, settings=settings)
        sys.stdout.write(render_prefect_yaml(plans, pool=args.pool, settings=settings))
        return EXIT_OK
    plans, _ = _plans(args)
    if args.json:
        rows = [
            {
                "name": p.full_name,
                "entrypoint": p.entrypoint,
                "cron": p.cron,
                "timezone": p.timezone,
                "parameters": p.parameters,
                "description": p.description,
            }
            for p in plans
        ]
        print(redact_url(json.dumps(rows, indent=2)))
        return EXIT_OK
    for plan in plans:
        when = f"{plan.cron}  ({plan.timezone})" if plan.scheduled else "manual"
        params = redact_url(json.dumps(plan.parameters)) if plan.parameters else ""
        print(f"{plan.full_name:<32} {when:<34} {params}")
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "serve": cmd_serve,
    "trigger": cmd_trigger,
    "deployments": cmd_deployments,
}
