"""extract_many: a batch of pages over every core, with a per-page timeout.

A small purpose-built pool rather than ProcessPoolExecutor, because a page that hangs
inside lxml (C code, no Python bytecode to interrupt) can only be stopped by killing its
process, and killing one ProcessPoolExecutor worker breaks the whole executor. Here the
parent tracks each worker's deadline, kills a worker that overruns it, records
ExtractionError(reason="timeout") for that page and starts a fresh worker; the rest of
the batch goes on. Workers are forked when the caller is single-threaded, else started
from a forkserver (preloaded with this package): the caller may be a multi-threaded
Prefect process. (Like any multiprocessing user, scripts calling this need the
``if __name__ == "__main__":`` guard.)
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
from collections.abc import Mapping, Sequence
from multiprocessing.connection import Connection, wait
from time import monotonic

from wiredesk.core.errors import ExtractionError, InputError, WiredeskError
from wiredesk.core.records import Extracted, RawPage

from .core import extract_page
from .metadata import host_of
from .profile import HostProfile
from .settings import ExtractSettings
from .warm import warm_up

_DEFAULT = ExtractSettings()
_GRACE_S = 2.0  # the worker's own alarm fires first; the kill is the backstop


def cpu_count() -> int:
    """Cores this process may use (affinity-aware where the OS tells us)."""
    fn = getattr(os, "process_cpu_count", None)  # Python 3.13+
    if fn is not None:
        return fn() or 1
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:
        return os.cpu_count() or 1


def profile_host(page: RawPage) -> str:
    """The key a page's host profile is stored under: URL host, else the source name."""
    return host_of(page.url) or page.source


class _Timeout(Exception):
    pass


def _on_alarm(signum, frame):  # noqa: ARG001 - signal handler signature
    raise _Timeout()


def _guarded(
    page: RawPage, settings: ExtractSettings, profile: HostProfile | None, use_alarm: bool
) -> Extracted | WiredeskError:
    """extract_page with errors returned, not raised (the batch contract)."""
    if use_alarm:
        signal.setitimer(signal.ITIMER_REAL, settings.timeout_s)
    try:
        return extract_page(page, settings=settings, profile=profile)
    except _Timeout:
        return ExtractionError(f"extraction took over {settings.timeout_s}s", reason="timeout")
    except WiredeskError as exc:
        return exc
    except RecursionError:
        return ExtractionError("markup nested too deeply", reason="too-deep")
    except Exception as exc:  # a bug or a library crash on one page must not stop the batch
        return ExtractionError(f"{type(exc).__name__}: {exc}", reason="crash")
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)


def _worker(conn: Connection, settings: ExtractSettings, profiles: Mapping[str, HostProfile]) -> None:
    signal.signal(signal.SIGALRM, _on_alarm)
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        index, page = task
        conn.send((index, _guarded(page, settings, profiles.get(profile_host(page)), True)))


def extract_many(
    pages: Sequence[RawPage],
    *,
    settings: ExtractSettings = _DEFAULT,
    profiles: Mapping[str, HostProfile] | None = None,
    workers: int | None = None,
) -> list[Extracted | WiredeskError]:
    """Extract a batch; same order as ``pages``; errors returned in place, never raised."""
    profiles = profiles or {}
    n = cpu_count() if workers is None else max(1, workers)
    n = min(n, len(pages))
    if n <= 1 or len(pages) < settings.pool_min_batch:
        return _in_process(pages, settings, profiles)
    warm_up()  # once per process, before forking: workers inherit the loaded data
    return _Pool(n, settings, profiles).run(pages)


def _in_process(
    pages: Sequence[RawPage], settings: ExtractSettings, profiles: Mapping[str, HostProfile]
) -> list[Extracted | WiredeskError]:
    # SIGALRM only works on the main thread; elsewhere (a Prefect worker thread) the
    # timeout is not enforced in-process; callers that need it use workers > 1.
    use_alarm = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    previous = signal.signal(signal.SIGALRM, _on_alarm) if use_alarm else None
    try:
        return [_guarded(p, settings, profiles.get(profile_host(p)), use_alarm) for p in pages]
    finally:
        if use_alarm and previous is not None:
            signal.signal(signal.SIGALRM, previous)


def _context() -> mp.context.BaseContext:
    # fork is fastest and does not re-import __main__, but forking a process that runs
    # other threads can deadlock the child (a lock held by a thread that does not exist
    # there), so with threads around, workers come from a forkserver.
    if threading.active_count() == 1 and "fork" in mp.get_all_start_methods():
        return mp.get_context("fork")
    try:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["wiredesk.extractors._preload"])  # warm workers
        return ctx
    except ValueError:  # no forkserver on this platform
        return mp.get_context("spawn")


class _Pool:
    def __init__(self, n: int, settings: ExtractSettings, profiles: Mapping[str, HostProfile]):
        self.n, self.settings, self.profiles = n, settings, dict(profiles)
        self.ctx = _context()

    def _start(self) -> tuple[mp.Process, Connection]:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_worker, args=(child, self.settings, self.profiles), daemon=True)
        proc.start()
        child.close()
        return proc, parent

    def run(self, pages: Sequence[RawPage]) -> list[Extracted | WiredeskError]:
        results: list[Extracted | WiredeskError | None] = [None] * len(pages)
        todo = list(range(len(pages)))[::-1]  # pop() from the end = page order
        workers = [self._start() for _ in range(self.n)]
        busy: dict[int, tuple[int, float]] = {}  # worker slot -> (page index, deadline)
        limit = self.settings.timeout_s + _GRACE_S
        try:
            while todo or busy:
                for slot, (proc, conn) in enumerate(workers):
                    if slot not in busy and todo:
                        i = todo.pop()
                        try:
                            conn.send((i, pages[i]))
                        except (BrokenPipeError, OSError):
                            todo.append(i)
                            workers[slot] = self._restart(proc)
                            continue
                        busy[slot] = (i, monotonic() + limit)
                ready = wait([workers[s][1] for s in busy], timeout=0.5)
                for slot in list(busy):
                    proc, conn = workers[slot]
                    i, deadline = busy[slot]
                    if conn in ready:
                        try:
                            index, result = conn.recv()
                        except (EOFError, OSError):  # the worker died (segfault, OOM kill)
                            index, result = i, ExtractionError("extraction worker died", reason="crash")
                            workers[slot] = self._restart(proc)
                        results[index] = result
                        del busy[slot]
                    elif monotonic() > deadline:
                        results[i] = ExtractionError(
                            f"extraction took over {self.settings.timeout_s}s", reason="timeout"
                        )
                        workers[slot] = self._restart(proc)
                        del busy[slot]
        finally:
            for proc, conn in workers:
                try:
                    conn.send(None)
                    conn.close()
                except OSError:
                    pass
            for proc, _ in workers:
                proc.join(timeout=1.0)
                if proc.is_alive():
                    proc.kill()
                    proc.join()
        return [r if r is not None else InputError("not processed", reason="crash") for r in results]

    def _restart(self, proc: mp.Process) -> tuple[mp.Process, Connection]:
        if proc.is_alive():
            proc.kill()
        proc.join()
        return self._start()
