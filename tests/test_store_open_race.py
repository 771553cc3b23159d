"""Four processes opening one fresh SQLite store at the same instant all succeed."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path


def _open(path: str, barrier) -> None:  # noqa: ANN001 - a multiprocessing barrier
    from wiredesk.storage import open_store

    barrier.wait()
    open_store(path).close()


def test_simultaneous_fresh_opens(tmp_path: Path) -> None:
    ctx = mp.get_context("spawn")
    for round_ in range(5):
        path = str(tmp_path / f"r{round_}" / "s.db")
        barrier = ctx.Barrier(4)
        procs = [ctx.Process(target=_open, args=(path, barrier)) for _ in range(4)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(60)
        assert [p.exitcode for p in procs] == [0, 0, 0, 0]
