"""Build the stage packages' own settings dataclasses from config sections.

Validation goes through pydantic's TypeAdapter on the stage's dataclass, so the stage package
stays the single source of truth for its knobs while errors still name the key and value.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from wiredesk.errors import ConfigError

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
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"config: {section}.{where}: {err['msg']} (got {err.get('input')!r})") from None
