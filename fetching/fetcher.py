"""Fetcher: the public face of the fetch stage.

    with Fetcher(settings, state) as fetcher:
        found = fetcher.discover(spec)           # feeds, sitemaps, URLs, site discovery
        for outcome in fetcher.fetch(found):     # batch; concurrent and polite inside
            ...

One Fetcher owns one httpx client, one set of politeness gates and one robots.txt cache,
for as long as it lives, so limits hold across fetch() calls. Sync calls run on the
Fetcher's own event loop in the calling thread (serialised by a lock; if that thread already
runs an event loop, in a helper thread for the call); async callers use ``afetch`` /
``adiscover`` inside their loop. A Fetcher is used either way, not both. State
(FetchState) is called from the thread running the Fetcher's loop: the calling thread,
except in that helper-thread case.

``Fetcher(..., threaded=True)`` runs its loop in a thread of its own instead: sync calls from
any number of threads then run at once on that loop, through one client, one table of
per-host gates (concurrency, interval, Crawl-delay) and one global connection limit. This is
how the sources of one run crawl their hosts in parallel without any host seeing more than
its limits (``wiredesk.pipeline.sources.Crawl``). State is then called from the loop's thread,
so it must be usable from another thread than the caller's (the store is).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import re
import threading
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar
from urllib.parse import urljoin, urlsplit

from wiredesk.core.errors import FetchError
from wiredesk.core.records import FetchRecord, RawPage, utcnow

from . import outcomes
from .discovery import feed_links
from .engine import Engine, HostClosed
from .feeds import Entry, parse_feed, parse_sitemap
from .http import ACCEPT_FEEDS, ACCEPT_PAGES, Response
from .models import Discovered, DiscoveryReport, FetchOutcome, SourceSpec
from .pacing import HostPacer
from .pagetype import read_page
from .settings import FetchSettings
from .ssrf import SchemeRefused, SsrfRefused
from .state import FetchState, SiteNotes
from .urls import HTTP_SCHEMES, canonicalize_url, host_key, origin, request_url, without_tracking

T = TypeVar("T")
log = logging.getLogger("wiredesk.fetching")
DocKind = Literal["feed", "sitemap", "site"]
HOME_NOTE_TTL = 30 * 24 * 3600.0  # a home page's feed links, refreshed whenever it is read


class Fetcher:
    def __init__(
        self,
        settings: FetchSettings,
        state: FetchState,
        *,
        record_fetches: bool = False,
        pacer: HostPacer | None = None,
        threaded: bool = False,
    ) -> None:
        """``pacer``: per-host start times shared with other processes (``fetching.pacing``);
        ``threaded``: run the event loop in a thread of its own, callable from many threads at once."""
        self.pacer = pacer
        self.threaded = threaded
        self._thread: threading.Thread | None = None
        self.settings = settings
        self.state = state
        self.record_fetches = record_fetches
        self._engine: Engine | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._own_loop = False
        self._lock = threading.Lock()
        self._closed = False
        # Feed / sitemap / home-page records of successful fetches, written on a clean close
        # (see commit_discovery): their validators must not outlive a run that crashed.
        self._pending: list[FetchRecord] = []
        self._pending_lock = threading.Lock()  # appended on the loop's thread, taken on the caller's
        self._article_urls: dict[str, re.Pattern[str]] = {}  # source -> its article_urls
        # Per source: identity keys handed out this Fetcher's life, and links found on
        # listing pages not handed out yet (see more_links).
        self._known: dict[str, set[str]] = {}
        self._links: dict[str, dict[str, Discovered]] = {}

    # ---- lifecycle ----------------------------------------------------------------------

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(commit=exc_type is None)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, exc_type: object, *exc: object) -> None:
        await self.aclose(commit=exc_type is None)

    def commit_discovery(self, source: str | None = None) -> None:
        """Record the successful feed / sitemap / home-page fetches of this Fetcher's
        discover calls, with their ETag / Last-Modified. Done by a clean close (the end of
        the ``with`` block without an exception), never after an exception or a kill: had
        a run recorded a feed's validators and then died before its URLs were fetched and
        stored, the next run would get a 304 for the feed and never see those URLs.
        Failures are recorded at once (they carry no new validators; their back-off must
        hold). ``source``: only that source's (a Fetcher shared by the sources of a run
        commits each source as it completes)."""
        pending = self._take_pending(source)
        if pending:
            self.state.record(pending)

    def take_discovery(self, source: str) -> list[FetchRecord]:
        """``source``'s pending discovery records, taken off this Fetcher for the caller to record
        itself (``commit_discovery`` records them at once; a run's shared crawl records the
        records of sources that complete together in one write)."""
        return self._take_pending(source)

    def discard_discovery(self, source: str) -> None:
        """Forget ``source``'s pending discovery records (it did not complete: see commit_discovery)."""
        self._take_pending(source)

    def _take_pending(self, source: str | None) -> list[FetchRecord]:
        with self._pending_lock:
            if source is None:
                taken, self._pending = self._pending, []
            else:
                taken = [r for r in self._pending if r.source == source]
                self._pending = [r for r in self._pending if r.source != source]
        return taken

    def close(self, *, commit: bool = True) -> None:
        """Close the client and the loop; ``commit``: record the discovery fetches first.
        A threaded Fetcher's calls still running in other threads end with CancelledError."""
        if self.threaded:
            self._close_thread(commit=commit)
            return
        with self._lock:
            if self._closed:
                return
            if self._loop is not None and not self._own_loop and self._engine is not None:
                raise RuntimeError("this Fetcher ran in an async loop: close it with aclose()")
            if commit:
                self.commit_discovery()
            self._closed = True
            if self._loop is not None and self._own_loop:
                if self._engine is not None:
                    _drive(self._loop, self._engine.aclose())
                _drive(self._loop, self._loop.shutdown_asyncgens())
                self._loop.close()

    async def aclose(self, *, commit: bool = True) -> None:
        if self._closed:
            return
        if self._own_loop:
            raise RuntimeError("this Fetcher runs its own loop: close it with close()")
        if commit:
            self.commit_discovery()
        self._closed = True
        if self._engine is not None:
            await self._engine.aclose()

    def _close_thread(self, *, commit: bool) -> None:
        with self._lock:
            if self._closed:
                return
            if commit:
                self.commit_discovery()
            self._closed = True  # no new calls from here on
            loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        engine = self._engine

        async def shut() -> None:
            current = asyncio.current_task()
            calls = [t for t in asyncio.all_tasks() if t is not current]
            for call in calls:  # calls still running in other threads: they get CancelledError
                call.cancel()
            await asyncio.gather(*calls, return_exceptions=True)
            if engine is not None:
                await engine.aclose()
            await loop.shutdown_asyncgens()

        try:
            asyncio.run_coroutine_threadsafe(shut(), loop).result()
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()

    def _start_thread(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.new_event_loop()
        started = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(started.set)
            loop.run_forever()

        self._thread = threading.Thread(target=serve, name="wiredesk-fetcher", daemon=True)
        self._thread.start()
        started.wait()
        return loop

    def _run_threaded(self, coro: Coroutine[Any, Any, T]) -> T:
        with self._lock:
            if self._closed:
                coro.close()
                raise RuntimeError("Fetcher is closed")
            if self._loop is None:
                self._loop = self._start_thread()
                self._own_loop = True
            loop = self._loop
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            # Waited for in slices: an exception raised into this thread from outside (a
            # Prefect timeout off the main thread) is only delivered while Python code runs.
            while not future.done():
                concurrent.futures.wait([future], timeout=0.1)
            return future.result()
        except BaseException:
            future.cancel()  # this caller gave up (a timeout, an interrupt): so does the call
            raise

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self.threaded:
            return self._run_threaded(coro)
        with self._lock:
            if self._closed:
                coro.close()
                raise RuntimeError("Fetcher is closed")
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._own_loop = True
            elif not self._own_loop:
                coro.close()
                raise RuntimeError("this Fetcher is used from async code: use afetch/adiscover")
            return _drive(self._loop, coro)

    def _bind(self) -> Engine:
        loop = asyncio.get_running_loop()
        if self._closed:
            raise RuntimeError("Fetcher is closed")
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise RuntimeError("a Fetcher is bound to the event loop it was first used in")
        if self._engine is None:
            cache = self.state if isinstance(self.state, SiteNotes) else None
            self._engine = Engine(self.settings, notes=cache, pacer=self.pacer)
        return self._engine

    # ---- public API -----------------------------------------------------------------------

    def fetch(
        self, urls: Sequence[Discovered | str], *, on_outcome: Callable[[FetchOutcome], None] | None = None
    ) -> list[FetchOutcome]:
        """Fetch a batch; one outcome per input, in input order.

        ``on_outcome``: called with each URL's outcome as soon as it is done (once per distinct
        URL, before the batch returns), so its page can go on (to extraction) while the rest of
        the batch is still fetched. It runs on the Fetcher's loop (another thread, for a threaded
        Fetcher): it must be quick and must not raise (an exception is logged and ignored).

        The state is read (validators, stored, back-off) but, unless the Fetcher was made
        with ``record_fetches=True``, not written: the caller records ``outcome.record`` for
        every outcome, and for an outcome with a page only once that page's article is
        stored. A crash between fetch and store then costs a re-fetch, never an article
        (had the ETag been saved first, the next run would get a 304 and no page).
        Outcomes skipped as ``stored`` / ``backoff`` / ``gave-up`` carry the record unchanged,
        a ``duplicate`` the record of the URL's first copy in the batch (recording them
        again is harmless, and unneeded).
        """
        return self._run(self.afetch(urls, on_outcome=on_outcome))

    def discover(self, spec: SourceSpec) -> list[Discovered]:
        return list(self.discover_report(spec).items)

    def discover_report(self, spec: SourceSpec) -> DiscoveryReport:
        """Find a source's article URLs. Unlike fetch(), this records the feed / sitemap /
        home-page fetches in the state itself: failures at once (they back off), successes
        with their validators on a clean exit (``commit_discovery``)."""
        return self._run(self.adiscover_report(spec))

    async def afetch(
        self, urls: Sequence[Discovered | str], *, on_outcome: Callable[[FetchOutcome], None] | None = None
    ) -> list[FetchOutcome]:
        engine = self._bind()
        urls = [Discovered(request_url(d), "") if isinstance(d, str) else d for d in urls]
        canon = [canonicalize_url(d.url) for d in urls]
        for d, key in zip(urls, canon):
            self._known.setdefault(d.source, set()).add(key)
        prev = self.state.get(list(dict.fromkeys(canon)))
        now = utcnow()
        merged = outcomes.merge_duplicates(urls, canon)
        first: dict[str, int] = {}
        jobs: list[Awaitable[FetchOutcome]] = []
        for i, url in enumerate(canon):
            if url not in first:
                first[url] = i
                job = self._fetch_page(engine, merged[url], url, prev.get(url), now)
                jobs.append(job if on_outcome is None else _reported(job, on_outcome))
        fetched = dict(zip(first, await asyncio.gather(*jobs)))
        results = []
        for i, url in enumerate(canon):
            if first[url] == i:
                results.append(fetched[url])
            else:  # the same record as the first copy: recording both changes nothing
                results.append(FetchOutcome(fetched[url].record, skipped="duplicate"))
        if self.record_fetches:
            self.state.record([o.record for o in results if outcomes.changes_state(o)])
        return results

    async def adiscover(self, spec: SourceSpec) -> list[Discovered]:
        return list((await self.adiscover_report(spec)).items)

    async def adiscover_report(self, spec: SourceSpec) -> DiscoveryReport:
        engine = self._bind()
        found: dict[str, Discovered] = {}  # identity key -> the URL as found, with hints
        documents: list[FetchOutcome] = []
        limit = self.settings.max_urls_per_source
        if spec.article_urls:
            self._article_urls[spec.name] = re.compile(spec.article_urls)
        homes = {canonicalize_url(u) for u in spec.sites}

        def add(entries: Sequence[Entry]) -> None:
            for e in entries:
                key = canonicalize_url(e.url)
                if key in homes:  # fetched by discovery already, and a listing
                    continue
                again = outcomes.discovered(e, spec.name)
                known = found.get(key)
                if known is not None:  # listed twice (feed and sitemap): keep every hint
                    found[key] = outcomes.merge(known, again)
                elif len(found) < limit:
                    found[key] = again

        feeds = [request_url(u) for u in spec.feeds]
        sitemaps = [request_url(u) for u in spec.sitemaps]
        home_links: list[str] = []
        for links, robots_maps, page_links in await asyncio.gather(
            *(self._discover_site(engine, spec.name, s, documents) for s in spec.sites)
        ):
            feeds += links
            sitemaps += robots_maps
            home_links += page_links
        feeds = _unique(feeds)

        for entries in await asyncio.gather(*(self._read_doc(engine, spec.name, u, "feed", documents) for u in feeds)):
            add(entries)
        add([outcomes.plain(u) for u in spec.urls])
        await self._walk_sitemaps(engine, spec.name, _unique(sitemaps), documents, add)
        add([outcomes.plain(u) for u in home_links])  # last: feeds and sitemaps give dates
        add(self._due_again(spec, documents, feeds + sitemaps))
        self._known.setdefault(spec.name, set()).update(found)
        self._known[spec.name].update(homes)
        return DiscoveryReport(items=tuple(found.values()), documents=tuple(documents))

    def more_links(self, source: str, limit: int | None = None) -> list[Discovered]:
        """Links found on the listing pages fetched so far (home, section, tag, author,
        archive, ``page/2``) that no discovery or fetch of this Fetcher has handed out yet:
        fetch them too, until this returns nothing. Each link is handed out once."""
        pending = self._links.pop(source, {})
        known = self._known.setdefault(source, set())
        room = self.settings.max_urls_per_source - len(known)
        if limit is not None:
            room = min(room, limit)
        out = [d for key, d in pending.items() if key not in known][: max(room, 0)]
        known.update(canonicalize_url(d.url) for d in out)
        return out

    def _due_again(self, spec: SourceSpec, documents: Sequence[FetchOutcome], doc_urls: Sequence[str]) -> list[Entry]:
        """Failed article URLs of this source whose back-off is over, from a state that can
        list them (RetryingFetchState): a feed that answers 304 lists nothing, and a URL a
        site dropped from its feed would otherwise never be retried."""
        due = getattr(self.state, "due", None)
        if due is None:
            return []
        docs = {canonicalize_url(u) for u in doc_urls} | {o.record.url for o in documents}
        docs.update(canonicalize_url(u) for u in spec.sites)
        return [
            outcomes.plain(r.url)
            for r in due(spec.name, utcnow(), self.settings.max_urls_per_source)
            if r.url not in docs and r.reason not in outcomes.DOCUMENT_REASONS
        ]

    # ---- discovery ----------------------------------------------------------------------

    async def _discover_site(
        self, engine: Engine, source: str, site: str, documents: list[FetchOutcome]
    ) -> tuple[list[str], list[str], list[str]]:
        url = request_url(site)
        # A home page is asked conditionally only when its feed links are known from a
        # note: a 304 then still leads to its feeds. (Its page links were all handed out
        # in the run that read it; the failed ones come back through ``due``.)
        notes = self.state if isinstance(self.state, SiteNotes) else None
        note = notes.load_note("home " + canonicalize_url(url)) if notes is not None else None
        known_feeds = json.loads(note[0]) if note is not None and note[1] > utcnow() else None
        _, outcome, resp = await self._fetch_doc(engine, source, url, conditional=known_feeds is not None)
        documents.append(outcome)
        self._keep(outcome)
        links: list[str] = []
        page_links: list[str] = []
        if resp is not None and resp.status == 304 and known_feeds is not None:
            links = list(known_feeds)
        elif resp is not None:
            links = [u for u in feed_links(resp.body, resp.url) if not _is_comment_feed(u)]
            if notes is not None and resp.status == 200:
                expires = utcnow() + timedelta(seconds=HOME_NOTE_TTL)
                notes.save_note("home " + canonicalize_url(url), json.dumps(links), expires)
            if resp.status == 200 and resp.media_type in outcomes.HTML_TYPES:
                # The home page is a listing: its links lead to articles and to more listings.
                signals = read_page(resp.body, resp.url, article_urls=self._article_urls.get(source))
                page_links = list(signals.links)
        sitemaps: list[str] = []
        if outcome.skipped is None and urlsplit(url).scheme in HTTP_SCHEMES:
            rules = await engine.robots_for(url)
            sitemaps = list(rules.sitemaps)
            if not sitemaps and not links:
                sitemaps = [urljoin(origin(url), "/sitemap.xml")]  # the conventional place
        return links, sitemaps, page_links

    async def _walk_sitemaps(
        self, engine: Engine, source: str, roots: list[str], documents: list[FetchOutcome], add: Any
    ) -> None:
        s = self.settings
        seen: set[str] = set()
        level = roots
        for depth in range(s.max_sitemap_depth + 1):
            level = [u for u in _unique(level) if canonicalize_url(u) not in seen][: s.max_sitemaps - len(seen)]
            if not level:
                return
            seen.update(canonicalize_url(u) for u in level)
            results = await asyncio.gather(*(self._read_doc(engine, source, u, "sitemap", documents) for u in level))
            children: list[str] = []
            for entries, nested in results:
                add(entries)
                children += [request_url(c.url) for c in nested]
            level = children if depth < s.max_sitemap_depth else []

    async def _read_doc(
        self, engine: Engine, source: str, url: str, kind: DocKind, documents: list[FetchOutcome]
    ) -> Any:
        """Fetch and parse one feed or sitemap; a bad one is recorded and yields nothing."""
        empty: Any = [] if kind == "feed" else ([], [])
        try:
            prev, outcome, resp = await self._fetch_doc(engine, source, url, conditional=True)
        except Exception as exc:  # noqa: BLE001 - one document must never sink discovery
            log.exception("unexpected error fetching %s", url)
            error = FetchError(f"{type(exc).__name__}: {exc}", reason="internal-error")
            documents.append(
                FetchOutcome(
                    outcomes.failure_record(
                        url, source, None, error, None, 0, 0, 0.0, self.settings, None, may_give_up=False
                    )
                )
            )
            return empty
        parsed: Any = empty
        if resp is not None and resp.status != 304:
            try:
                if kind == "feed":
                    parsed = parse_feed(resp.body, resp.url)
                else:
                    sitemap = parse_sitemap(resp.body, resp.url, max_bytes=self.settings.max_bytes)
                    parsed = list(sitemap.entries), list(sitemap.children)
            except FetchError as exc:
                # Recorded as a failure, without validators: the next run must re-read it.
                log.warning("%s %s: %s", kind, exc.reason, exc.message)
                failed = outcomes.failure_record(
                    url,
                    source,
                    prev,
                    exc,
                    resp.status,
                    outcome.record.attempts,
                    outcome.record.bytes,
                    outcome.record.duration_ms,
                    self.settings,
                    None,
                    may_give_up=False,
                )
                outcome = replace(outcome, record=failed)
        documents.append(outcome)
        self._keep(outcome)
        return parsed

    def _keep(self, outcome: FetchOutcome) -> None:
        if outcome.skipped is None and outcome.record.reason is None:
            with self._pending_lock:
                self._pending.append(outcome.record)  # success: validators wait for commit
        elif outcomes.changes_state(outcome):
            self.state.record([outcome.record])

    async def _fetch_doc(
        self,
        engine: Engine,
        source: str,
        url: str,
        *,
        conditional: bool,
    ) -> tuple[FetchRecord | None, FetchOutcome, Response | None]:
        key = canonicalize_url(url)
        prev = self.state.get([key]).get(key)
        sent = prev
        if prev is not None and not conditional:
            sent = replace(prev, etag=None, last_modified=None)
        outcome, resp = await self._request(engine, Discovered(url, source), key, sent, utcnow(), kind="doc")
        return prev, outcome, resp

    # ---- fetching -----------------------------------------------------------------------

    async def _fetch_page(
        self, engine: Engine, d: Discovered, url: str, prev: FetchRecord | None, now: datetime
    ) -> FetchOutcome:
        try:
            outcome, resp = await self._request(engine, d, url, prev, now, kind="page")
        except Exception as exc:  # noqa: BLE001 - one URL must never sink the batch
            log.exception("unexpected error fetching %s", url)
            error = FetchError(f"{type(exc).__name__}: {exc}", reason="internal-error")
            return FetchOutcome(
                outcomes.failure_record(
                    url, d.source, prev, error, None, 0, 0, 0.0, self.settings, None, may_give_up=True
                )
            )
        if resp is None or resp.status == 304 or outcome.record.reason is not None:
            return outcome
        page_kind = "text" if resp.media_type in outcomes.TEXT_TYPES else "html"
        # The page's own URL: where redirects ended, as the server spells it.
        own_url = without_tracking(outcome.final_url or d.url)
        if page_kind == "html":
            signals = read_page(resp.body, own_url, article_urls=self._article_urls.get(d.source))
            if signals.kind == "listing":
                self._follow(d.source, signals.links)
                return outcomes.not_article(outcome, signals.why)
        page = RawPage(
            source=d.source,
            body=resp.body,
            kind=page_kind,
            url=own_url,
            fetched_at=outcome.record.fetched_at,
            published=d.published,
            encoding=resp.charset,
        )
        return replace(outcome, page=page)

    def _follow(self, source: str, links: Sequence[str]) -> None:
        pending = self._links.setdefault(source, {})
        for link in links:
            pending.setdefault(canonicalize_url(link), Discovered(link, source))

    async def _request(
        self,
        engine: Engine,
        d: Discovered,
        url: str,
        prev: FetchRecord | None,
        now: datetime,
        *,
        kind: Literal["page", "doc"],
    ) -> tuple[FetchOutcome, Response | None]:
        """Request ``d.url`` as found; ``url`` is its identity key (the state's key)."""
        s = self.settings
        target = d.url
        if urlsplit(target).scheme.lower() not in HTTP_SCHEMES:
            return outcomes.skip(url, d.source, prev, "scheme", f"not http/https: {url}"), None
        if prev is not None and kind == "page":
            if prev.gave_up:
                return FetchOutcome(prev, skipped="gave-up"), None
            if prev.stored and not outcomes.changed(d.lastmod, prev.fetched_at):
                return FetchOutcome(prev, skipped="stored"), None
        if prev is not None and prev.next_attempt_at is not None and prev.next_attempt_at > now:
            return FetchOutcome(prev, skipped="backoff"), None
        try:
            await engine.guard.check_url(target)
        except (SsrfRefused, SchemeRefused) as exc:
            return outcomes.skip(url, d.source, prev, exc.reason, exc.message), None
        except FetchError as exc:  # DNS failure: a real failed fetch, backed off like any other
            return FetchOutcome(
                outcomes.failure_record(url, d.source, prev, exc, None, 0, 0, 0.0, s, None, may_give_up=kind == "page")
            ), None
        rules = await engine.robots_for(target)
        if not rules.allowed(target):  # the URL as sent: the server's view, not our key's
            why = (
                "robots.txt unreachable or 5xx: the whole host counts as disallowed"
                if rules.disallow_all
                else f"robots.txt disallows {target}"
            )
            # A dead host shows as robots-unreachable, not as a site that forbids us: operators
            # read the two very differently.
            reason = "robots-unreachable" if rules.disallow_all else "robots"
            return outcomes.skip(url, d.source, prev, reason, why), None

        closed = engine.host_closed(host_key(target))
        if closed is not None:
            return outcomes.host_closed(url, d.source, prev, closed, s, may_give_up=kind == "page"), None

        headers = {"Accept": ACCEPT_PAGES if kind == "page" else ACCEPT_FEEDS}
        # A record's validators always come from its URL's last good response (failures and
        # skips carry them over), so they are sent whatever happened since.
        if prev is not None:
            headers |= outcomes.validator_headers(prev.etag, prev.last_modified)
        accept = outcomes.accept_page if kind == "page" else outcomes.accept_doc
        result = await engine.request(target, headers=headers, accept=accept)
        final_url = result.final_url if result.final_url != target else None
        if isinstance(result.error, HostClosed) and result.attempts == 0:
            return outcomes.host_closed(url, d.source, prev, result.error, s, may_give_up=kind == "page"), None
        if result.error is not None:
            rec = outcomes.failure_record(
                url,
                d.source,
                prev,
                result.error,
                result.status,
                result.attempts,
                0,
                result.duration_ms,
                s,
                result.retry_at,
                may_give_up=kind == "page",
            )
            return FetchOutcome(rec, final_url=final_url), None
        resp = result.response
        assert resp is not None
        if kind == "page" and resp.status != 304:
            try:
                outcomes.check_page_body(resp)
            except FetchError as exc:
                rec = outcomes.failure_record(
                    url,
                    d.source,
                    prev,
                    exc,
                    resp.status,
                    result.attempts,
                    resp.raw_bytes,
                    result.duration_ms,
                    s,
                    None,
                    may_give_up=True,
                )
                return FetchOutcome(rec, final_url=final_url), None
        record = outcomes.success_record(url, d.source, prev, resp, result)
        if final_url is not None:  # both URLs recorded: the key's record says where it led
            record = replace(record, detail=f"redirected to {final_url}"[:500])
        return FetchOutcome(record, final_url=final_url), resp


async def _reported(job: Awaitable[FetchOutcome], report: Callable[[FetchOutcome], None]) -> FetchOutcome:
    outcome = await job
    try:
        report(outcome)
    except Exception:  # noqa: BLE001 - the caller's hook must never sink the batch
        log.exception("on_outcome hook failed for %s", outcome.record.url)
    return outcome


def _unique(urls: Sequence[str]) -> list[str]:
    """URLs without repeats of one identity key; the first spelling is the one requested."""
    out: dict[str, str] = {}
    for url in urls:
        out.setdefault(canonicalize_url(url), url)
    return list(out.values())


def _is_comment_feed(url: str) -> bool:
    """WordPress's comment feeds: their items are comments, dated by the comment."""
    path = urlsplit(url).path.lower().rstrip("/")
    return path.endswith("/comments/feed") or path.endswith("/comments/rss2") or "comments" in urlsplit(url).query


def _drive(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on ``loop`` (the Fetcher's own) from sync code."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return loop.run_until_complete(coro)
    # Called from sync code that itself runs inside an event loop (a notebook, an async
    # framework calling a sync task): our loop cannot nest in theirs, so it runs in a
    # helper thread for this call (the state is then called from there).
    with concurrent.futures.ThreadPoolExecutor(1, "wiredesk-fetch") as pool:
        return pool.submit(loop.run_until_complete, coro).result()
