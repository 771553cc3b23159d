"""Imported by the extraction pool's forkserver: its workers start warm (see warm.py)."""

from .pool import warm_without_gc

warm_without_gc()
