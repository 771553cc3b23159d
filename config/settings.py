"""wiredesk's configuration model (pydantic), its loader and environment overrides.

The ``fetch``, ``extract`` and ``dedup`` sections are validated against the stage packages'
own settings dataclasses by ``config.stages`` (so the stage packages stay the single source of
truth for their knobs); the sections below are the ones only the edge cares about.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict, SettingsError
from pydantic_settings.sources.utils import parse_env_vars

from wiredesk.core.errors import ConfigError, did_you_mean

DEFAULT_CONFIG_PATH = Path(__file__).with_name("wiredesk.yaml")
ENV_PREFIX = "WIREDESK_"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreConfig(_Strict):
    # Secret: a PostgreSQL URL may carry a password. SecretStr keeps it out of reprs, logs and
    # every JSON dump of the config (Prefect stores a subflow's parameters that way); code that
    # opens the store reads ``dsn`` / ``index_dsn``.
    url: SecretStr = SecretStr("./data/wiredesk.db")
    # Where the dedup index lives. None: beside the store (a directory next to a SQLite file,
    # tables in a PostgreSQL store). A redis:// or postgresql:// URL shares one index between
    # several workers.
    dedup_index: SecretStr | None = None

    @property
    def dsn(self) -> str:
        """The store URL or path, password included: for opening the store, never for printing."""
        return self.url.get_secret_value()

    @property
    def index_dsn(self) -> str | None:
        return self.dedup_index.get_secret_value() if self.dedup_index is not None else None


class ExportConfig(_Strict):
    out: str = "./data/corpus.jsonl"
    format: Literal["jsonl", "jsonl.gz", "parquet", "csv"] = "jsonl"
    include_duplicates: bool = False
    # A "signature" field with each text's 128 MinHash values (datasketch-compatible).
    signatures: bool = False


class RunConfig(_Strict):
    batch_size: int = Field(default=200, ge=1, le=100_000)
    # Page files are batched by measured time: about this much extraction per batch (at most
    # batch_size pages; a source sharing host profiles keeps batch_size, see BatchSizer). Each
    # batch is a task run: at 2 s, on a loaded machine, Prefect's server took a quarter of the CPU.
    batch_seconds: float = Field(default=10.0, gt=0, le=3600)
    workers: int | None = Field(default=None, ge=1, le=512)
    task_runner: Literal["default", "dask"] = "default"
    dask_address: str | None = None
    lock_timeout_s: float = Field(default=600.0, ge=0)
    # Bounds on a run: the whole ingest (every source subflow shares it) and one batch task.
    # null: no bound.
    flow_timeout_s: float | None = Field(default=6 * 3600.0, gt=0)
    task_timeout_s: float | None = Field(default=1800.0, gt=0)
    # Per-host request spacing shared by every process fetching for this store (each scheduled
    # run is its own process): auto (a Redis dedup index if there is one, else a table in a
    # PostgreSQL store, else a directory beside a SQLite store), off, a redis:// URL, or a directory.
    host_pacing: str = "auto"
    # A one-shot `wiredesk run` with no Prefect server running (no PREFECT_API_URL, no `wiredesk serve`):
    # direct = run the same pipeline in the process, recorded in the store's run log, no flow run;
    # embedded = start Prefect's embedded server (alongside the run's start-up) and make it a flow run.
    without_server: Literal["direct", "embedded"] = "direct"
    # Sources run at once (each source's discovery and fetches; their pages go through
    # extract-dedup-store one batch at a time). Every host keeps its own limits whatever this
    # is, and fetch.global_concurrency bounds the requests in flight over all sources, so a crawl
    # of many polite hosts takes about as long as its busiest host. Under Prefect each running
    # source is a task run (source_runs: task); with subflows, keep it near 8 on an embedded server.
    source_concurrency: int = Field(default=128, ge=1, le=1024)
    # Under Prefect, how each source of a run is recorded: task (the default) = an ``ingest-source``
    # task run of the ingest flow run (its discovery and batches nested in it); subflow = an
    # ``ingest-source`` flow run of its own (~3.5 s of a SQLite Prefect server's time each, its
    # 503s above ~8 at once: a 100-source crawl took 40x its busiest host's time, tasks 2.4x).
    # Failures, statuses and per-source artifacts are the same. With task_runner dask, sources
    # are subflows either way (the Dask runner belongs to a flow run).
    source_runs: Literal["subflow", "task"] = "task"
    # With source_runs: task, sources that start together share an ``ingest-sources`` task run, up
    # to this many (each still on its own thread, with its own row, log line and artifacts; a failing
    # source fails its task run, never the others). 1: an ``ingest-source`` task run per source.
    # A task run's states and logs cost the Prefect client and server per task run, not per page.
    sources_per_task: int = Field(default=10, ge=1, le=1024)


class Schedule(_Strict):
    cron: str
    timezone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        # croniter is what Prefect validates and runs cron schedules with (3.8 vendors a copy
        # as prefect._vendor.croniter; importing prefect here would break the layers), with
        # Prefect's extra rule: no random (R) or hashed (H) fields.
        from croniter import CroniterError, croniter

        try:
            croniter(value)
        except (CroniterError, ValueError, TypeError) as exc:
            raise ValueError(f"not a cron expression: {value!r} ({exc})") from None
        if not croniter.is_valid(value):
            raise ValueError(f"not a cron expression: {value!r}")
        if any(field.casefold() in ("r", "h") for field in value.split()):
            raise ValueError(f"not a cron expression: {value!r} (random and hashed fields are not supported)")
        return value

    @field_validator("timezone")
    @classmethod
    def _check_tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class SourceConfig(_Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    manifest: str | None = None
    schedule: Schedule | None = None
    # Optional regular expression, searched in a page's URL: pages that match are articles,
    # the others listings (followed for links, never stored). Unset: the page's own signals.
    article_urls: str | None = None

    @field_validator("article_urls")
    @classmethod
    def _check_pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"article_urls: not a regular expression: {value!r} ({exc})") from None
        return value

    # Web archives: paths, globs, http(s) URLs of .warc(.gz)/.arc.gz files, or warc.paths(.gz)
    # listings (CC-NEWS). Relative listing entries are resolved against warc_base, else the
    # listing's host root (URL) or folder (file).
    warcs: tuple[str, ...] = ()
    warc_base: str | None = None
    download_dir: str | None = None  # default: warc-downloads/ beside a SQLite store, else ./data
    keep_downloads: bool = False  # downloaded archives are deleted once done
    max_archive_bytes: int = Field(default=8 * 1024**3, ge=1)

    @field_validator("feeds", "sitemaps", "urls", "sites")
    @classmethod
    def _check_urls(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not value.lower().startswith(("http://", "https://")):
                raise ValueError(f"not an http(s) URL: {value!r}")
        return values

    @property
    def has_web(self) -> bool:
        return bool(self.feeds or self.sitemaps or self.urls or self.sites)


class WiredeskConfig(_Strict):
    store: StoreConfig = StoreConfig()
    export: ExportConfig = ExportConfig()
    run: RunConfig = RunConfig()
    inputs: tuple[str, ...] = ()
    sources: tuple[SourceConfig, ...] = ()
    fetch: dict[str, Any] = Field(default_factory=dict)
    extract: dict[str, Any] = Field(default_factory=dict)
    dedup: dict[str, Any] = Field(default_factory=dict)
    source_file: str | None = None  # which file this came from (for messages)

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: tuple[SourceConfig, ...]) -> tuple[SourceConfig, ...]:
        seen: set[str] = set()
        for source in sources:
            if source.name in seen:
                raise ValueError(f"duplicate source name {source.name!r}")
            seen.add(source.name)
        return sources

    def source(self, name: str) -> SourceConfig:
        by_name = {s.name: s for s in self.sources}
        if name not in by_name:
            self.check_sources([name])  # raises, naming the likely intended source
        return by_name[name]

    def check_sources(self, names: Sequence[str]) -> None:
        """One error naming every unknown source, each with its likely intended name."""
        known = [s.name for s in self.sources]
        unknown = [name for name in dict.fromkeys(names) if name not in known]
        if not unknown:
            return
        listed = ", ".join(f"{name!r}{did_you_mean(name, known)}" for name in unknown)
        plural = "s" if len(unknown) > 1 else ""
        raise ConfigError(f"unknown source{plural} {listed} (known: {', '.join(known) or 'none configured'})")

    def with_overrides(self, **section_values: dict[str, Any]) -> WiredeskConfig:
        """A copy with some keys of some sections replaced (CLI flags), validated again."""
        data = self.model_dump()
        data["store"] = {key: _reveal(value) for key, value in data["store"].items()}
        for section, values in section_values.items():
            for key, value in values.items():
                if value is not None:
                    data[section][key] = value
        return _validate(data, origin="command line")


def _reveal(value: Any) -> Any:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


_FORMAT_SUFFIXES = (
    (".jsonl.gz", "jsonl.gz"),
    (".json.gz", "jsonl.gz"),
    (".parquet", "parquet"),
    (".jsonl", "jsonl"),
    (".json", "jsonl"),
    (".csv", "csv"),
)


def export_target(out: str | None, fmt: str | None, defaults: ExportConfig) -> tuple[str, str]:
    """The export path and format from flags and config, consistent with each other.

    The format follows the file name when only a path is given (``corpus.parquet`` is
    Parquet); a format given alone renames the default path's extension; a format that
    contradicts the path's extension is a one-line error.
    """
    if out is not None and (out.endswith(("/", os.sep)) or Path(out).is_dir()):
        raise ConfigError(f"--out {out}: is a directory; give a file path such as {Path(out) / 'corpus.jsonl'}")
    path = out or defaults.out
    named = next((f for suffix, f in _FORMAT_SUFFIXES if path.lower().endswith(suffix)), None)
    suffix = Path(path).suffix
    if fmt is None and named is None and suffix and out is not None:  # never JSONL under a .tsv name
        formats = ", ".join(f"{f} (.{f})" for f in ("jsonl", "jsonl.gz", "parquet", "csv"))
        raise ConfigError(f"--out {out}: unknown format {suffix!r}; the formats: {formats}, or name one with --format")
    if fmt is None:
        fmt = named if out is not None and named else defaults.format
        if out is None and named and named != fmt:  # config says parquet, default path says .jsonl
            path = _with_format(path, fmt)
    elif named and named != fmt:
        if out is not None:
            raise ConfigError(f"--out {out} looks like {named} but --format is {fmt}")
        path = _with_format(path, fmt)
    return path, fmt


def _with_format(path: str, fmt: str) -> str:
    for suffix, _ in _FORMAT_SUFFIXES:
        if path.lower().endswith(suffix):
            path = path[: -len(suffix)]
            break
    return path + {"jsonl": ".jsonl", "jsonl.gz": ".jsonl.gz", "parquet": ".parquet", "csv": ".csv"}[fmt]


def check_writable(path: str, what: str = "--out") -> None:
    """Fail before any work when the export could not be written there."""
    parent = Path(path).expanduser().absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{what} {path}: cannot create {parent} ({exc.strerror or exc})") from None
    import tempfile

    try:  # a real probe: permission bits say nothing for root or for special file systems
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".wiredesk-probe-"):
            pass
    except OSError as exc:
        raise ConfigError(f"{what} {path}: cannot write in {parent} ({exc.strerror or exc})") from None


class _Environment(BaseSettings):
    """The ``WIREDESK_<SECTION>__<KEY>`` variables, one mapping per section, as
    pydantic-settings reads them (prefix and section names case-insensitive; a section
    may also be given whole as JSON, ``WIREDESK_RUN='{"batch_size": 50}'``). ``inputs`` and
    ``sources`` are read only to refuse them: they belong in the config file."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", case_sensitive=False, extra="ignore"
    )

    store: dict[str, Any] = {}
    export: dict[str, Any] = {}
    run: dict[str, Any] = {}
    fetch: dict[str, Any] = {}
    extract: dict[str, Any] = {}
    dedup: dict[str, Any] = {}
    inputs: dict[str, Any] = {}
    sources: dict[str, Any] = {}


class _EnvSource(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping (tests, and load_config's
    ``environ``) instead of the process environment."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(_Environment)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


def _yaml_value(raw: Any) -> Any:
    """A value as YAML reads it ("7" -> 7, "true" -> True, "[a, b]" -> a list), so typed
    stage settings get typed values; empty -> None (the default); not YAML -> the text."""
    if isinstance(raw, dict):
        return {k: _yaml_value(v) for k, v in raw.items()}
    if not isinstance(raw, str):
        return raw
    try:
        return yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        return raw


def _env_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    try:
        sections = _EnvSource(environ)()
    except SettingsError as exc:  # a whole section given as JSON that is not JSON
        raise ConfigError(f"environment: {exc}") from None
    overrides = {section: _yaml_value(values) for section, values in sections.items() if values}
    # Sections the model does not know reach validation, which names them ("unknown key").
    known = set(_Environment.model_fields)
    for name, raw in environ.items():
        if name.upper().startswith(ENV_PREFIX) and "__" in name:
            section, _, key = name[len(ENV_PREFIX) :].partition("__")
            if section.lower() not in known:
                overrides.setdefault(section.lower(), {})[key.lower()] = _yaml_value(raw)
    return overrides


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The config model that holds the key at ``loc`` (for "did you mean")."""
    model: type[BaseModel] = WiredeskConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        inner = _model_in(field.annotation) if field is not None else None
        if inner is None:
            return None
        model = inner
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _problem(err: Any) -> str:
    loc = tuple(err["loc"])
    where = ".".join(str(p) for p in loc) or "(top level)"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        model = _model_at(loc[:-1])
        known = [name for name in model.model_fields if name != "source_file"] if model else []
        return f"{where}: unknown key{did_you_mean(str(loc[-1]), known)}"
    value = err.get("input")
    shown = "" if err["type"] == "missing" or isinstance(value, dict) else f" (got {value!r})"
    return f"{where}: {msg}{shown}"


def _one_error(origin: str, problems: list[str]) -> ConfigError:
    """Every problem at once, in one line: a user fixes them all in one edit."""
    if len(problems) == 1:
        return ConfigError(f"{origin}: {problems[0]}")
    return ConfigError(f"{origin}: {len(problems)} problems: " + "; ".join(problems))


def _validate(data: Any, *, origin: str, stages: bool = False) -> WiredeskConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: expected a mapping of sections at the top level")
    problems: list[str] = []
    config = None
    try:
        config = WiredeskConfig.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(err) for err in exc.errors()]
    if stages:  # the fetch, extract and dedup sections, checked by the stages' own settings
        from wiredesk.config.stages import stage_problems

        problems += stage_problems(data)
    if problems or config is None:
        raise _one_error(origin, problems)
    _check_shared_state(config, origin)
    return config


_SHARED_URLS = ("postgresql://", "postgres://", "postgresql+psycopg://")
_SHARED_INDEXES = (*_SHARED_URLS, "redis://", "rediss://")


def _check_shared_state(config: WiredeskConfig, origin: str) -> None:
    """Workers of a remote Dask cluster open the store and the dedup index themselves: a
    SQLite file or a local index folder would be a different one on every machine, each
    holding part of the run's articles and none seeing the others' copies."""
    run = config.run
    if run.task_runner != "dask" or not run.dask_address or _is_loopback(run.dask_address):
        return
    store, index = config.store.dsn.strip(), config.store.index_dsn
    local: list[str] = []
    if not store.lower().startswith(_SHARED_URLS):
        local.append(f"store.url {store} is a SQLite file")
    elif index is not None and not index.strip().lower().startswith(_SHARED_INDEXES):
        local.append(f"store.dedup_index {index} is local to one machine")
    if local:
        raise ConfigError(
            f"{origin}: run.dask_address {run.dask_address} is a remote Dask cluster, but {local[0]}: every "
            "machine would write its own copy; use a PostgreSQL store (store.url: postgresql://...) and a "
            "Redis or PostgreSQL dedup index (store.dedup_index: redis://... or postgresql://..., or unset "
            "to keep it in the PostgreSQL store)"
        )


def _is_loopback(address: str) -> bool:
    """A scheduler listening on a loopback address can only have workers on this machine."""
    text = address.strip()
    if text.lower().startswith("inproc://"):
        return True
    host = urlsplit(text if "://" in text else f"tcp://{text}").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_config(
    path: str | os.PathLike[str] | None = None, *, environ: dict[str, str] | None = None, stages: bool = False
) -> WiredeskConfig:
    """Read the YAML config (explicit path, else $WIREDESK_CONFIG, else the embedded defaults),
    apply WIREDESK_<SECTION>__<KEY> environment overrides and validate the result. With
    ``stages`` the fetch, extract and dedup sections are checked too, and every problem of the
    whole config is reported in one ConfigError."""
    environ = dict(os.environ if environ is None else environ)
    chosen = path or environ.get("WIREDESK_CONFIG") or DEFAULT_CONFIG_PATH
    file = Path(chosen)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {file}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {file} cannot be read: {exc}") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"config file {file}{where}: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {file}: expected a mapping of sections at the top level")
    for section, values in _env_overrides(environ).items():
        if section in ("inputs", "sources"):
            raise ConfigError(f"environment: WIREDESK_{section.upper()}__...: set {section} in the config file")
        current = data.get(section)
        if current is None:
            current = {}
        if not isinstance(current, dict):
            raise ConfigError(f"environment: WIREDESK_{section.upper()}__...: section {section!r} is not a mapping")
        data[section] = {**current, **values}
    data["source_file"] = str(file)
    return _validate(data, origin=str(file) if file != DEFAULT_CONFIG_PATH else "config", stages=stages)
