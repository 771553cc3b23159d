"""Config: embedded defaults, env overrides, and one-line errors naming the key or value."""

from __future__ import annotations

from pathlib import Path

import pytest

from wiredesk.config import DEFAULT_CONFIG_PATH, load_config
from wiredesk.config.stages import build_settings
from wiredesk.core.errors import ConfigError


def test_embedded_defaults_load() -> None:
    config = load_config(environ={})
    assert config.store.dsn == "./data/wiredesk.db"
    assert config.export.out == "./data/corpus.jsonl"
    assert config.source_file == str(DEFAULT_CONFIG_PATH)


def test_env_overrides_win_and_are_typed() -> None:
    config = load_config(
        environ={
            "WIREDESK_STORE__URL": "/tmp/x.db",
            "WIREDESK_RUN__BATCH_SIZE": "7",
            "WIREDESK_EXPORT__INCLUDE_DUPLICATES": "true",
        }
    )
    assert config.store.dsn == "/tmp/x.db"
    assert config.run.batch_size == 7
    assert config.export.include_duplicates is True


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("store: {urll: x}\n", "store.urll: unknown key"),
        ("run: {batch_size: 0}\n", "run.batch_size"),
        ("export: {format: xml}\n", "export.format"),
        ("sources: [{name: a, feeds: [ftp://x]}]\n", "sources.0.feeds"),
        ("sources: [{name: a}, {name: a}]\n", "duplicate source name 'a'"),
        ("sources: [{name: a, schedule: {cron: 'every day'}}]\n", "not a cron expression"),
        ("sources: [{name: a, schedule: {cron: '0 * * * *', timezone: Mars/Base}}]\n", "unknown time zone"),
        ("store: [1\n", "line"),
        ("- just a list\n", "mapping"),
    ],
)
def test_bad_config_is_one_line_naming_the_key(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    message = info.value.message
    assert needle in message
    assert "\n" not in message


def test_missing_config_file_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found: .*nope.yaml"):
        load_config(tmp_path / "nope.yaml", environ={})


def test_bad_env_value_named() -> None:
    with pytest.raises(ConfigError, match="run.batch_size"):
        load_config(environ={"WIREDESK_RUN__BATCH_SIZE": "many"})


def test_stage_settings_validated_against_the_stage_dataclass() -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True, kw_only=True)
    class Knobs:
        threshold: float = 0.3
        window_days: int | None = None

    assert build_settings(Knobs, "dedup", {"threshold": "0.5"}).threshold == 0.5
    with pytest.raises(ConfigError, match=r"dedup.treshold: unknown key"):
        build_settings(Knobs, "dedup", {"treshold": 0.5})
    with pytest.raises(ConfigError, match=r"dedup.window_days"):
        build_settings(Knobs, "dedup", {"window_days": "soon"})


REMOTE = "run: {task_runner: dask, dask_address: 'tcp://scheduler.example:8786'}\n"


@pytest.mark.parametrize(
    ("store", "needle"),
    [
        ("store: {url: ./data/wiredesk.db}\n", "store.url ./data/wiredesk.db is a SQLite file"),
        ("store: {url: 'sqlite:////srv/w.db', dedup_index: 'redis://r:6379/0'}\n", "is a SQLite file"),
        ("store: {url: 'postgresql://u@db/w', dedup_index: /srv/index}\n", "store.dedup_index /srv/index is local"),
        ("store: {url: 'postgresql://u@db/w', dedup_index: 'unix:///run/redis.sock'}\n", "is local to one machine"),
    ],
)
def test_remote_dask_refuses_state_local_to_one_machine(tmp_path: Path, store: str, needle: str) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(REMOTE + store)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    message = info.value.message
    assert needle in message
    assert "use a PostgreSQL store" in message and "Redis or PostgreSQL dedup index" in message
    assert "\n" not in message


def test_remote_dask_refusal_also_applies_to_overrides(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(REMOTE + "store: {url: 'postgresql://u@db/w', dedup_index: 'redis://r:6379/0'}\n")
    config = load_config(path, environ={})
    with pytest.raises(ConfigError, match="is a SQLite file"):
        config.with_overrides(store={"url": "/tmp/local.db"})  # --store on the command line
    with pytest.raises(ConfigError, match="is a SQLite file"):
        load_config(path, environ={"WIREDESK_STORE__URL": "/tmp/local.db"})


@pytest.mark.parametrize(
    "text",
    [
        REMOTE + "store: {url: 'postgresql://u@db/w', dedup_index: 'redis://r:6379/0'}\n",
        REMOTE + "store: {url: 'postgresql://u@db/w', dedup_index: 'postgresql://u@db/idx'}\n",
        REMOTE + "store: {url: 'postgresql://u@db/w'}\n",  # the index lives in the PostgreSQL store
        "run: {task_runner: dask}\nstore: {url: ./w.db}\n",  # a local cluster shares the disk
        "run: {task_runner: dask, dask_address: 'tcp://127.0.0.1:8786'}\nstore: {url: ./w.db}\n",
        "run: {task_runner: dask, dask_address: 'localhost:8786'}\nstore: {url: ./w.db}\n",
        "run: {task_runner: dask, dask_address: 'tcp://[::1]:8786'}\nstore: {url: ./w.db}\n",
        "run: {task_runner: default, dask_address: 'tcp://scheduler.example:8786'}\nstore: {url: ./w.db}\n",
    ],
)
def test_dask_setups_that_share_one_store_are_accepted(tmp_path: Path, text: str) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(text)
    load_config(path, environ={})


def test_env_overrides_through_pydantic_settings() -> None:
    config = load_config(
        environ={
            "wiredesk_run__workers": "3",  # prefix and names case-insensitive, as pydantic-settings reads them
            "WIREDESK_DEDUP__WINDOW_DAYS": "",  # empty: back to the default
            "WIREDESK_FETCH__USER_AGENT": "wiredesk-test/1 (+mailto:x@example.com)",
            "WIREDESK_EXPORT": '{"format": "parquet"}',  # a whole section as JSON
            "WIREDESK_CONFIG": "",  # not a section
            "OTHER__VAR": "ignored",
        }
    )
    assert config.run.workers == 3
    assert config.fetch["user_agent"] == "wiredesk-test/1 (+mailto:x@example.com)"
    assert config.export.format == "parquet"
    assert config.dedup.get("window_days") is None


@pytest.mark.parametrize(
    ("environ", "needle"),
    [
        ({"WIREDESK_STORE__PATH": "a"}, "store.path: unknown key"),
        ({"WIREDESK_BOGUS__X": "1"}, "bogus: unknown key"),
        ({"WIREDESK_SOURCES__X": "1"}, "WIREDESK_SOURCES__...: set sources in the config file"),
        ({"WIREDESK_INPUTS__X": "1"}, "WIREDESK_INPUTS__...: set inputs in the config file"),
        ({"WIREDESK_RUN": "{not json"}, "environment: "),
    ],
)
def test_bad_env_override_is_one_line(environ: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(environ=environ)
    assert needle in info.value.message and "\n" not in info.value.message


@pytest.mark.parametrize(
    ("cron", "ok"),
    [
        ("0 * * * *", True),
        ("*/15 6-22 * * mon-fri", True),
        ("@daily", True),
        ("0 0 L * *", True),
        ("every day", False),
        ("61 * * * *", False),
        ("0 * * *", False),
        ("H * * * *", False),  # croniter takes hashed and random fields; Prefect refuses them
        ("R 0 * * *", False),
    ],
)
def test_cron_is_validated_as_prefect_does(tmp_path: Path, cron: str, ok: bool) -> None:
    from prefect._internal.schemas.validators import validate_cron_string

    try:
        validate_cron_string(cron)
        prefect_ok = True
    except ValueError:
        prefect_ok = False
    assert prefect_ok == ok
    path = tmp_path / "c.yaml"
    path.write_text(f"sources: [{{name: a, urls: ['https://x.example/'], schedule: {{cron: '{cron}'}}}}]\n")
    if ok:
        assert load_config(path, environ={}).sources[0].schedule.cron == cron
    else:
        with pytest.raises(ConfigError, match="not a cron expression"):
            load_config(path, environ={})
