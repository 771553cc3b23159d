"""Typed configuration, validated once at the edge (CLI and flows) and passed down.

The stage packages never import this package: it builds their own settings objects.
"""

from wiredesk.config.settings import (
    DEFAULT_CONFIG_PATH,
    ExportConfig,
    RunConfig,
    Schedule,
    SourceConfig,
    StoreConfig,
    WiredeskConfig,
    check_writable,
    export_target,
    load_config,
)

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "ExportConfig",
    "RunConfig",
    "Schedule",
    "SourceConfig",
    "StoreConfig",
    "WiredeskConfig",
    "check_writable",
    "export_target",
    "load_config",
]
