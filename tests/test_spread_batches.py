"""spread_batch_size: a Dask run's file batches, several per worker, from the counts alone."""

from __future__ import annotations

import pytest

from wiredesk.pipeline.batch import chunks
from wiredesk.pipeline.sources import SPREAD_LEAST, SPREAD_PER_WORKER, spread_batch_size


@pytest.mark.parametrize(
    ("files", "workers", "cap", "size"),
    [
        (300, 1, 200, 200),  # one worker runs its batches one after another: no spreading
        (300, 2, 200, 38),
        (300, 4, 200, 19),  # four workers: 16 batches, none idle (fixed 200s made 2 tasks)
        (10_000, 2, 200, 200),  # never above run.batch_size
        (20, 4, 200, SPREAD_LEAST),  # never below the floor
        (20, 4, 5, 5),  # ... unless run.batch_size itself is smaller
        (0, 2, 200, 200),
        (7, 2, 200, SPREAD_LEAST),
    ],
)
def test_batch_sizes(files: int, workers: int, cap: int, size: int) -> None:
    assert spread_batch_size(files, workers, cap) == size


@pytest.mark.parametrize("workers", [2, 3, 4, 8])
def test_every_worker_gets_several_batches_when_there_are_enough_pages(workers: int) -> None:
    files = 300
    batches = list(chunks(range(files), spread_batch_size(files, workers, 200)))
    assert sum(len(b) for b in batches) == files
    # 300 pages are enough for SPREAD_PER_WORKER batches of SPREAD_LEAST per worker, up to 8 workers;
    # rounding the size up may cost each worker at most one of them
    assert files >= SPREAD_LEAST * SPREAD_PER_WORKER * workers
    assert len(batches) >= (SPREAD_PER_WORKER - 1) * workers
