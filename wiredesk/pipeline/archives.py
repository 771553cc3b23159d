"""Web archives through the pipeline: one WARC/ARC file is one unit of work.

``ingest_archive`` streams one file's records and sends its pages through extraction,
dedup and the store in batches of ``run.batch_size`` (one transaction each): a 1 GB file is
never in memory, and the runner parallelises over files, never over records. Every record
is counted once: a page (then stored, duplicate, already seen or failed), or skipped with
its kind, or failed with its offset and reason.

A ``warcs:`` source lists its files (paths, globs, http(s) URLs, or a ``warc.paths(.gz)``
listing such as CC-NEWS's); ``archive_plan`` picks this run's files and ``mark_done``
records a file as done once all its records are stored, so a scheduled run takes the files
still to do, and a run killed half-way reads its unfinished file again (its stored pages
come back as ``already_seen``).
"""

from __future__ import annotations

import bisect
import gzip
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from wiredesk.config import SourceConfig
from wiredesk.config.stages import build_settings
from wiredesk.core.errors import ConfigError, InputError, WiredeskError
from wiredesk.core.records import Failure, FetchRecord, RawPage, utcnow
from wiredesk.fetching.files import DEFAULT_MAX_BYTES, expand_inputs
from wiredesk.fetching.pagetype import ListingCheck
from wiredesk.fetching.settings import FetchSettings
from wiredesk.fetching.warc import is_archive, read_archive
from wiredesk.pipeline.batch import Stages, ingest_pages
from wiredesk.pipeline.report import SourceTally, is_since, parse_when

DONE_PREFIX = "archive-done:"  # fetch-state key of a finished archive file
LISTING_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_ARCHIVE_BYTES = 8 * 1024**3
_STAMP = re.compile(r"(?<!\d)(\d{14})(?!\d)")  # CC-NEWS-20240101123456-00001.warc.gz


@dataclass(frozen=True)
class Archive:
    """One archive file of a run: where it is (path or URL) and the key it is tracked by."""

    location: str
    key: str

    @property
    def remote(self) -> bool:
        return self.location.lower().startswith(("http://", "https://"))


def ingest_archive(
    stages: Stages,
    path: Path,
    *,
    source: str,
    named_source: bool = True,
    since: str | None = None,
    article_urls: str | None = None,
) -> SourceTally:
    """Read one archive file, batch by batch, into the store. Never raises for what is
    inside the file: damaged records are failures with their offset. Listing pages (home,
    section, tag pages...) are recognised as the fetcher recognises them (the source's
    ``article_urls``, else the page's own signals), in the extraction workers, and skipped
    ``not-article``."""
    tally = SourceTally(source=source)
    started = time.perf_counter()
    max_bytes = getattr(stages.extract_settings, "max_bytes", DEFAULT_MAX_BYTES)
    size = stages.config.run.batch_size
    pages: list[RawPage] = []
    failures: list[Failure] = []
    where = str(path)
    check = ListingCheck(article_urls)
    try:
        for item in read_archive(path, source=source, max_bytes=max_bytes):
            tally.discovered += 1
            if item.page is not None:
                if since and not is_since(item.page.fetched_at.isoformat(), since):
                    tally.skipped["before-since"] += 1
                    continue
                pages.append(item.page)
            elif item.skipped is not None:
                tally.skipped[item.skipped] += 1
            else:
                failures.append(_failure(where, item.offset, item.url, source, item.failed or "warc", item.detail))
            if len(pages) >= size or len(failures) >= size:
                _flush(stages, pages, failures, tally, named_source, check)
                pages, failures = [], []
    except OSError as exc:  # the file itself cannot be opened or read
        tally.discovered += 1
        failures.append(_failure(where, 0, None, source, "unreadable", f"{path}: {exc.strerror or exc}"))
    _flush(stages, pages, failures, tally, named_source, check)
    tally.seconds = time.perf_counter() - started
    return tally


def _failure(where: str, offset: int, url: str | None, source: str, reason: str, detail: str) -> Failure:
    text = f"{detail} (url {url})" if url and url not in detail else detail
    return Failure(location=f"{where}#offset={offset}", source=source, reason=reason, detail=text, stage="read")


def _flush(
    stages: Stages,
    pages: list[RawPage],
    failures: list[Failure],
    tally: SourceTally,
    named_source: bool,
    check: ListingCheck | None = None,
) -> None:
    if not pages and not failures:
        return
    tally.read += len(pages) + len(failures)
    ingest_pages(stages, pages, tally=tally, named_source=named_source, failures=failures, check=check)


# -- a warcs: source ------------------------------------------------------------------------------


def list_archives(config: SourceConfig, settings: FetchSettings, work_dir: Path) -> list[Archive]:
    """The source's archive files, in order: local paths and globs expanded, listings read."""
    found: dict[str, Archive] = {}
    for entry in config.warcs:
        for archive in _expand(entry, config, settings, work_dir):
            found.setdefault(archive.key, archive)
    return list(found.values())


def _expand(entry: str, config: SourceConfig, settings: FetchSettings, work_dir: Path) -> list[Archive]:
    remote = entry.lower().startswith(("http://", "https://"))
    if _is_listing(entry):
        if remote:
            target = work_dir / "listings" / _safe_name(entry)
            target.unlink(missing_ok=True)  # a listing grows: always read it fresh
            from wiredesk.fetching.download import download  # httpx: only for archives on the web

            download(entry, target, settings=settings, max_bytes=LISTING_MAX_BYTES)
            base = config.warc_base or _root(entry)
        else:
            target = Path(entry).expanduser()
            if not target.is_file():
                raise ConfigError(f"source {config.name}: warcs listing {entry!r}: no such file")
            base = config.warc_base or str(target.parent.resolve()) + "/"
        return [_listed(line, base) for line in _listing_lines(target)]
    if remote:
        return [Archive(location=entry, key=entry)]
    try:
        files = expand_inputs([entry], source=config.name)
    except InputError:
        return []  # a folder still filling: nothing yet
    return [Archive(location=str(f.path), key=f.key) for f in files if is_archive(f.path)]


def _is_listing(entry: str) -> bool:
    name = urlsplit(entry).path.lower() if "://" in entry else entry.lower()
    return name.endswith((".paths", ".paths.gz", ".paths.txt"))


def _root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def _listing_lines(path: Path) -> list[str]:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return [line.strip() for line in raw.decode("utf-8", "replace").splitlines() if line.strip()]


def _listed(line: str, base: str) -> Archive:
    if line.lower().startswith(("http://", "https://")):
        return Archive(location=line, key=line)
    if base.lower().startswith(("http://", "https://")):
        url = urljoin(base, line.lstrip("/"))
        return Archive(location=url, key=url)
    path = str(Path(base, line).resolve())
    return Archive(location=path, key=path)


def _safe_name(url: str) -> str:
    parts = urlsplit(url)
    return re.sub(r"[^A-Za-z0-9._-]+", "_", f"{parts.netloc}{parts.path}").strip("_")[-200:]


def archive_plan(
    stages: Stages, source: str, archives: Sequence[Archive], *, limit: int | None, since: str | None
) -> tuple[list[Archive], int]:
    """This run's files: not done yet, in listing order, recent enough for ``since``, at most
    ``limit``. Returns them and how many were passed over as already done."""
    done_keys = {DONE_PREFIX + a.key for a in archives}
    done = {url for url, rec in stages.store.get(list(done_keys)).items() if rec.stored}
    todo = [a for a in archives if DONE_PREFIX + a.key not in done]
    if since:
        todo = _since(todo, since)
    if limit is not None:
        todo = todo[:limit]
    return todo, len(archives) - len([a for a in archives if DONE_PREFIX + a.key not in done])


def _since(archives: list[Archive], since: str) -> list[Archive]:
    """Drop files whose records all predate ``since``: a file named with its start time
    ends where the next file (in time order) starts. Files without a stamp are kept."""
    threshold = parse_when(since)
    stamps = [_stamp(a.location) for a in archives]
    known = sorted(s for s in stamps if s is not None)
    keep = []
    for archive, stamp in zip(archives, stamps):
        if stamp is None or threshold is None:
            keep.append(archive)
            continue
        after = bisect.bisect_right(known, stamp)  # the next file's start
        if after < len(known) and known[after] <= threshold:
            continue
        keep.append(archive)
    return keep


def _stamp(location: str) -> datetime | None:
    match = _STAMP.search(Path(urlsplit(location).path).name)
    if match is None:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def fetch_settings(stages: Stages) -> FetchSettings:
    return build_settings(FetchSettings, "fetch", dict(stages.config.fetch))


def work_dir(stages: Stages, config: SourceConfig | None) -> Path:
    """Where downloads go: the source's ``download_dir``, else beside a SQLite store, else ./data."""
    if config is not None and config.download_dir:
        return Path(config.download_dir).expanduser()
    url = stages.config.store.dsn
    base = Path("data") if "://" in url else Path(url).expanduser().parent
    return base / "warc-downloads"


def run_archive(
    stages: Stages,
    archive: Archive,
    *,
    source: str,
    config: SourceConfig | None = None,
    named_source: bool = True,
    since: str | None = None,
) -> SourceTally:
    """One archive file, whole: downloaded if remote, read into the store, then marked done
    (a configured source's files only). A download that fails is a failure of the source's
    file, retried next run; anything raised by the store propagates (the file is not done)."""
    if not archive.remote:
        path = Path(archive.location)
    else:
        max_bytes = config.max_archive_bytes if config is not None else DEFAULT_MAX_ARCHIVE_BYTES
        target = work_dir(stages, config) / "warcs" / _safe_name(archive.location)
        try:
            from wiredesk.fetching.download import download  # httpx: only for archives on the web

            path = download(archive.location, target, settings=fetch_settings(stages), max_bytes=max_bytes)
        except WiredeskError as exc:
            tally = SourceTally(source=source)
            tally.discovered += 1
            _flush(stages, [], [archive_error(archive, source, exc)], tally, named_source)
            return tally
    article_urls = config.article_urls if config is not None else None
    tally = ingest_archive(
        stages, path, source=source, named_source=named_source, since=since, article_urls=article_urls
    )
    if config is not None and named_source:
        mark_done(stages, source, archive, tally)
        if archive.remote and not config.keep_downloads and not stages.dry_run:
            path.unlink(missing_ok=True)
    return tally


def mark_done(stages: Stages, source: str, archive: Archive, tally: SourceTally) -> None:
    """Record the file as done (all its records are stored) in the store's fetch state."""
    if stages.dry_run:
        return
    stages.store.record(
        [
            FetchRecord(
                url=DONE_PREFIX + archive.key,
                source=source,
                stored=True,
                detail=f"records={tally.discovered}",
                fetched_at=utcnow(),
            )
        ]
    )


def archive_error(archive: Archive, source: str, exc: WiredeskError) -> Failure:
    return Failure(location=archive.location, source=source, reason=exc.reason, detail=exc.message, stage="fetch")
