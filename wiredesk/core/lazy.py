"""A package's names imported from their modules on first use (PEP 562).

A stage package lists where each public name lives; importing the package then loads none of
its modules, and ``package.NAME`` (or ``from package import NAME``) imports NAME's module the
first time it is asked for and keeps the value in the package's namespace. Used by
``wiredesk.extractors``, ``wiredesk.fetching`` and ``wiredesk.dedup``: a run of page files on
disk never loads the fetcher, and the run's own process never loads the extraction libraries.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_names(
    package: str, where: Mapping[str, str], names: Iterable[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``: ``where`` maps each name to its module
    (absolute, or relative to the package: ``".core"``); ``names`` is the package's ``__all__``."""
    listed = frozenset(names)

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        vars(sys.modules[package])[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | listed)

    return __getattr__, __dir__
