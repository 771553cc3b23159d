"""The store: articles with their dedup verdicts, runs, failures, fetch state, extractor profiles.

One code path (SQLAlchemy Core) for SQLite and PostgreSQL. Every write is one transaction.
Article writes additionally lock the ``counters`` row "seq" for their whole transaction: the
sequence numbers they hand out therefore become visible in commit order, which is what lets
``iter_since`` and incremental exports use ``seq`` as a watermark without ever skipping a row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, or_, select, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from wiredesk.core.errors import StoreError
from wiredesk.core.records import Article, Assignment, Failure, FetchRecord, StoredArticle, utcnow
from wiredesk.storage import schema as t
from wiredesk.storage.codec import ARTICLE_COLUMNS, article_row, fetch_record, fetch_row, nul_free, stored_article
from wiredesk.storage.engine import advisory_key, read_tx, write_tx
from wiredesk.storage.locks import advisory_lock, file_lock
from wiredesk.storage.settings import StoreSettings
from wiredesk.storage.targets import Target

_VERDICT = ("cluster_id", "duplicate_of", "similarity", "kind")
_PAGE = 1000  # rows per page when iterating


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterSummary:
    cluster_id: str
    size: int
    representative: str | None  # id of the member with duplicate_of NULL
    title: str | None  # the representative's title
    sources: tuple[str, ...]  # distinct sources of the members, sorted


class Store:
    """Open with ``storage.open_store``; close it (or use it as a context manager)."""

    def __init__(self, engine: Engine, target: Target, settings: StoreSettings) -> None:
        self._engine = engine
        self._target = target
        self.settings = settings
        # The dialect's INSERT (ON CONFLICT): imported for the store's own backend only (SQLAlchemy's
        # PostgreSQL dialect costs 0.1-0.2 s of start-up that a SQLite store never needs).
        if engine.dialect.name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        self._insert = insert

    # -- identity -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The store's URL with any password masked: safe for logs and messages."""
        return self._target.masked

    @property
    def backend(self) -> str:
        return self._engine.dialect.name  # "sqlite" | "postgresql"

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def sqlite_path(self) -> Path | None:
        return self._target.sqlite_path

    @property
    def dedup_location(self) -> str:
        """Where the dedup index lives: "<dir>/<stem>.dedup" beside a SQLite file; for
        PostgreSQL the store's own URL (``postgresql://``, password included: do not log it)."""
        path = self._target.sqlite_path
        if path is not None:
            return str(path.with_name(path.stem + ".dedup"))
        return self._target.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # -- locking and runs -----------------------------------------------------------------

    def writer_lock(self, timeout_s: float | None = None) -> AbstractContextManager[None]:
        """Exclusive across processes: one writer run per store. Raises StoreError on timeout."""
        path = self._target.sqlite_path
        if path is not None:
            return file_lock(path.with_name(path.name + ".lock"), timeout_s=timeout_s, where=self.url)
        return advisory_lock(self._engine, timeout_s=timeout_s, where=self.url)

    def begin_run(self, run_id: str, *, flow: str, params: dict) -> None:
        row = {
            "run_id": run_id,
            "flow": flow,
            "params": _json(params),
            "status": "running",
            "summary": None,
            "started_at": utcnow(),
            "finished_at": None,
        }
        stmt = self._insert(t.runs).values(row)
        # A resumed run keeps its first start time; it is running again.
        stmt = stmt.on_conflict_do_update(
            index_elements=["run_id"],
            set_={"status": "running", "params": stmt.excluded.params, "finished_at": None},
        )
        with self._write() as conn:
            conn.execute(stmt)

    def finish_run(self, run_id: str, *, status: str, summary: dict) -> None:
        now = utcnow()
        row = {
            "run_id": run_id,
            "flow": "",
            "params": "{}",
            "status": status,
            "summary": _json(summary),
            "started_at": now,
            "finished_at": now,
        }
        stmt = self._insert(t.runs).values(row)
        stmt = stmt.on_conflict_do_update(
            index_elements=["run_id"],
            set_={"status": status, "summary": stmt.excluded.summary, "finished_at": now},
        )
        with self._write() as conn:
            conn.execute(stmt)

    # -- articles -------------------------------------------------------------------------

    def known(self, locations: Sequence[str]) -> dict[str, tuple[str, str]]:
        """location (url or path) -> (article_id, content_hash), for articles already stored."""
        found: dict[str, tuple[str, str]] = {}
        a = t.articles.c
        with self._read() as conn:
            for chunk in self._chunks(set(locations)):
                for loc, aid, chash in conn.execute(
                    select(a.location, a.id, a.content_hash).where(a.location.in_(chunk))
                ):
                    found[loc] = (aid, chash)
        return found

    def relocate(self, paths: Mapping[str, str]) -> int:
        """Record where files are now: ``location -> path`` for stored articles read from disk.

        A file's identity is its key (its path below the input root), so a moved data folder
        is not stored again; its articles' ``path`` follows it here. Only rows whose path
        differs are written (no write transaction when none does). Returns how many moved."""
        a = t.articles.c
        moved: list[dict[str, str]] = []
        with self._read() as conn:
            for chunk in self._chunks(set(paths)):
                for loc, path in conn.execute(select(a.location, a.path).where(a.location.in_(chunk))):
                    if path is not None and path != paths[loc]:
                        moved.append({"loc": loc, "new_path": paths[loc]})
        if moved:
            stmt = update(t.articles).where(a.location == bindparam("loc")).values(path=bindparam("new_path"))
            with self._write() as conn:
                conn.execute(stmt, moved)
        return len(moved)

    def high_water(self) -> int:
        """The highest seq handed out so far."""
        with self._read() as conn:
            return read_high_water(conn)

    def write_batch(
        self,
        *,
        run_id: str,
        articles: Sequence[Article],
        assignments: Sequence[Assignment],
        updates: Sequence[Assignment] = (),
        failures: Sequence[Failure] = (),
        fetch_records: Sequence[FetchRecord] = (),
    ) -> int:
        """Store one batch in one transaction; return the new high-water seq.

        New articles are inserted; a known id with another content_hash is rewritten; a known
        id whose verdict changed gets the new verdict; anything else is left alone (so the
        same batch written twice stores nothing twice). ``updates`` re-point stored articles
        to another cluster. Every row inserted or changed gets the next seq. ``fetch_records``
        (optional) are recorded as by ``record`` in the same transaction, so a crash can never
        leave a URL marked stored without its article, or the other way round.
        """
        batch = {art.id: art for art in articles}
        verdicts = {v.article_id: v for v in assignments}
        if missing := [aid for aid in batch if aid not in verdicts]:
            raise StoreError(f"write_batch: {len(missing)} article(s) without an assignment, e.g. {missing[0]}")
        if stray := [aid for aid in verdicts if aid not in batch]:
            raise StoreError(f"write_batch: {len(stray)} assignment(s) for articles not in the batch, e.g. {stray[0]}")
        compress, level = self.settings.compress_text, self.settings.compress_level
        now = utcnow()
        a = t.articles.c
        with self._write() as conn:
            seq = start = read_high_water(conn, lock=True)
            wanted = set(batch) | {u.article_id for u in updates}
            existing: dict[str, dict[str, Any]] = {}
            for chunk in self._chunks(wanted):
                for row in conn.execute(
                    select(a.id, a.content_hash, *(a[c] for c in _VERDICT)).where(a.id.in_(chunk))
                ).mappings():
                    existing[row["id"]] = dict(row)

            inserts: dict[str, dict[str, Any]] = {}
            rewrites: dict[str, dict[str, Any]] = {}
            for aid, art in batch.items():
                old = existing.get(aid)
                verdict = verdicts[aid]
                if old is not None and old["content_hash"] == art.content_hash:
                    if _verdict_of(verdict) != tuple(old[c] for c in _VERDICT):
                        seq += 1
                        rewrites[aid] = {**_verdict_row(verdict), "seq": seq, "run_id": run_id, "updated_at": now}
                    continue
                seq += 1
                row = article_row(art, verdict, compress=compress, level=level)
                row.update(seq=seq, run_id=run_id, updated_at=now)
                if old is None:
                    inserts[aid] = {**row, "stored_at": now}
                else:
                    rewrites[aid] = row
            for verdict in updates:
                aid = verdict.article_id
                pending = inserts.get(aid) or rewrites.get(aid)
                if pending is not None:  # an article of this batch: its row is not written yet
                    pending.update(_verdict_row(verdict))
                    continue
                old = existing.get(aid)
                if old is None:
                    raise StoreError(f"write_batch: update for an article that is not stored: {aid}")
                if _verdict_of(verdict) != tuple(old[c] for c in _VERDICT):
                    seq += 1
                    rewrites[aid] = {**_verdict_row(verdict), "seq": seq, "run_id": run_id, "updated_at": now}

            if inserts:
                conn.execute(t.articles.insert(), list(inserts.values()))
            # Rewrites grouped by their column set: full rows and verdict-only rows.
            groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for aid, row in rewrites.items():
                row.pop("id", None)  # the key, never rewritten
                groups.setdefault(tuple(sorted(row)), []).append({**row, "b_id": aid})
            for cols, rows in groups.items():
                stmt = update(t.articles).where(a.id == bindparam("b_id")).values({c: bindparam(c) for c in cols})
                conn.execute(stmt, rows)
            if failures:
                conn.execute(
                    self._insert(t.failures).on_conflict_do_nothing(
                        index_elements=["run_id", "location", "stage", "reason"]
                    ),
                    [
                        {
                            "run_id": run_id,
                            "location": f.location,
                            "source": f.source,
                            "reason": f.reason,
                            "detail": nul_free(f.detail) or "",
                            "stage": f.stage,
                            "at": now,
                        }
                        for f in failures
                    ],
                )
            if fetch_records:  # same transaction: "stored" in the fetch state iff the article is
                self._record(conn, fetch_records)
            if seq != start:
                conn.execute(update(t.counters).where(t.counters.c.name == "seq").values(value=seq))
        return seq

    def get_articles(self, ids: Sequence[str]) -> dict[str, StoredArticle]:
        out: dict[str, StoredArticle] = {}
        a = t.articles.c
        cols = [a[c] for c in ARTICLE_COLUMNS]
        with self._read() as conn:
            for chunk in self._chunks(set(ids)):
                for row in conn.execute(select(*cols).where(a.id.in_(chunk))).mappings():
                    out[row["id"]] = stored_article(row)
        return out

    def run_articles(self, run_id: str) -> list[tuple[StoredArticle, bool]]:
        """The articles one run wrote, in the order it wrote them, each with whether the run
        inserted it (True) or changed a stored one (False: new text, or a new verdict)."""
        a = t.articles.c
        cols = [a[c] for c in ARTICLE_COLUMNS]
        query = select(*cols, (a.stored_at == a.updated_at).label("_inserted")).where(a.run_id == run_id)
        with self._read() as conn:
            rows = conn.execute(query.order_by(a.seq)).mappings()
            return [(stored_article(r), bool(r["_inserted"])) for r in rows]

    def iter_since(self, seq: int) -> Iterator[StoredArticle]:
        """Every article with a seq above ``seq``, in seq order (pages of short reads: a slow
        consumer never holds a transaction open)."""
        a = t.articles.c
        cols = [a[c] for c in ARTICLE_COLUMNS]
        last = seq
        while True:
            with self._read() as conn:
                rows = conn.execute(select(*cols).where(a.seq > last).order_by(a.seq).limit(_PAGE)).mappings().all()
            for row in rows:
                yield stored_article(row)
            if len(rows) < _PAGE:
                return
            last = int(rows[-1]["seq"])

    def cluster_members(self, cluster_id: str) -> list[StoredArticle]:
        a = t.articles.c
        cols = [a[c] for c in ARTICLE_COLUMNS]
        with self._read() as conn:
            rows = conn.execute(select(*cols).where(a.cluster_id == cluster_id).order_by(a.seq)).mappings()
            return [stored_article(r) for r in rows]

    def clusters(self, *, min_size: int = 1) -> list[ClusterSummary]:
        """Clusters with at least ``min_size`` members, largest first."""
        a = t.articles.c
        size = func.count().label("size")
        with self._read(snapshot=True) as conn:
            sized = {
                cid: n
                for cid, n in conn.execute(
                    select(a.cluster_id, size).group_by(a.cluster_id).having(func.count() >= min_size)
                )
            }
            members: dict[str, list[tuple[str, str | None, str | None, str]]] = {}
            for chunk in self._chunks(sized):
                for cid, aid, dup, title, source in conn.execute(
                    select(a.cluster_id, a.id, a.duplicate_of, a.title, a.source).where(a.cluster_id.in_(chunk))
                ):
                    members.setdefault(cid, []).append((aid, dup, title, source))
        out = []
        for cid, n in sized.items():
            rows = members.get(cid, [])
            rep = next((r for r in rows if r[1] is None), None)
            out.append(
                ClusterSummary(
                    cluster_id=cid,
                    size=n,
                    representative=rep[0] if rep else None,
                    title=rep[2] if rep else None,
                    sources=tuple(sorted({r[3] for r in rows})),
                )
            )
        out.sort(key=lambda c: (-c.size, c.cluster_id))
        return out

    # -- extractor profiles ---------------------------------------------------------------

    def load_profiles(self, hosts: Sequence[str]) -> dict[str, str]:
        p = t.profiles.c
        out: dict[str, str] = {}
        with self._read() as conn:
            for chunk in self._chunks(set(hosts)):
                out.update(conn.execute(select(p.host, p.data).where(p.host.in_(chunk))).all())
        return out

    def update_profiles(self, hosts: Iterable[str], merge: Callable[[str, str | None], str]) -> None:
        """Read, merge and write host profiles in one transaction: ``merge(host, stored)``
        gets the profile as committed now (None if there is none) and returns the new one.

        Two batches of one host that each loaded, updated and saved a profile lost the
        first one's counts; here the second merges into what the first wrote. SQLite write
        transactions are exclusive (BEGIN IMMEDIATE); on PostgreSQL a transaction-scoped
        advisory lock per host serialises the merges (rows not there yet cannot be locked
        with FOR UPDATE), and READ COMMITTED lets the read after the lock see the last merge.
        """
        wanted = sorted(set(hosts))
        if not wanted:
            return
        p = t.profiles.c
        now = utcnow()
        stmt = self._insert(t.profiles)
        stmt = stmt.on_conflict_do_update(
            index_elements=["host"], set_={"data": stmt.excluded.data, "updated_at": stmt.excluded.updated_at}
        )
        with self._write() as conn:
            if self.backend == "postgresql":
                for host in wanted:  # sorted: two writers never wait for each other in a cycle
                    conn.execute(select(func.pg_advisory_xact_lock(advisory_key(conn, f"profile:{host}"))))
            stored: dict[str, str] = {}
            for chunk in self._chunks(wanted):
                stored.update(conn.execute(select(p.host, p.data).where(p.host.in_(chunk))).all())
            rows = [{"host": h, "data": merge(h, stored.get(h)), "updated_at": now} for h in wanted]
            conn.execute(stmt, rows)

    def save_profiles(self, profiles: Mapping[str, str]) -> None:
        if not profiles:
            return
        now = utcnow()
        stmt = self._insert(t.profiles)
        stmt = stmt.on_conflict_do_update(
            index_elements=["host"], set_={"data": stmt.excluded.data, "updated_at": stmt.excluded.updated_at}
        )
        with self._write() as conn:
            conn.execute(stmt, [{"host": h, "data": d, "updated_at": now} for h, d in sorted(profiles.items())])

    # -- fetch state (structurally fetching.FetchState) -----------------------------------

    def get(self, urls: Sequence[str]) -> Mapping[str, FetchRecord]:
        """The latest fetch record per canonical URL (URLs never seen are absent)."""
        f = t.fetch_state.c
        out: dict[str, FetchRecord] = {}
        with self._read() as conn:
            for chunk in self._chunks(set(urls)):
                for row in conn.execute(select(t.fetch_state).where(f.url.in_(chunk))).mappings():
                    out[row["url"]] = fetch_record(row)
        return out

    def due(self, source: str, now: datetime, limit: int) -> Sequence[FetchRecord]:
        """Failed URLs of ``source`` whose back-off is over (fetching's RetryingFetchState):
        failures > 0, not given up, not stored, next attempt unset or not after ``now``."""
        f = t.fetch_state.c
        query = (
            select(t.fetch_state)
            .where(
                f.source == source,
                f.failures > 0,
                f.gave_up.is_(False),
                f.stored.is_(False),
                or_(f.next_attempt_at.is_(None), f.next_attempt_at <= now),
            )
            .order_by(f.next_attempt_at)
            .limit(limit)
        )
        with self._read() as conn:
            return [fetch_record(row) for row in conn.execute(query).mappings()]

    def record(self, records: Sequence[FetchRecord]) -> None:
        """Upsert the latest state per URL (the last record of a URL wins) and log every one."""
        if not records:
            return
        with self._write() as conn:
            self._record(conn, records)

    def _record(self, conn: Connection, records: Sequence[FetchRecord]) -> None:
        rows = [fetch_row(r) for r in records]
        # Sorted: concurrent upserts then lock rows in one order and cannot deadlock.
        latest = sorted({row["url"]: row for row in rows}.values(), key=lambda row: row["url"])
        stmt = self._insert(t.fetch_state)
        stmt = stmt.on_conflict_do_update(
            index_elements=["url"],
            set_={c.name: stmt.excluded[c.name] for c in t.fetch_state.c if c.name != "url"},
        )
        conn.execute(stmt, latest)
        conn.execute(t.fetch_log.insert(), rows)

    # -- site notes (structurally fetching.SiteNotes) -------------------------------------

    def load_note(self, key: str) -> tuple[str, datetime] | None:
        """(text, expiry) of the fetcher's note ``key``, expired or not; None if absent."""
        r = t.site_notes.c
        with self._read() as conn:
            row = conn.execute(select(r.body, r.expires_at).where(r.key == key)).first()
        return (row[0], row[1]) if row is not None else None

    def save_note(self, key: str, text: str, expires_at: datetime) -> None:
        stmt = self._insert(t.site_notes)
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "body": stmt.excluded.body,
                "expires_at": stmt.excluded.expires_at,
                "fetched_at": stmt.excluded.fetched_at,
            },
        )
        with self._write() as conn:
            conn.execute(stmt, [{"key": key, "body": text, "expires_at": expires_at, "fetched_at": utcnow()}])

    # -- reporting ------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """The corpus at a glance, for ``wiredesk stats`` (see ``storage.stats``)."""
        from wiredesk.storage.stats import corpus_stats

        with self._read(snapshot=True) as conn:
            return corpus_stats(conn, url=self.url, sqlite_path=self._target.sqlite_path)

    # -- plumbing -------------------------------------------------------------------------

    def _write(self):
        return _translated(write_tx(self._engine), self.url)

    def _read(self, *, snapshot: bool = False):
        return _translated(read_tx(self._engine, snapshot=snapshot), self.url)

    def _chunks(self, items: Iterable[str]) -> Iterator[list[str]]:
        items = list(items)
        n = self.settings.lookup_chunk
        for i in range(0, len(items), n):
            yield items[i : i + n]


class _translated:
    """Wrap a transaction so database errors surface as StoreError naming the store."""

    __slots__ = ("_cm", "_where")

    def __init__(self, cm: AbstractContextManager[Connection], where: str) -> None:
        self._cm, self._where = cm, where

    def __enter__(self) -> Connection:
        try:
            return self._cm.__enter__()
        except DBAPIError as exc:
            raise StoreError(f"store {self._where}: {_one_line(exc)}") from exc

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            self._cm.__exit__(exc_type, exc, tb)
        except DBAPIError as err:
            raise StoreError(f"store {self._where}: {_one_line(err)}") from err
        if isinstance(exc, SQLAlchemyError) and not isinstance(exc, StoreError):
            raise StoreError(f"store {self._where}: {_one_line(exc)}") from exc
        return False


def _one_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return " ".join(str(orig).split())[:300]


def read_high_water(conn: Connection, *, lock: bool = False) -> int:
    stmt = select(t.counters.c.value).where(t.counters.c.name == "seq")
    if lock:
        stmt = stmt.with_for_update()  # PostgreSQL row lock; SQLite already holds the write lock
    return int(conn.execute(stmt).scalar_one())


def _verdict_of(v: Assignment) -> tuple:
    return (v.cluster_id, v.duplicate_of, v.similarity, v.kind)


def _verdict_row(v: Assignment) -> dict[str, Any]:
    return dict(zip(_VERDICT, _verdict_of(v)))


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
