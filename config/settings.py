"""wiredesk's configuration model (pydantic), its loader and environment overrides.

The ``fetch``, ``extract`` and ``dedup`` sections are validated against the stage packages'
own settings dataclasses by ``config.stages`` (so the stage packages stay the single source of
truth for their knobs); the sections below are the ones only the edge cares about.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from wiredesk.core.errors import ConfigError

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
    format: Literal["jsonl", "jsonl.gz", "parquet"] = "jsonl"
    include_duplicates: bool = False


class RunConfig(_Strict):
    batch_size: int = Field(default=200, ge=1, le=100_000)
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


class Schedule(_Strict):
    cron: str
    timezone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        from datetime import datetime

        from cronsim import CronSim, CronSimError  # ships with prefect; no prefect import here

        try:
            CronSim(value, datetime(2026, 1, 1))
        except (CronSimError, ValueError) as exc:
            raise ValueError(f"not a cron expression: {value!r} ({exc})") from None
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
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none configured"
        raise ConfigError(f"unknown source {name!r} (known: {known})")

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
    return path + {"jsonl": ".jsonl", "jsonl.gz": ".jsonl.gz", "parquet": ".parquet"}[fmt]


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


def _env_overrides(environ: dict[str, str]) -> dict[str, dict[str, Any]]:
    overrides: dict[str, dict[str, Any]] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].partition("__")
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            value = raw
        overrides.setdefault(section.lower(), {})[key.lower()] = value
    return overrides


def _format_error(exc: ValidationError, origin: str) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(top level)"
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    value = err.get("input")
    shown = "" if err["type"] in ("extra_forbidden", "missing") or isinstance(value, dict) else f" (got {value!r})"
    more = f" (+{len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"{origin}: {where}: {msg}{shown}{more}"


def _validate(data: Any, *, origin: str) -> WiredeskConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: expected a mapping of sections at the top level")
    try:
        return WiredeskConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(exc, origin)) from None


def load_config(path: str | os.PathLike[str] | None = None, *, environ: dict[str, str] | None = None) -> WiredeskConfig:
    """Read the YAML config (explicit path, else $WIREDESK_CONFIG, else the embedded defaults),
    apply WIREDESK_<SECTION>__<KEY> environment overrides and validate the result."""
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
    return _validate(data, origin=str(file) if file != DEFAULT_CONFIG_PATH else "config")
