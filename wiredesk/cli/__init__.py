"""The command line, the top floor: nothing else in wiredesk imports it."""

from wiredesk.cli.main import main

__all__ = ["main"]
