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
