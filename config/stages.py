"""Build the stage packages' own settings dataclasses from config sections.

Validation goes through pydantic's TypeAdapter on the stage's dataclass, so the stage package
stays the single source of truth for its knobs while errors still name the key and value.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from wiredesk.core.errors import ConfigError, WiredeskError

T = TypeVar("T")


def build_settings(cls: type[T], section: str, values: dict[str, Any], **extra: Any) -> T:
    """``cls(**values)`` validated: unknown keys and bad values are one-line ConfigErrors."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in values:
        if key not in names:
            raise ConfigError(f"config: {section}.{key}: unknown key (known: {', '.join(sorted(names))})")
    merged = {**values, **{k: v for k, v in extra.items() if v is not None}}
    try:
        return TypeAdapter(cls).validate_python(merged)
    except WiredeskError as exc:  # raised by the stage's own checks
        raise ConfigError(
            exc.message if exc.message.startswith(("config", section)) else f"config: {section}: {exc.message}"
        ) from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        if not where:  # the dataclass's own check (__post_init__) failed: its message names the key
            raise ConfigError(f"config: {section}: {err['msg'].removeprefix('Value error, ')}") from None
        raise ConfigError(f"config: {section}.{where}: {err['msg']} (got {err.get('input')!r})") from None


def build_stage_settings(config: Any) -> dict[str, Any]:
    """Every stage's settings from a WiredeskConfig, validated (a one-line error otherwise)."""
    from wiredesk.dedup import DedupSettings
    from wiredesk.extractors import ExtractSettings
    from wiredesk.fetching import FetchSettings

    return {
        "extract": build_settings(ExtractSettings, "extract", dict(config.extract)),
        "dedup": build_settings(DedupSettings, "dedup", dict(config.dedup)),
        "fetch": build_settings(FetchSettings, "fetch", dict(config.fetch)),
    }
