"""Build the stage packages' own settings dataclasses from config sections.

Validation goes through pydantic's TypeAdapter on the stage's dataclass, so the stage package
stays the single source of truth for its knobs while errors still name the key and value.
Every problem of a section is reported at once, not only the first.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from wiredesk.core.errors import ConfigError, WiredeskError, did_you_mean

T = TypeVar("T")


def settings_problems(cls: type[T], section: str, values: dict[str, Any], **extra: Any) -> tuple[T | None, list[str]]:
    """``(cls(**values), [])`` when valid, else ``(None, problems)``: one line per problem,
    each naming ``section.key``. Unknown keys are reported and the known ones still checked."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    problems = []
    for key in values:
        if key not in names:
            hint = did_you_mean(str(key), names) or f" (known: {', '.join(sorted(names))})"
            problems.append(f"{section}.{key}: unknown key{hint}")
    known = {k: v for k, v in values.items() if k in names}
    merged = {**known, **{k: v for k, v in extra.items() if v is not None}}
    try:
        built = TypeAdapter(cls).validate_python(merged)
    except WiredeskError as exc:  # raised by the stage's own checks
        problems.append(exc.message.removeprefix("config: ") if exc.message.startswith("config") else exc.message)
        if not problems[-1].startswith(section):
            problems[-1] = f"{section}: {problems[-1]}"
        return None, problems
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            if not where:  # the dataclass's own check (__post_init__) failed: its message names the key
                problems.append(f"{section}: {err['msg'].removeprefix('Value error, ')}")
            else:
                problems.append(f"{section}.{where}: {err['msg']} (got {err.get('input')!r})")
        return None, problems
    return (None, problems) if problems else (built, [])


def build_settings(cls: type[T], section: str, values: dict[str, Any], **extra: Any) -> T:
    """``cls(**values)`` validated: unknown keys and bad values are one-line ConfigErrors."""
    built, problems = settings_problems(cls, section, values, **extra)
    if problems:
        raise ConfigError("config: " + "; ".join(problems))
    return built  # type: ignore[return-value]


def _stage_classes() -> dict[str, type]:
    # The stages' settings modules only: checking a config loads no extraction, dedup or fetch code.
    from wiredesk.dedup.settings import DedupSettings
    from wiredesk.extractors.settings import ExtractSettings
    from wiredesk.fetching.settings import FetchSettings

    return {"extract": ExtractSettings, "dedup": DedupSettings, "fetch": FetchSettings}


def stage_problems(sections: dict[str, Any]) -> list[str]:
    """Every problem of the ``fetch``, ``extract`` and ``dedup`` sections of raw config data."""
    problems: list[str] = []
    for section, cls in _stage_classes().items():
        values = sections.get(section)
        if isinstance(values, dict):
            problems += settings_problems(cls, section, values)[1]
    return problems


def build_stage_settings(config: Any) -> dict[str, Any]:
    """Every stage's settings from a WiredeskConfig, validated (one error naming every problem)."""
    built: dict[str, Any] = {}
    problems: list[str] = []
    for section, cls in _stage_classes().items():
        settings, found = settings_problems(cls, section, dict(getattr(config, section)))
        built[section] = settings
        problems += found
    if problems:
        raise ConfigError("config: " + "; ".join(problems))
    return built
