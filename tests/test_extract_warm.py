"""warm_up loads the lazily built extraction data once, so pool workers inherit it."""

from wiredesk.extractors import html as html_path
from wiredesk.extractors import warm_up


def test_warm_up_loads_date_locales_and_readability_once():
    from htmldate.extractors import month_words

    warm_up()
    assert month_words.cache_info().currsize == 1  # dateparser's locales are loaded
    assert html_path._READABILITY is not None
    before = month_words.cache_info().hits
    warm_up()  # idempotent: the second call does nothing at all
    assert month_words.cache_info().hits == before


def test_forkserver_preload_module_warms_on_import():
    import importlib

    import wiredesk.extractors._preload as preload

    importlib.reload(preload)  # importing it is what the forkserver does
    assert html_path._READABILITY is not None


_COUNT_COLLECTIONS = """
import gc, sys
import wiredesk.extractors.pool as pool
from wiredesk.extractors import warm_up
runs = []
before = gc.get_threshold()
gc.callbacks.append(lambda phase, info: runs.append(info["generation"]) if phase == "start" else None)
(pool.warm_without_gc if sys.argv[1] == "rarely" else warm_up)()
print(len(runs), gc.get_threshold() == before)
"""


def test_the_pools_warm_up_runs_the_collector_rarely_and_restores_its_thresholds():
    """Warming compiles ~1,000 regular expressions: with the usual thresholds, the collector
    runs over and over (a quarter of the warm-up's CPU); the pool's warm-up runs it far less
    often, and puts the thresholds back."""
    import subprocess
    import sys

    def collections(how: str) -> tuple[int, str]:
        out = subprocess.run(
            [sys.executable, "-c", _COUNT_COLLECTIONS, how], capture_output=True, text=True, check=True
        )
        count, restored = out.stdout.split()
        return int(count), restored

    rarely, restored = collections("rarely")
    assert restored == "True"
    usual, restored = collections("usual")
    assert restored == "True"
    assert usual > 100 and rarely * 5 < usual, (rarely, usual)


def test_workers_are_forked_from_a_frozen_heap_and_the_parent_is_unfrozen_after():
    import gc
    import os

    from wiredesk.extractors.pool import _frozen_heap

    assert gc.get_freeze_count() == 0
    read, write = os.pipe()
    with _frozen_heap(True):
        pid = os.fork()
        if pid == 0:  # the child: what it inherited is out of its collector's reach
            os.write(write, str(gc.get_freeze_count()).encode())
            os._exit(0)
    os.waitpid(pid, 0)
    os.close(write)
    assert int(os.read(read, 64)) > 1000
    os.close(read)
    assert gc.get_freeze_count() == 0  # nothing of this process stays frozen
    with _frozen_heap(False):  # not forking (a forkserver's workers): nothing to freeze
        assert gc.get_freeze_count() == 0
