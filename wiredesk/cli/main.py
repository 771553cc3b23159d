"""The ``wiredesk`` command line: run, extract, export, clusters, stats, serve, trigger.

Every error prints one line, ``wiredesk: error: ...``, and no traceback. Exit statuses:
0 done; 1 the work failed (a store that exists but cannot be used or is locked, a failed
source, an export that could not be written); 2 what was typed is wrong (argument, config key
or value, input path, a store or folder that does not exist); 130 interrupted. Prefect is
imported only by the commands that run flows, after its environment defaults are set.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections.abc import Sequence
from typing import Any

from wiredesk import __version__
from wiredesk.core.errors import ConfigError, InputError, NoStoreError, WiredeskError, did_you_mean

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXPORT_FORMATS = ["jsonl", "jsonl.gz", "parquet", "csv"]
# What the user typed was wrong: fix the command line or the config and run again.
USAGE_ERRORS = (ConfigError, InputError, NoStoreError)


def _process_age() -> float:
    """Seconds since this process started (Linux ``/proc``; 0 elsewhere): the interpreter's own start-up
    and the imports before this module count in a run's start-up too."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])  # field 22, starttime, in clock ticks
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


# When the command started, for an honest wall time (Prefect's start-up included): the process's start
# for the first command of a process, the call of main() for any later one (in-process callers, tests).
STARTED = time.monotonic() - _process_age()
_first_command = True


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        # main() prints "wiredesk: error: "; name the subcommand only ("run: ..."), not the program twice.
        where = self.prog.removeprefix("wiredesk").strip()
        raise ConfigError(f"{where}: {message}" if where else message)

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        if action.choices is not None and value not in action.choices:
            choices = [str(c) for c in action.choices]
            hint = did_you_mean(str(value), choices)
            if isinstance(action, argparse._SubParsersAction):
                raise argparse.ArgumentError(None, f"unknown command {value!r}{hint} (commands: {', '.join(choices)})")
            name = argparse._get_action_name(action) or "argument"
            raise argparse.ArgumentError(
                None, f"{name}: invalid choice: {value!r}{hint} (choose from {', '.join(choices)})"
            )


def _prefect_env(verbose: bool) -> None:
    """Defaults that make Prefect quiet and offline-safe unless the user chose otherwise."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Quiet the console only: the API (and so the UI) still gets every run's INFO logs.
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "INFO" if verbose else "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_LOG_PRINTS", "false")


def _add_store(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store", metavar="PATH_OR_URL", help="SQLite file or postgresql:// URL (default: config store.url)"
    )
    p.add_argument("--config", metavar="FILE", help="config file (default: $WIREDESK_CONFIG or the embedded defaults)")


_SIGNATURES_HELP = "add a 'signature' field: each text's 128 MinHash values (datasketch-compatible)"


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="wiredesk", description="News ingestion and syndication-grade deduplication.")
    parser.add_argument("--version", action="version", version=f"wiredesk {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="ingest pages: read or fetch, extract, dedup, store, export")
    run.add_argument(
        "--input",
        nargs="+",
        metavar="PATH",
        help="page files, directories or globs (.html .htm .txt, optionally .gz; web archives .warc .warc.gz .arc.gz)",
    )
    run.add_argument("--source", nargs="+", metavar="NAME", help="configured sources to run (default: all)")
    run.add_argument(
        "--manifest", metavar="JSONL", help="sidecar metadata: one {file, url?, published?, source?} per line"
    )
    run.add_argument("--out", metavar="PATH", help="corpus export written after the run (default: config export.out)")
    run.add_argument("--format", choices=EXPORT_FORMATS, help="export format")
    run.add_argument("--all", action="store_true", default=None, help="export every copy, not only distinct articles")
    run.add_argument("--no-export", action="store_true", help="do not write the corpus export")
    run.add_argument("--signatures", action="store_true", default=None, help=_SIGNATURES_HELP)
    run.add_argument("--limit", type=int, metavar="N", help="at most N pages per source")
    run.add_argument("--since", metavar="DATE", help="only pages published on or after DATE (ISO 8601)")
    run.add_argument("--batch-size", type=int, metavar="N", help="pages per task run / store transaction")
    run.add_argument("--workers", type=int, metavar="N", help="extraction processes (default: one per core)")
    run.add_argument("--dry-run", action="store_true", help="read and extract, store nothing")
    run.add_argument(
        "--embedded-server",
        action="store_true",
        help="with no Prefect server running, start Prefect's embedded one and make this a flow run "
        "(default: config run.without_server, direct: run the pipeline in this process, no flow run)",
    )
    run.add_argument(
        "--fail-on",
        choices=["none", "source", "any"],
        default="source",
        help="exit 1 when: any source failed entirely (source, the default), any page failed too (any), never (none)",
    )
    _add_store(run)
    _add_output(run)

    ext = sub.add_parser("extract", help="print the cleaned text of one page file")
    ext.add_argument("file", metavar="FILE")
    ext.add_argument("--json", action="store_true", help="print the whole extracted record as JSON")
    ext.add_argument("--url", help="the page's URL (for metadata and credit detection)")

    exp = sub.add_parser("export", help="write the corpus (atomically) with a manifest.json")
    exp.add_argument("--out", metavar="PATH", help="output file (default: config export.out)")
    exp.add_argument("--format", choices=EXPORT_FORMATS)
    exp.add_argument("--all", action="store_true", default=None, help="include every duplicate with duplicate_of set")
    exp.add_argument(
        "--incremental", action="store_true", help="only what is new or changed since the last export to OUT"
    )
    exp.add_argument("--partition-by-date", action="store_true", help="parquet: one file per publication date")
    exp.add_argument("--signatures", action="store_true", default=None, help=_SIGNATURES_HELP)
    _add_store(exp)
    exp.add_argument("--json", action="store_true")

    clu = sub.add_parser("clusters", help="list clusters of copies, or show one")
    clu.add_argument("cluster_id", nargs="?", metavar="ID")
    clu.add_argument(
        "--min-size", type=_positive, default=2, metavar="N", help="only clusters with at least N members (default 2)"
    )
    clu.add_argument("--limit", type=_positive, default=50, metavar="N", help="at most N clusters (default 50)")
    clu.add_argument("--json", action="store_true")
    _add_store(clu)

    st = sub.add_parser("stats", help="the corpus at a glance")
    st.add_argument("--json", action="store_true")
    _add_store(st)

    from wiredesk.cli import schedule as cli_schedule

    cli_schedule.add_commands(sub, _add_store)
    return parser


def _add_output(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    p.add_argument("--verbose", "-v", action="store_true", help="show Prefect's logs")


def _store_url(args: argparse.Namespace) -> str:
    from wiredesk.config import load_config

    config = load_config(args.config)
    check_named_folder("--store", args.store)
    return args.store or config.store.dsn


def check_named_folder(flag: str, value: str | None) -> None:
    """A file named on the command line must be in a folder that exists: a mistyped folder is
    an error, not silently created. (The config's own paths, such as the default ./data, are
    created on first use: a config is written once, on purpose.)"""
    if value is None:
        return
    from pathlib import Path

    if flag == "--store":
        from wiredesk.storage.targets import resolve

        path = resolve(value).sqlite_path
        if path is None:  # a database URL: its server says whether it exists
            return
    else:
        path = Path(value).expanduser().absolute()
    if not path.parent.is_dir():
        raise ConfigError(f"{flag} {value}: no folder {path.parent} (create it first, or check the spelling)")


def cmd_run(args: argparse.Namespace) -> int:
    _prefect_env(args.verbose)
    early = _fork_flow_process_early(args)
    try:
        return _cmd_run(args, early)
    finally:
        if early is not None:
            early.abort()  # at once if it was not used (no flow run is made); else a no-op once it ended


def _prestart_extraction(args: argparse.Namespace, loaded: Any, early: Any) -> None:
    """A run of a folder (or of many page files) over several workers in this process: the
    extraction pool's warm process (``extractors.pool.prestart``) is forked now, once the config is
    loaded (it inherits those imports), so its warm-up runs beside this process's remaining set-up
    instead of after it, and this process never warms up; killed at exit if no pool takes it."""
    if not args.input or early is not None or loaded.run.task_runner != "default" or not _may_fork():
        return
    from wiredesk.extractors.settings import ExtractSettings

    fewest = loaded.extract.get("pool_min_batch", ExtractSettings().pool_min_batch)
    if len(args.input) < fewest and not any(os.path.isdir(path) for path in args.input):
        return  # a few files: extracted in this process, no pool (extract.pool_min_batch)
    from wiredesk.extractors.pool import cpu_count, prestart

    workers = args.workers or loaded.run.workers or cpu_count()
    if workers > 1:
        prestart()


def _fork_flow_process_early(args: argparse.Namespace) -> Any:
    """With ``PREFECT_API_URL`` set (environment or profile) and ``--input`` the run's one source,
    the flow run's half starts at the very start of the process (flows/oneshot.py): its Prefect import
    overlaps even this process's config loading. It makes no flow run before it is told to start: a
    wrong config or input ends it unused."""
    if not args.input or not _one_local_source(args, None) or not _may_fork():
        return None
    from wiredesk.flows.server import configured_api

    found = configured_api()
    if found is None:
        return None
    from wiredesk.flows.oneshot import FlowRunProcess

    return FlowRunProcess(found[0], _flow_params(args))


def _cmd_run(args: argparse.Namespace, early: Any) -> int:
    from wiredesk.config import load_config
    from wiredesk.pipeline.report import RUN_CLOCK

    # Every config problem at once (file, environment, stage sections), before Prefect starts.
    loaded = load_config(args.config, stages=True)
    if not args.input and not args.source and not loaded.inputs and not loaded.sources:
        raise ConfigError("run: give --input PATH [PATH ...] or --source NAME, or configure inputs/sources")
    loaded.check_sources(args.source or [])
    for name, value in (("--limit", args.limit), ("--batch-size", args.batch_size), ("--workers", args.workers)):
        if value is not None and value < 1:
            raise ConfigError(f"run: {name} must be at least 1 (got {value})")
    check_named_folder("--store", args.store)
    if not args.dry_run and not args.no_export:
        check_named_folder("--out", args.out)
    _prestart_extraction(args, loaded, early)
    # Which Prefect, decided before anything heavy is imported: a running server is reused; else the
    # embedded one, if asked for, starts now and gets ready while this process imports and checks.
    from wiredesk.flows.server import EmbeddedServer, default_home, running_api

    found = running_api(default_home(args.store or loaded.store.dsn))
    # Dask's task runner is a Prefect task runner: such a run is always a flow run.
    embedded_wanted = (
        args.embedded_server or loaded.run.without_server == "embedded" or loaded.run.task_runner == "dask"
    )
    startup = Startup(STARTED, found)
    embedded = EmbeddedServer() if found is None and embedded_wanted else None
    if found is not None and _one_local_source(args, loaded) and loaded.run.task_runner == "default":
        # One source on a running server: the flow run's half (Prefect, the API) runs in a forked process,
        # while this one imports the pipeline and checks the inputs (flows/oneshot.py); forked at the
        # process's start when PREFECT_API_URL said where the server is, else (a serve's server) now.
        if early is not None and early.api_url == found[0]:
            startup.flow_process = early
        elif _may_fork():
            from wiredesk.flows.oneshot import FlowRunProcess

            startup.flow_process = FlowRunProcess(found[0], _flow_params(args))
    if early is not None and startup.flow_process is not early:
        early.abort()
    try:
        return _run(args, startup, embedded, RUN_CLOCK)
    finally:
        if startup.flow_process is not None:
            startup.flow_process.abort()  # no-op once the flow run ended; else no flow run is made
        if embedded is not None:
            if "wiredesk.flows.ingest" in sys.modules:  # the run's logs and events, before its server goes
                from wiredesk.flows.oneshot import drain_to_api

                drain_to_api()
            embedded.stop()


def _may_fork() -> bool:
    """A process may be forked for the flow run's half only while it is a bare `wiredesk` command: one
    thread, Prefect not imported (an in-process caller, a test session, runs the flow in its process)."""
    import threading

    return hasattr(os, "fork") and "prefect" not in sys.modules and threading.active_count() == 1


def _one_local_source(args: argparse.Namespace, loaded: Any) -> bool:
    """Whether the run's one source is page files and archives only (``--input``, or the config's
    ``inputs`` with no sources), as ``pipeline.sources.plan_jobs`` plans it, known before the pipeline
    is imported (without the config, ``loaded``, when the command line names inputs or sources). A named
    source (web pages: fetches bounded by ``run.flow_timeout_s`` inside the flow run) keeps the
    in-process flow run."""
    if args.source:
        return False
    if args.input:
        return True
    return bool(loaded.inputs) and not loaded.sources


def _flow_params(args: argparse.Namespace) -> dict[str, Any]:
    """The ``ingest`` flow's parameters for this command line."""
    return dict(**_run_params(args), config_path=args.config, **_overrides(args), fail_on=args.fail_on)


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return round(usage.ru_utime + usage.ru_stime, 3)


class Startup:
    """What a run's start-up took, from the process's start: reported as ``startup`` in the summary."""

    def __init__(self, started: float, found: tuple[str, str] | None) -> None:
        self.started = started
        self.api_url, self.found_by = found if found else (None, None)
        self.mode = "server" if found else "direct"
        self.imported: float | None = None
        self.server_ready: float | None = None
        self.flow_process: Any = None  # flows.oneshot.FlowRunProcess: the flow run's half, in its own process
        self.warmed_up = False  # the first page's first-use costs were paid while the flow run was made

    def since_start(self, when: float | None) -> float | None:
        return None if when is None else round(max(0.0, when - self.started), 3)

    def report(self, clock: dict[str, float], ended: float) -> dict[str, Any]:
        return {
            "mode": self.mode,  # server: a running one reused; embedded: started by this run; direct: no Prefect
            "flow_run": self.mode != "direct",
            "api_url": self.api_url,
            "found_by": self.found_by,
            "seconds": self.since_start(clock.get("pipeline")),  # process start -> the pipeline's work begins
            "imports_seconds": self.since_start(self.imported),
            "server_ready_seconds": self.since_start(self.server_ready),
            # the flow run was Running (made by the forked flow-run process; null: not that path)
            "flow_run_seconds": self.since_start(self.flow_process.running_at if self.flow_process else None),
            "warmed_up": self.warmed_up,
            "first_page_seconds": self.since_start(clock.get("first_page")),
            "total_seconds": self.since_start(ended),
            # CPU seconds so far: this process's, and its ended children's (the flow-run process,
            # extraction workers): with two processes at once, the wall is less than their sum
            "cpu_seconds": _cpu_seconds(resource.RUSAGE_SELF),
            "children_cpu_seconds": _cpu_seconds(resource.RUSAGE_CHILDREN),
        }


def _run(args: argparse.Namespace, startup: Startup, embedded: Any, run_clock: Any) -> int:
    from wiredesk.cli.console import Console

    console = Console(quiet=args.quiet, as_json=args.json)
    from wiredesk.pipeline import resolve_config

    # Validate everything the user typed before the run starts: a typo is one line, not a
    # failed flow run with a traceback.
    config = resolve_config(args.config, **_overrides(args))
    from wiredesk.config import check_writable
    from wiredesk.pipeline.report import check_since
    from wiredesk.pipeline.sources import check_jobs, plan_jobs
    from wiredesk.storage import open_store

    flow_run = startup.mode != "direct" or embedded is not None
    in_process_flow = flow_run and startup.flow_process is None
    if in_process_flow:
        from wiredesk.flows.runners import build_task_runner

        build_task_runner(config.run)  # a missing optional extra is a one-line error, before the run
    check_since(args.since)
    check_jobs(plan_jobs(config, inputs=args.input, sources=args.source, manifest=args.manifest))
    if not args.dry_run:  # a dry run creates nothing: no store, no export, no folders
        if not args.no_export:
            check_writable(config.export.out)
        open_store(config.store.dsn).close()  # an unusable store fails here, in one line
    if in_process_flow:
        from wiredesk.flows.ingest import ingest, run_by_hand  # prefect: 1.5 s and more, only for a flow run
    elif startup.flow_process is not None:
        from wiredesk.pipeline.run import run_ingest  # noqa: F401 - imported now, while the flow run is made

        startup.flow_process.start()  # the inputs are fine: make the flow run
    startup.imported = time.monotonic()
    if embedded is not None:
        embedded.wait_ready()
        startup.server_ready = time.monotonic()
        startup.mode, startup.api_url, startup.found_by = "embedded", embedded.api_url, "started by this run"

    clock: dict[str, float] = {}
    token = run_clock.set(clock)
    try:
        with console.status("ingesting" if startup.mode == "direct" else "ingesting (a Prefect flow run)"):
            if startup.mode == "direct":
                summary = _run_direct(config, args)
            elif startup.flow_process is not None:
                summary = _run_beside_flow(config, args, startup)
            else:
                summary = run_by_hand(
                    ingest,
                    api_url=startup.api_url,
                    **_run_params(args),
                    config_path=args.config,
                    **_overrides(args),
                    fail_on=args.fail_on,
                )
    finally:
        run_clock.reset(token)
    from wiredesk.pipeline.report import run_failed, with_command_time

    summary = with_command_time(summary, startup.started)
    summary["startup"] = startup.report(clock, time.monotonic())
    console.run_summary(summary)
    return EXIT_FAILED if run_failed(summary, args.fail_on) else EXIT_OK


def _run_direct(config: Any, args: argparse.Namespace) -> dict[str, Any]:
    """The run without Prefect: the same pipeline (``run_ingest``: sources at once, batches through this
    process's extraction pool), recorded in the store's run log as the flow's runs are; the same summary."""
    from wiredesk.pipeline.run import run_ingest

    summary, _ = run_ingest(config, **_run_params(args))
    return summary


def _run_beside_flow(config: Any, args: argparse.Namespace, startup: Startup) -> dict[str, Any]:
    """The pipeline in this process as the ``ingest`` flow run's work, made by the forked flow-run process
    (``flows.oneshot``): it begins once the flow run is Running, with the flow run's id as its run id,
    and its summary becomes the flow run's result (the flow run ends when this returns)."""
    from wiredesk.pipeline.run import run_ingest

    flow_process = startup.flow_process
    # While the flow run is being made: the first page's first-use costs, if a core is free for it (on a
    # saturated machine it would only take CPU from the flow-run process, which the run waits for).
    if args.input and not flow_process.ready() and os.getloadavg()[0] < (os.cpu_count() or 1):
        from wiredesk.pipeline.warmup import warm_up

        startup.warmed_up = warm_up(config, args.input)
    run_id = flow_process.wait_running()
    try:
        summary, tallies = run_ingest(config, **_run_params(args), run_id=run_id)
    except BaseException as exc:
        flow_process.fail(exc)
        raise
    flow_process.finish(summary, tallies)
    return summary


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The command line's overrides of the config, as ``resolve_config`` and the flow take them."""
    return dict(
        store=args.store,
        out=args.out,
        export_format=args.format,
        include_duplicates=args.all,
        batch_size=args.batch_size,
        workers=args.workers,
        signatures=args.signatures,
    )


def _run_params(args: argparse.Namespace) -> dict[str, Any]:
    """What a run does, as both the flow and the pipeline take it (the config aside)."""
    return dict(
        inputs=args.input,
        sources=args.source,
        manifest=args.manifest,
        export=not args.no_export,
        dry_run=args.dry_run,
        limit=args.limit,
        since=args.since,
    )


def cmd_extract(args: argparse.Namespace) -> int:
    from pathlib import Path

    from wiredesk.extractors import extract_page
    from wiredesk.fetching.files import read_page

    path = Path(args.file)
    if not path.exists():
        raise InputError(f"extract: {args.file}: no such file")
    from wiredesk.extractors import ExtractSettings

    page = read_page(path, source="cli", max_bytes=ExtractSettings().max_bytes)
    if args.url:
        from dataclasses import replace

        page = replace(page, url=args.url)
    result = extract_page(page)
    if args.json:
        from dataclasses import asdict

        from wiredesk.dedup import content_hash

        record = {
            "path": str(path.resolve()),
            "url": page.url,
            **asdict(result),
            "content_hash": content_hash(result.text),
        }
        print(json.dumps(record, ensure_ascii=False, indent=2))
    else:
        print(result.text)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from wiredesk.config import check_writable, export_target, load_config
    from wiredesk.storage import export_corpus, open_store

    config = load_config(args.config)
    out, fmt = export_target(args.out, args.format, config.export)
    check_named_folder("--store", args.store)
    check_named_folder("--out", args.out)
    include = config.export.include_duplicates if args.all is None else args.all
    signing = None
    if config.export.signatures if args.signatures is None else args.signatures:
        from wiredesk.config.stages import build_stage_settings
        from wiredesk.dedup import Sketcher

        signing = Sketcher(build_stage_settings(config)["dedup"])
    with open_store(args.store or config.store.dsn, create=False) as store:
        check_writable(out)  # after the store is found: a missing store leaves no folder behind
        result = export_corpus(
            store,
            out,
            fmt=fmt,
            include_duplicates=include,
            incremental=args.incremental,
            partition_by_date=args.partition_by_date,
            signing=signing,
        )
    info = result.as_dict() if hasattr(result, "as_dict") else dict(vars(result))
    if args.json:
        print(json.dumps(info, default=str, indent=2))
    else:
        print(f"exported {info['records']} records to {info['out']} (manifest {info['manifest']})")
    return EXIT_OK


def cmd_clusters(args: argparse.Namespace) -> int:
    from wiredesk.cli.console import cluster_row, print_cluster, print_clusters
    from wiredesk.storage import open_store

    with open_store(_store_url(args), create=False) as store:
        if args.cluster_id:
            cluster_id = args.cluster_id
            members = store.cluster_members(cluster_id)
            if not members:  # an article's id (the representative's, or any copy's): its cluster
                article = store.get_articles([cluster_id]).get(cluster_id)
                if article is not None:
                    cluster_id = article.cluster_id
                    members = store.cluster_members(cluster_id)
            if not members:
                raise InputError(f"clusters: no cluster and no article {args.cluster_id!r} in the store")
            print_cluster(cluster_id, members, as_json=args.json)
        else:
            rows = []
            found = store.clusters(min_size=args.min_size)
            for summary in found[: args.limit]:
                members = store.cluster_members(summary.cluster_id)
                rows.append(cluster_row(summary, members))
            print_clusters(rows, as_json=args.json, total=len(found))
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    from wiredesk.cli.console import print_stats
    from wiredesk.storage import open_store

    with open_store(_store_url(args), create=False) as store:
        print_stats(store.stats(), as_json=args.json)
    return EXIT_OK


COMMANDS = {"run": cmd_run, "extract": cmd_extract, "export": cmd_export, "clusters": cmd_clusters, "stats": cmd_stats}


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # argparse would name neither the subcommand nor the option meant
        sub = _subparsers(parser)[args.command]
        options = [opt for action in sub._actions for opt in action.option_strings]
        first = extra[0].split("=", 1)[0]
        hint = did_you_mean(first, options) if first.startswith("-") else ""
        plural = "s" if len(extra) > 1 else ""
        raise ConfigError(f"{args.command}: unrecognized argument{plural}: {' '.join(extra)}{hint}")
    return args


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def exit_status(exc: WiredeskError) -> int:
    """2 when what the user typed was wrong, 1 when the work failed (see the module docstring)."""
    return EXIT_USAGE if isinstance(exc, USAGE_ERRORS) else EXIT_FAILED


_exit_status = [EXIT_FAILED]  # what the process exits with, once main() returned


def _exit_without_teardown() -> None:
    """The last atexit handler of a `wiredesk` process (registered first, so it runs after Prefect's,
    which drain its log and event workers to the API): flush what is printed and logged, then end the
    process without tearing down every imported module, which took 0.7-1.8 s after a run."""
    if "logging" in sys.modules:
        import logging

        logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(_exit_status[0])


def main(argv: Sequence[str] | None = None) -> int:
    """``argv`` None: the process's own command line (the ``wiredesk`` command); a list: a caller's."""
    global STARTED, _first_command
    if not _first_command:
        STARTED = time.monotonic()
    elif argv is None:  # this process is the command: it ends when it is done (see _exit_without_teardown)
        import atexit

        atexit.register(_exit_without_teardown)
    _first_command = False
    try:
        status = _main(argv)
    except SystemExit as exc:  # --help, --version: argparse exits with its own status
        code = exc.code
        _exit_status[0] = code if isinstance(code, int) else (0 if code is None else EXIT_FAILED)
        raise
    _exit_status[0] = status
    return status


def _main(argv: Sequence[str] | None) -> int:
    try:
        args = _parse(argv)
        handler = COMMANDS.get(args.command)
        if handler is None:
            from wiredesk.cli import schedule as cli_schedule

            handler = cli_schedule.COMMANDS[args.command]
        return handler(args)
    except WiredeskError as exc:
        print(f"wiredesk: error: {exc.message}", file=sys.stderr)
        return exit_status(exc)
    except KeyboardInterrupt:
        print("wiredesk: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
