"""extract_many and ExtractPool: pages over every core, with a per-page timeout.

A small purpose-built pool rather than ProcessPoolExecutor, because a page that hangs
inside lxml (C code, no Python bytecode to interrupt) can only be stopped by killing its
process, and killing one ProcessPoolExecutor worker breaks the whole executor. Here the
parent tracks each worker's deadline, kills a worker that overruns it, records
ExtractionError(reason="timeout") for that page and starts a fresh worker; the rest of
the batch goes on. ``ExtractPool`` keeps its workers for a whole run and feeds them from a
thread, so batches overlap (a run's next batch extracts while the caller stores the one
before); ``extract_many`` is one batch through a pool of its own. Workers are forked when
the caller is single-threaded, else started from a forkserver (preloaded with this
package): the caller may be a multi-threaded Prefect process. (Like any multiprocessing
user, scripts calling this need the ``if __name__ == "__main__":`` guard.)
"""

from __future__ import annotations

import atexit
import gc
import multiprocessing as mp
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection, wait
from multiprocessing.reduction import recv_handle, send_handle
from time import monotonic, sleep
from typing import TYPE_CHECKING

from wiredesk.core.errors import ExtractionError, InputError, WiredeskError
from wiredesk.core.records import Extracted, NotArticle, RawPage

from .metadata import host_of
from .settings import ExtractSettings
from .warm import warm_up

if TYPE_CHECKING:
    from .profile import HostProfile

_DEFAULT = ExtractSettings()
_GRACE_S = 2.0  # the worker's own alarm fires first; the kill is the backstop
# A worker is replaced after this many pages: the extraction libraries' caches and the heap's
# fragmentation grow with the pages a process has seen, and a run-long worker would carry
# them to the run's end (workers started per batch never did). ~0.1 s per replacement.
RECYCLE_PAGES = 500


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


# A page-type check given with a batch: why a page is no article (then it is not extracted),
# or None. It runs where the page is extracted, under the same timeout; it travels pickled.
PageCheck = Callable[[RawPage], str | None]


def _guarded(
    page: RawPage,
    settings: ExtractSettings,
    profile: HostProfile | None,
    use_alarm: bool,
    check: PageCheck | None = None,
) -> Extracted | NotArticle | WiredeskError:
    """extract_page with errors returned, not raised (the batch contract)."""
    # Imported here, not with this module: the run's own process, which only feeds the pool,
    # never loads the extraction libraries (its workers have them from their warm parent).
    from .core import extract_page

    # The alarm is armed and disarmed inside the try: a short timeout can fire before the first
    # statement of the page's work, or while the finally disarms it, and must still come back
    # as this page's timeout, never as an exception out of the worker.
    try:
        try:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, settings.timeout_s)
            if check is not None:
                why = check(page)
                if why is not None:
                    return NotArticle(why)
            return extract_page(page, settings=settings, profile=profile)
        finally:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
    except _Timeout:
        return ExtractionError(f"extraction took over {settings.timeout_s}s", reason="timeout")
    except WiredeskError as exc:
        return exc
    except RecursionError:
        return ExtractionError("markup nested too deeply", reason="too-deep")
    except Exception as exc:  # a bug or a library crash on one page must not stop the batch
        return ExtractionError(f"{type(exc).__name__}: {exc}", reason="crash")


def _worker(conn: Connection, settings: ExtractSettings, inherited: Sequence[int] = ()) -> None:
    """A pool process: pages in (with the key of their host profile), results out; profiles
    arrive as ("profile", key, profile) before the first page that needs them."""
    for fd in inherited:  # forked: the parent's ends of other pipes are not ours to hold
        try:
            os.close(fd)
        except OSError:
            pass
    signal.signal(signal.SIGALRM, _on_alarm)
    from . import core  # noqa: F401 - loaded before the first page's alarm (a stand-in starts without it)

    profiles: dict[str, HostProfile] = {}
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        first, key, payload, check = task
        if first == "profile":
            profiles[key] = payload
        elif first == "forget":
            profiles.pop(key, None)
        else:
            conn.send((first, _guarded(payload, settings, profiles.get(key) if key else None, True, check)))


def extract_many(
    pages: Sequence[RawPage],
    *,
    settings: ExtractSettings = _DEFAULT,
    profiles: Mapping[str, HostProfile] | None = None,
    workers: int | None = None,
    check: PageCheck | None = None,
) -> list[Extracted | NotArticle | WiredeskError]:
    """Extract a batch; same order as ``pages``; errors returned in place, never raised.
    With ``check``, a page it names a reason for is not extracted: ``NotArticle(reason)``."""
    profiles = profiles or {}
    n = cpu_count() if workers is None else max(1, workers)
    n = min(n, len(pages))
    if n <= 1 or len(pages) < settings.pool_min_batch:
        return _in_process(pages, settings, profiles, check)
    with ExtractPool(n, settings) as pool:
        return pool.results(pool.submit(pages, profiles, check=check))


def _in_process(
    pages: Sequence[RawPage],
    settings: ExtractSettings,
    profiles: Mapping[str, HostProfile],
    check: PageCheck | None = None,
) -> list[Extracted | NotArticle | WiredeskError]:
    # SIGALRM only works on the main thread; elsewhere (a Prefect worker thread) the
    # timeout is not enforced in-process; callers that need it use workers > 1.
    use_alarm = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    previous = signal.signal(signal.SIGALRM, _on_alarm) if use_alarm else None
    try:
        return [_guarded(p, settings, profiles.get(profile_host(p)), use_alarm, check) for p in pages]
    finally:
        if use_alarm and previous is not None:
            signal.signal(signal.SIGALRM, previous)


def _context() -> mp.context.BaseContext:
    # fork is fastest and does not re-import __main__, but forking a process that runs
    # other threads can deadlock the child (a lock held by a thread that does not exist
    # there), so with threads around, workers come from a forkserver.
    if threading.active_count() == 1 and "fork" in mp.get_all_start_methods():
        return mp.get_context("fork")
    return _threaded_context()


def _threaded_context() -> mp.context.BaseContext:
    try:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["wiredesk.extractors._preload"])  # warm workers
        return ctx
    except ValueError:  # no forkserver on this platform
        return mp.get_context("spawn")


# While warming: the cyclic collector's first generation is collected every this many new
# objects instead of every 700 (Python's default).
WARM_GC_THRESHOLD = 10_000


def warm_without_gc() -> None:
    """``warm_up`` with the cyclic garbage collector running rarely: warming compiles some
    thousand regular expressions (dateparser's locales), whose many new objects made the
    collector run over and over, about a quarter of the warm-up's CPU time. A first generation
    of 10,000 objects instead of 700 saves most of that (1.84 -> 1.50 CPU s, interleaved fresh
    processes) at the same peak memory (turning the collector off saved a little more but let
    the warm-up's garbage pile up: +57 MB of peak RSS, in every forked worker too). The usual
    thresholds are back as soon as it is done; what the warm-up loads is the same."""
    before = gc.get_threshold()
    gc.set_threshold(max(WARM_GC_THRESHOLD, before[0]), *before[1:])
    try:
        warm_up()
    finally:
        gc.set_threshold(*before)


@contextmanager
def _frozen_heap(forking: bool) -> Iterator[None]:
    """While workers are forked: everything this process holds goes to the collector's
    permanent generation (``gc.freeze``), so a forked worker's full collections never walk
    (nor, writing their headers, copy) the objects it inherited; this process's own are
    handed back to the collector right after (``gc.unfreeze``), nothing stays frozen here."""
    if not forking:
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# -- the zygote: a warm process forked at a one-shot run's start, the pool's workers forked from it --


class _Grandchild:
    """A worker forked by the zygote (not by this process): what ``_Slot`` asks of a process,
    from its pid and a sentinel pipe whose write end only the worker holds (it reads as
    ready once the worker has ended). The zygote reaps it."""

    def __init__(self, pid: int, sentinel: int) -> None:
        self.pid, self.sentinel = pid, sentinel
        self._ended = False

    def _check(self, timeout: float | None) -> bool:
        if not self._ended and wait([self.sentinel], timeout):
            self._ended = True
            os.close(self.sentinel)
        return self._ended

    def is_alive(self) -> bool:
        return not self._check(0)

    def kill(self) -> None:
        if self.is_alive():
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def join(self, timeout: float | None = None) -> None:
        self._check(timeout)


class Zygote:
    """A process forked early in a one-shot run (``prestart``, before the run's own imports and
    set-up), which warms up (``warm_without_gc``) while the run's process goes on, and then
    forks the pool's workers (warm, as if forked from a warm parent) when the pool starts, and
    their replacements later (a fork, not a forkserver's cold start). The run's process then
    never warms itself: the warm-up's CPU seconds run on the other core, beside the run's
    imports and set-up, instead of before the first page is extracted while a core idles.
    Workers' pipes and sentinels travel to this process over the zygote's socket pair."""

    def __init__(self) -> None:
        ours, theirs = mp.Pipe()  # duplex: a socket pair, which file descriptors can travel over
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # nothing buffered is printed twice
        pid = os.fork()
        if pid == 0:  # the zygote: it never returns from here
            status = 1
            try:
                ours.close()
                _zygote_main(theirs, os.getppid())
                status = 0
            finally:
                os._exit(status)
        theirs.close()
        self.pid = pid
        self._conn = ours
        self._lock = threading.Lock()
        self._reaped = False
        self._warm = False  # its "ready" was read

    def ready(self, timeout: float = 0.0) -> bool:
        """Whether the zygote has warmed up (it says so once); raises EOFError if it died first."""
        with self._lock:
            if not self._warm and self._conn.poll(timeout):
                message = self._conn.recv()
                if message[0] != "ready":
                    raise RuntimeError(f"the extraction zygote said {message[0]!r} before it was ready")
                self._warm = True
            return self._warm

    @property
    def connection(self) -> Connection:
        return self._conn

    def spawn(self, settings: ExtractSettings) -> tuple[_Grandchild, Connection]:
        """A new worker with ``settings``: its process and its pipe (waits for the warm-up)."""
        self.ready(timeout=None)
        with self._lock:
            self._conn.send(("fork", settings))
            message = self._conn.recv()
            if message[0] != "pid":
                raise RuntimeError(f"the extraction zygote could not fork a worker: {message[1]}")
            conn = Connection(recv_handle(self._conn))
            sentinel = recv_handle(self._conn)
        return _Grandchild(message[1], sentinel), conn

    def close(self, *, kill: bool = False, timeout_s: float = 5.0) -> None:
        """End the zygote: at once with ``kill`` (never used: it may still be warming up), else
        once the workers it forked have ended (it waits for them)."""
        if self._reaped:
            return
        if kill:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._conn.close()
        deadline = monotonic() + timeout_s
        while True:
            try:
                pid, _ = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                break
            if pid:
                break
            if monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
                break
            sleep(0.01)
        self._reaped = True


def _zygote_main(conn: Connection, parent: int) -> None:
    """The zygote's life: warm up, then fork a worker per request until its pipe closes, then
    wait for the workers it forked to end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle: it closes the pool
    warm_without_gc()
    gc.freeze()  # what the workers inherit is never walked (nor copied) by their collections
    try:
        conn.send(("ready", None))  # the pool may have started with a stand-in: it can have warm workers now
    except OSError:
        return
    children: set[int] = set()
    while True:
        for pid in list(children):
            if os.waitpid(pid, os.WNOHANG)[0]:
                children.discard(pid)
        if not conn.poll(0.5):
            continue
        try:
            message = conn.recv()
        except (EOFError, OSError):
            break
        if message[0] != "fork":
            break
        ours, theirs = mp.Pipe()
        sentinel_r, sentinel_w = os.pipe()
        try:
            pid = os.fork()
        except OSError as exc:
            conn.send(("error", str(exc)))
            continue
        if pid == 0:  # the worker: holds its pipe and the sentinel's write end, nothing else of ours
            status = 1
            try:
                signal.signal(signal.SIGINT, signal.default_int_handler)
                for end in (conn, ours):
                    end.close()
                os.close(sentinel_r)
                _worker(theirs, message[1])
                status = 0
            finally:
                os._exit(status)
        theirs.close()
        os.close(sentinel_w)
        children.add(pid)
        conn.send(("pid", pid))
        send_handle(conn, ours.fileno(), parent)
        send_handle(conn, sentinel_r, parent)
        ours.close()
        os.close(sentinel_r)
    for pid in children:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


_ZYGOTE: Zygote | None = None


def _core_free() -> bool:
    """Whether a core is likely idle (1-minute load average below the cores this process may
    use): only then does a stand-in worker extract while the zygote warms up. On a saturated
    machine it would take its CPU from the zygote's warm-up and the run's own work instead (a
    600-page run at load 14 spent ~0.9 CPU s more with it: its own imports and cold caches)."""
    try:
        return os.getloadavg()[0] < cpu_count()
    except OSError:
        return False


def prestart() -> bool:
    """Fork the zygote now (see ``Zygote``), for the next ``ExtractPool`` that starts in this
    process to take; whether it did. Only while this process is single-threaded and may fork;
    one unused at exit is killed."""
    global _ZYGOTE
    if _ZYGOTE is not None:
        return True
    if "fork" not in mp.get_all_start_methods() or threading.active_count() != 1:
        return False
    _ZYGOTE = Zygote()
    atexit.register(_discard_zygote)
    return True


def _take_zygote() -> Zygote | None:
    global _ZYGOTE
    zygote, _ZYGOTE = _ZYGOTE, None
    return zygote


def _discard_zygote() -> None:
    zygote = _take_zygote()
    if zygote is not None:
        zygote.close(kill=True)


class PoolBatch:
    """Pages handed to an ``ExtractPool`` together; ``ExtractPool.results`` waits for them."""

    def __init__(self, size: int, check: PageCheck | None = None) -> None:
        self.results: list[Extracted | NotArticle | WiredeskError | None] = [None] * size
        self.left = size
        self.check = check  # sent with each of its pages


class _Slot:
    """One worker process, what it is extracting and which profile versions it holds."""

    def __init__(self, proc: mp.process.BaseProcess, conn: Connection) -> None:
        self.proc, self.conn = proc, conn
        self.task: tuple[PoolBatch, int, RawPage, str | None] | None = None
        self.deadline = 0.0
        self.stand_in = False  # a cold worker that extracts while the zygote warms up (retired then)
        self.known: dict[str, int] = {}  # profile key -> version this worker has
        self.pages = 0  # pages it has extracted


def _end(slot: _Slot, *, graceful: bool) -> None:
    """A worker's end: an idle one (``graceful``) is asked to stop and given a second, then
    whatever still runs is killed; its process is reaped and its pipe closed."""
    if graceful:
        try:
            slot.conn.send(None)
        except OSError:
            pass
        slot.proc.join(timeout=1.0)
    if slot.proc.is_alive():
        slot.proc.kill()
    slot.proc.join()
    slot.conn.close()


class ExtractPool:
    """Extraction processes kept for a whole run and fed one page at a time by a thread of the
    caller, so they never wait for the caller: while it deduplicates and stores one batch, the
    workers already extract the next one (``submit`` returns at once, ``results`` waits).

    Each worker holds one page at a time, so a page that overruns ``settings.timeout_s``
    (plus a grace) is stopped by killing its worker, recorded as a ``timeout`` and the worker
    replaced, as before. Host profiles travel once per worker and version, not with every page,
    and are forgotten when no queued page needs them. Results keep each batch's page order.
    """

    def __init__(self, workers: int, settings: ExtractSettings = _DEFAULT, *, recycle_after: int = RECYCLE_PAGES):
        self.n = max(1, workers)
        self.settings = settings
        self.recycle_after = max(1, recycle_after)
        self.recycled = 0  # workers replaced after recycle_after pages
        self._cond = threading.Condition()
        self._todo: deque[tuple[PoolBatch, int, RawPage, str | None]] = deque()
        self._profiles: dict[str, tuple[int, HostProfile]] = {}
        self._uses: dict[str, int] = {}  # profile key -> pages queued or running that use it
        self._version = 0
        self._slots: list[_Slot] = []
        self._thread: threading.Thread | None = None
        self._zygote: Zygote | None = None  # the warm process the workers are forked from, if any
        self._wake_r, self._wake_w = mp.Pipe(duplex=False)
        self._closing = False
        self._error: BaseException | None = None
        self.max_pending = 0  # the most pages queued or in extraction at once (bounded by the caller)
        self.done = 0  # pages extracted so far
        self.busy_s = 0.0  # seconds during which at least one page was in extraction
        self.stand_ins = 0  # stand-in workers started while the zygote warmed up (0 or 1)

    # -- the caller's side ----------------------------------------------------------------

    def submit(
        self,
        pages: Sequence[RawPage],
        profiles: Mapping[str, HostProfile] | None = None,
        *,
        check: PageCheck | None = None,
    ) -> PoolBatch:
        """Queue ``pages`` for extraction; a page uses the profile of its host if ``profiles``
        has one (as ``extract_many`` does), and is checked by ``check`` first (as there).
        Returns at once."""
        batch = PoolBatch(len(pages), check)
        profiles = profiles or {}
        with self._cond:
            if self._closing:
                raise RuntimeError("the extraction pool is closed")
            for key, profile in profiles.items():
                self._version += 1
                self._profiles[key] = (self._version, profile)
            for i, page in enumerate(pages):
                host = profile_host(page)
                key = host if host in profiles else None
                if key is not None:
                    self._uses[key] = self._uses.get(key, 0) + 1
                self._todo.append((batch, i, page, key))
            for key in profiles:  # a profile no page of this batch needs is not kept
                if not self._uses.get(key):
                    self._profiles.pop(key, None)
            pending = len(self._todo) + sum(1 for s in self._slots if s.task is not None)
            self.max_pending = max(self.max_pending, pending)
            if self._thread is None and pages:
                self._start_workers()
        self._wake_w.send_bytes(b"!")
        return batch

    def start(self) -> None:
        """Start the workers now (from any thread), not with the first pages submitted: a run
        that knows pages will come (a crawl) pays the start-up while it waits for them."""
        with self._cond:
            if self._thread is None and not self._closing:
                self._start_workers()

    def results(self, batch: PoolBatch) -> list[Extracted | NotArticle | WiredeskError]:
        """The batch's results in page order, once all are in (errors in place, never raised)."""
        with self._cond:
            while batch.left and self._error is None:
                self._cond.wait(1.0)
            if batch.left and self._error is not None:
                raise RuntimeError("the extraction pool failed") from self._error
        return [r if r is not None else InputError("not processed", reason="crash") for r in batch.results]

    @property
    def pages_per_second(self) -> float | None:
        """Measured throughput of the whole pool (None until a page is done)."""
        with self._cond:
            return self.done / self.busy_s if self.done and self.busy_s > 0 else None

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._todo.clear()
        if self._thread is not None:
            self._wake_w.send_bytes(b"!")
            self._thread.join()
        for conn in (self._wake_r, self._wake_w):
            conn.close()

    def __enter__(self) -> ExtractPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the feeding thread ---------------------------------------------------------------

    def _start_workers(self) -> None:
        zygote = _take_zygote()
        if zygote is not None:  # forked warm at the run's start: the workers come from it
            try:
                self._zygote = zygote
                if not zygote.ready() and _context().get_start_method() == "fork" and _core_free():
                    # Still warming up: a stand-in worker forked from here extracts meanwhile, on the
                    # core that would otherwise wait for the warm-up; the feeding thread replaces it
                    # with the zygote's warm workers as soon as the zygote is ready (``_take_warm``).
                    with _frozen_heap(True):
                        self._slots.append(self._start(mp.get_context("fork")))
                    self._slots[0].stand_in = True
                    self.stand_ins += 1
                else:
                    for _ in range(self.n):
                        self._slots.append(_Slot(*zygote.spawn(self.settings)))
                self._zygote = zygote
            except (OSError, EOFError, RuntimeError):  # it is gone: the workers come from here
                self._zygote = None
                zygote.close(kill=True)
                for slot in self._slots:
                    slot.conn.close()
                    slot.proc.kill()
                self._slots.clear()
        if not self._slots:
            self._start_here()
        self._thread = threading.Thread(target=self._feed, name="wiredesk-extract-pool", daemon=True)
        self._thread.start()

    def _start_here(self) -> None:
        # Chosen while the caller may still be single-threaded (fork: fastest, workers start
        # warm). Replacements are started later, from the feeding thread: never by fork then.
        ctx = _context()
        fork = ctx.get_start_method() == "fork"
        if fork:
            warm_without_gc()  # once per process, before forking: workers inherit the loaded data
        # (a forkserver preloads it itself: warming this process too would only hold its GIL
        # for seconds while its other threads, a crawl's fetcher among them, wait)
        with _frozen_heap(fork):
            for _ in range(self.n):
                self._slots.append(self._start(ctx))

    def _start(self, ctx: mp.context.BaseContext) -> _Slot:
        parent, child = ctx.Pipe()
        # A forked worker inherits this process's ends of the other workers' pipes: it closes
        # them, or after a kill of this process the orphaned workers would keep each other's
        # pipes open and wait for work forever instead of seeing their pipe close.
        inherited = [s.conn.fileno() for s in self._slots if not s.conn.closed] + [parent.fileno()]
        inherited += [self._wake_r.fileno(), self._wake_w.fileno()]
        if self._zygote is not None:  # a stand-in: the zygote must see this process's end close, not a copy
            inherited.append(self._zygote.connection.fileno())
        fds = inherited if ctx.get_start_method() == "fork" else []
        proc = ctx.Process(target=_worker, args=(child, self.settings, fds), daemon=True)
        proc.start()
        child.close()
        return _Slot(proc, parent)

    def _feed(self) -> None:
        limit = self.settings.timeout_s + _GRACE_S
        try:
            while True:
                with self._cond:
                    if self._closing:
                        break
                    for slot in self._slots:
                        if slot.task is None and self._todo:
                            self._dispatch(slot, self._todo.popleft(), limit)
                busy = [s for s in self._slots if s.task is not None]
                since = monotonic()
                warming = self._warming()
                ready = wait([s.conn for s in busy] + [self._wake_r] + warming, timeout=0.5)
                if self._wake_r in ready:
                    while self._wake_r.poll():
                        self._wake_r.recv_bytes()
                with self._cond:
                    if warming and warming[0] in ready:
                        self._take_warm()
                    if busy:
                        self.busy_s += monotonic() - since
                    for slot in busy:
                        if slot.conn in ready:
                            self._receive(slot)
                        elif monotonic() > slot.deadline:
                            timeout = f"extraction took over {self.settings.timeout_s}s"
                            self._finish(slot, ExtractionError(timeout, reason="timeout"))
                            self._replace(slot)
                    self._cond.notify_all()
        except BaseException as exc:  # never leave a caller waiting for results that cannot come
            with self._cond:
                self._error = exc
                self._cond.notify_all()
        finally:
            self._stop_workers()

    def _warming(self) -> list[Connection]:
        """The zygote's pipe while a stand-in works in place of its warm workers (its "ready"
        wakes the feeding thread), else nothing."""
        if self._zygote is not None and any(slot.stand_in for slot in self._slots):
            return [self._zygote.connection]
        return []

    def _take_warm(self) -> None:
        """The zygote is warm (or gone): the pool gets its ``n`` workers from it (from a
        forkserver if it died) and the stand-in stops after the page it holds, if any."""
        if self._zygote is not None:
            try:
                self._zygote.ready()
            except (OSError, EOFError, RuntimeError):
                self._zygote.close(kill=True)
                self._zygote = None
        for _ in range(self.n - sum(1 for s in self._slots if not s.stand_in)):
            fresh = None
            if self._zygote is not None:
                try:
                    fresh = _Slot(*self._zygote.spawn(self.settings))
                except (OSError, EOFError, RuntimeError):
                    self._zygote.close(kill=True)
                    self._zygote = None
            self._slots.append(fresh if fresh is not None else self._start(_threaded_context()))
        for slot in [s for s in self._slots if s.stand_in and s.task is None]:
            self._retire(slot)

    def _retire(self, slot: _Slot) -> None:
        """A stand-in that holds no page: asked to stop, and out of the pool."""
        _end(slot, graceful=True)
        self._slots.remove(slot)

    def _dispatch(self, slot: _Slot, task: tuple[PoolBatch, int, RawPage, str | None], limit: float) -> None:
        batch, index, page, key = task
        try:
            if key is not None and slot.known.get(key) != self._profiles[key][0]:
                version, profile = self._profiles[key]
                slot.conn.send(("profile", key, profile, None))
                slot.known[key] = version
            for old in [k for k in slot.known if k not in self._profiles]:
                slot.conn.send(("forget", old, None, None))
                del slot.known[old]
            slot.conn.send((index, key, page, batch.check))
        except (BrokenPipeError, OSError):  # the worker is gone: the page goes first to a new one
            self._todo.appendleft(task)
            self._replace(slot)
            return
        slot.task, slot.deadline = task, monotonic() + limit

    def _receive(self, slot: _Slot) -> None:
        try:
            _, result = slot.conn.recv()
        except (EOFError, OSError):  # the worker died (segfault, OOM kill)
            self._finish(slot, ExtractionError("extraction worker died", reason="crash"))
            self._replace(slot)
            return
        self._finish(slot, result)
        slot.pages += 1
        if slot.stand_in and len(self._slots) > self.n:  # the warm workers are in: it is done
            self._retire(slot)
        elif slot.pages >= self.recycle_after and not self._closing:
            self.recycled += 1
            self._replace(slot, graceful=True)

    def _finish(self, slot: _Slot, result: Extracted | NotArticle | WiredeskError) -> None:
        assert slot.task is not None
        batch, index, _, key = slot.task
        batch.results[index] = result
        batch.left -= 1
        self.done += 1
        slot.task = None
        if key is not None:
            self._uses[key] -= 1
            if not self._uses[key]:
                del self._uses[key]
                self._profiles.pop(key, None)

    def _replace(self, slot: _Slot, *, graceful: bool = False) -> None:
        if slot.stand_in:  # gone (a timeout, a crash) before the warm workers came: they come now
            _end(slot, graceful=False)
            self._slots.remove(slot)
            if len(self._slots) < self.n:
                self._take_warm()  # waits for the zygote's warm-up
            return
        _end(slot, graceful=graceful)
        fresh = None
        if self._zygote is not None:  # a fork of the warm zygote, not a forkserver's cold start
            try:
                fresh = _Slot(*self._zygote.spawn(self.settings))
            except (OSError, EOFError, RuntimeError):
                self._zygote.close(kill=True)
                self._zygote = None
        if fresh is None:
            fresh = self._start(_threaded_context())
        slot.proc, slot.conn, slot.task, slot.known, slot.pages = fresh.proc, fresh.conn, None, {}, 0

    def _stop_workers(self) -> None:
        for slot in self._slots:
            try:
                slot.conn.send(None)
                slot.conn.close()
            except OSError:
                pass
        for slot in self._slots:
            slot.proc.join(timeout=1.0)
            if slot.proc.is_alive():
                slot.proc.kill()
                slot.proc.join()
        if self._zygote is not None:
            try:  # still warming up (a short run ended on its stand-in): it has forked nothing to wait for
                warm = self._zygote.ready()
            except (OSError, EOFError, RuntimeError):
                warm = False
            self._zygote.close(kill=not warm)
            self._zygote = None
