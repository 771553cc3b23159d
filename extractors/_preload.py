"""Imported by the extraction pool's forkserver: its workers start warm (see warm.py)."""

from .warm import warm_up

warm_up()
