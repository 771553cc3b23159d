"""extract_many: order, errors in place, the process pool, and the per-page timeout."""

from __future__ import annotations

from pathlib import Path

from wiredesk.core.errors import ExtractionError, InputError
from wiredesk.core.records import Extracted, RawPage
from wiredesk.extractors import ExtractSettings, extract_many, extract_page

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _pages() -> list[RawPage]:
    pages = [
        RawPage(source="samples", body=p.read_bytes(), kind="html", path=str(p))
        for p in sorted((SAMPLES / "html").glob("*.html"))
    ]
    pages += [
        RawPage(source="samples", body=p.read_bytes(), kind="text", path=str(p))
        for p in sorted((SAMPLES / "seeds").glob("*.txt"))
    ]
    assert len(pages) >= 9
    bad = [
        RawPage(source="bad", body=b"", kind="text"),
        RawPage(source="bad", body=b"%PDF-1.4\n\x00\x01\x02", kind="html"),
        RawPage(source="bad", body=b"Home\nNews\nContact\n", kind="text"),
    ]
    return pages[:3] + bad + pages[3:]


def _summary(results):
    return [r.text if isinstance(r, Extracted) else (type(r).__name__, r.reason) for r in results]


def test_in_process_order_and_errors_in_place() -> None:
    pages = _pages()
    results = extract_many(pages, workers=1)
    assert len(results) == len(pages)
    assert _summary(results)[3:6] == [
        ("InputError", "empty"),
        ("InputError", "binary"),
        ("ExtractionError", "no-content"),
    ]
    assert results[0] == extract_page(pages[0])


def test_pool_gives_the_same_results() -> None:
    pages = _pages()
    assert _summary(extract_many(pages, workers=2)) == _summary(extract_many(pages, workers=1))


def test_timeout_in_process_and_in_pool() -> None:
    pages = _pages()
    tiny = ExtractSettings(timeout_s=0.0005, pool_min_batch=2)  # no real page parses this fast
    for workers in (1, 2):
        results = extract_many(pages, settings=tiny, workers=workers)
        reasons = [r.reason for r in results if isinstance(r, ExtractionError)]
        assert reasons.count("timeout") >= 5, (workers, reasons)
        # cheap failures still report their own reason
        assert isinstance(results[3], InputError) and results[3].reason == "empty"


def test_an_alarm_firing_as_it_is_armed_or_disarmed_is_the_pages_timeout(monkeypatch) -> None:
    """A timeout short enough to fire before the page's work starts (or while the alarm is being
    disarmed) comes back as that page's timeout, not as an exception out of the worker."""
    import signal

    from wiredesk.extractors import pool

    page = _pages()[0]
    settings = ExtractSettings(timeout_s=1.0)
    for fire_on in ("arm", "disarm"):

        class _Signal:  # the alarm goes off inside the setitimer call itself
            ITIMER_REAL = signal.ITIMER_REAL

            @staticmethod
            def setitimer(which, seconds, *rest):
                if (seconds > 0) == (fire_on == "arm"):
                    pool._on_alarm(signal.SIGALRM, None)

        monkeypatch.setattr(pool, "signal", _Signal)
        result = pool._guarded(page, settings, None, True)
        assert isinstance(result, ExtractionError) and result.reason == "timeout", (fire_on, result)


def test_empty_batch() -> None:
    assert extract_many([]) == []


def test_settings_are_validated() -> None:
    import pytest

    from wiredesk.core.errors import ConfigError

    with pytest.raises(ConfigError):
        ExtractSettings(timeout_s=0)
    with pytest.raises(ConfigError):
        ExtractSettings(profile_min_share=1.5)


def test_pool_from_a_worker_thread() -> None:
    # Prefect runs tasks in threads: the pool must not fork a multi-threaded process
    # (it uses a forkserver then) and must still return every result in order.
    import threading

    pages = _pages()
    out: dict[str, list] = {}
    thread = threading.Thread(target=lambda: out.setdefault("r", extract_many(pages, workers=2)))
    thread.start()
    thread.join(timeout=120)
    assert _summary(out["r"]) == _summary(extract_many(pages, workers=1))


def test_run_long_pool_batches_in_order_and_workers_recycled() -> None:
    """ExtractPool: several batches queued at once come back whole and in page order, equal to
    extraction in this process, while workers are replaced every few pages (bounded memory)."""
    from wiredesk.extractors import ExtractPool

    pages = _pages()
    expected = _summary(extract_many(pages, workers=1))
    with ExtractPool(2, recycle_after=3) as pool:
        first, second = pool.submit(pages), pool.submit(pages[::-1])
        assert _summary(pool.results(second)) == expected[::-1]
        assert _summary(pool.results(first)) == expected
        assert pool.recycled >= 2 * len(pages) // 3 - 2  # each worker replaced after 3 pages
        assert len(pages) < pool.max_pending <= 2 * len(pages)


# -- a page-type check sent with a batch (pages from web archives) --------------------------------

LISTING = (
    b"<!doctype html><html><head><title>World news</title>"
    b'<meta property="og:type" content="website"></head><body><h1>World</h1>'
    + b"".join(b'<h2><a href="/world/%d/">Story %d</a></h2><p>Teaser %d.</p>' % (n, n, n) for n in range(6))
    + b"</body></html>"
)


def _with_listings() -> list[RawPage]:
    pages = _pages()
    listing = RawPage(source="site", body=LISTING, kind="html", url="https://news.example/world/")
    return [listing, *pages[:4], listing, *pages[4:]]


class PidCheck:
    """Names every HTML page, with the process that ran it (picklable: a module-level class)."""

    def __call__(self, page: RawPage) -> str | None:
        import os

        return f"pid {os.getpid()}" if page.kind == "html" else None


def test_a_listing_check_sent_with_the_pages_in_process_and_in_the_pool() -> None:
    from wiredesk.core.records import NotArticle
    from wiredesk.fetching.pagetype import ListingCheck, read_page

    pages = _with_listings()
    settings = ExtractSettings(pool_min_batch=2)
    # The fetcher's own verdict on the listing: what the check must agree with.
    assert read_page(LISTING, "https://news.example/world/").kind == "listing"
    for workers in (1, 2):
        checked = extract_many(pages, settings=settings, workers=workers, check=ListingCheck())
        plain = extract_many(pages, settings=settings, workers=workers)
        assert [i for i, r in enumerate(checked) if isinstance(r, NotArticle)] == [0, 5], workers
        assert checked[0] == NotArticle("og:type website")
        assert not any(isinstance(r, NotArticle) for r in plain)  # no check, no verdict
        assert isinstance(plain[0], Extracted | ExtractionError)  # the listing is extracted then
        # Every other page is extracted exactly as without the check.
        keep = [i for i in range(len(pages)) if i not in (0, 5)]
        assert _summary([checked[i] for i in keep]) == _summary([plain[i] for i in keep])


def test_the_check_runs_in_the_pool_workers_not_in_the_caller() -> None:
    import os

    from wiredesk.core.records import NotArticle
    from wiredesk.extractors import ExtractPool

    pages = _with_listings()
    with ExtractPool(2, ExtractSettings(pool_min_batch=2)) as pool:
        results = pool.results(pool.submit(pages, check=PidCheck()))
        unchecked = pool.results(pool.submit(pages))
    whys = {r.why for r in results if isinstance(r, NotArticle)}
    assert whys and f"pid {os.getpid()}" not in whys
    assert len([p for p in pages if p.kind == "html"]) == sum(isinstance(r, NotArticle) for r in results)
    assert not any(isinstance(r, NotArticle) for r in unchecked)  # the check belongs to its batch


# -- the zygote: a warm process forked early, the pool's workers forked from it --------------------


def _children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rfind(")") + 2 :].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _in_fresh_interpreter(case: str) -> None:
    """Run ``case`` of this module in a new Python process: the zygote is forked only from a
    single-threaded process, and a test session may have threads of earlier tests running."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    code = f"import tests.test_extract_pool as t; t.{case}()"
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_pool_workers_come_from_the_prestarted_zygote_and_it_ends_with_the_pool() -> None:
    _in_fresh_interpreter("_case_workers_from_zygote")


def test_a_zygote_no_pool_takes_is_killed_at_exit_and_a_dead_one_is_not_used() -> None:
    _in_fresh_interpreter("_case_unused_and_dead_zygote")


def _case_workers_from_zygote() -> None:
    import os
    import threading

    import pytest

    from wiredesk.extractors import ExtractPool
    from wiredesk.extractors import pool as pool_module

    assert threading.active_count() == 1 and Path("/proc").is_dir()
    pages = _pages()
    expected = _summary(extract_many(pages, workers=1))
    assert pool_module.prestart()
    zygote = pool_module._ZYGOTE
    assert zygote is not None and zygote.pid in _children_of(os.getpid())
    assert zygote.ready(timeout=None)  # warm before the pool starts: no stand-in (see the next case)
    with ExtractPool(2, recycle_after=4) as pool:
        results = pool.results(pool.submit(pages))
        assert pool._zygote is zygote and pool_module._ZYGOTE is None  # taken by the pool
        workers = {slot.proc.pid for slot in pool._slots}
        assert workers <= _children_of(zygote.pid)  # forked by the zygote, not by this process
        assert not workers & _children_of(os.getpid())
        assert pool.recycled >= 2  # replacements: forks of the zygote too
        again = pool.results(pool.submit(pages[::-1]))
        assert {slot.proc.pid for slot in pool._slots} <= _children_of(zygote.pid)
    assert _summary(results) == expected
    assert _summary(again) == expected[::-1]
    with pytest.raises(ChildProcessError):  # reaped when the pool closed
        os.waitpid(zygote.pid, os.WNOHANG)


def test_a_stand_in_extracts_while_the_zygote_warms_up_and_gives_way_to_its_workers() -> None:
    _in_fresh_interpreter("_case_stand_in")


def _case_stand_in() -> None:
    import os
    import threading
    import time

    from wiredesk.extractors import ExtractPool
    from wiredesk.extractors import pool as pool_module

    assert threading.active_count() == 1
    pool_module._core_free = lambda: True  # as on an idle machine (a loaded one starts no stand-in)
    pages = _pages()
    # A pool that ends on its stand-in, before the zygote is warm: the zygote is killed, not waited for.
    assert pool_module.prestart()
    early = pool_module._ZYGOTE
    assert early is not None
    with ExtractPool(2) as pool:
        assert _summary(pool.results(pool.submit(pages[:1]))) == _summary(extract_many(pages[:1], workers=1))
        assert pool.stand_ins == 1
        started = time.monotonic()
    assert time.monotonic() - started < 4.0  # Zygote.close waits 5 s for a zygote that does not end
    assert not _children_of(os.getpid())
    assert pool_module.prestart()  # the zygote warms up for a while (this process has not warmed up)
    zygote = pool_module._ZYGOTE
    assert zygote is not None
    with ExtractPool(2) as pool:
        first = pool.results(pool.submit(pages))
        assert pool.stand_ins == 1  # the zygote was not warm yet: one cold worker forked from here
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the zygote's "ready" retires the stand-in, idle or not
            with pool._cond:
                if not any(slot.stand_in for slot in pool._slots):
                    break
            time.sleep(0.05)
        with pool._cond:
            workers = {slot.proc.pid for slot in pool._slots}
        assert len(workers) == 2 and workers <= _children_of(zygote.pid)  # the zygote's warm workers
        assert not workers & _children_of(os.getpid())
        second = pool.results(pool.submit(pages[::-1]))
    expected = _summary(extract_many(pages, workers=1))
    assert _summary(first) == expected  # a cold worker extracts exactly as a warm one
    assert _summary(second) == expected[::-1]
    assert not _children_of(os.getpid())  # the stand-in, the workers and the zygote all ended


def test_no_stand_in_when_no_core_is_free() -> None:
    _in_fresh_interpreter("_case_no_stand_in_when_busy")


def _case_no_stand_in_when_busy() -> None:
    from wiredesk.extractors import ExtractPool
    from wiredesk.extractors import pool as pool_module

    pool_module._core_free = lambda: False  # as on a saturated machine
    pages = _pages()
    assert pool_module.prestart()
    zygote = pool_module._ZYGOTE
    assert zygote is not None
    with ExtractPool(2) as pool:
        results = pool.results(pool.submit(pages))
        assert pool.stand_ins == 0
        assert {slot.proc.pid for slot in pool._slots} <= _children_of(zygote.pid)
    assert _summary(results) == _summary(extract_many(pages, workers=1))


def _case_unused_and_dead_zygote() -> None:
    import os
    import signal
    import threading

    import pytest

    from wiredesk.extractors import ExtractPool
    from wiredesk.extractors import pool as pool_module

    assert threading.active_count() == 1
    assert pool_module.prestart()
    unused = pool_module._ZYGOTE
    assert unused is not None
    pool_module._discard_zygote()  # what runs at exit
    with pytest.raises(ChildProcessError):
        os.waitpid(unused.pid, os.WNOHANG)
    # one that died before the pool started: the pool starts its workers itself, as without one
    assert pool_module.prestart()
    dead = pool_module._ZYGOTE
    assert dead is not None
    os.kill(dead.pid, signal.SIGKILL)
    pages = _pages()
    with ExtractPool(2) as pool:
        results = pool.results(pool.submit(pages))
        assert pool._zygote is None
    assert _summary(results) == _summary(extract_many(pages, workers=1))
