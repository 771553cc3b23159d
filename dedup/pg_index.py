"""A dedup index in PostgreSQL, shared by several workers.

Tables ``<prefix>_meta``, ``_docs``, ``_bands`` (band key -> article id, b-tree on the key) and
``_hosts`` (``postgresql://...?prefix=NAME``, default ``wiredesk_dedup``). A batch holds a
session advisory lock from ``assign`` to ``commit`` so that concurrent workers see each
other's articles; it is released if the connection dies.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import numpy as np
import psycopg

from wiredesk.core.errors import DedupError
from wiredesk.dedup.hosts import HostState
from wiredesk.dedup.index import DocInfo, Index, Staged, check_params, first_ids
from wiredesk.dedup.settings import DedupSettings
from wiredesk.dedup.shared import mask, split_prefix, wait_for


class PgIndex(Index):
    def __init__(self, location: str, *, settings: DedupSettings) -> None:
        super().__init__(settings)
        url, self.prefix = split_prefix(location.replace("postgresql+psycopg://", "postgresql://"))
        self.location = mask(url)
        self._lock_key = zlib.crc32(f"wiredesk-dedup:{self.prefix}".encode()) - (1 << 31)
        self._locked = False
        try:
            self.conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
            self._create()
            row = self.conn.execute(f"SELECT value FROM {self.prefix}_meta WHERE key = 'params'").fetchone()
        except psycopg.Error as exc:
            raise DedupError(f"dedup index {self.location}: {exc}", reason="dedup-open") from exc
        check_params(row[0] if row else None, settings, self.location)
        if row is None:
            self.conn.execute(
                f"INSERT INTO {self.prefix}_meta VALUES ('params', %s) ON CONFLICT DO NOTHING",
                (settings.signature_params(),),
            )

    def _create(self) -> None:
        p = self.prefix
        # Several workers may start at once: serialise the DDL.
        with self.conn.transaction():
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key + 1,))
            self.conn.execute(f"""
                CREATE TABLE IF NOT EXISTS {p}_meta (key text PRIMARY KEY, value text NOT NULL);
                CREATE TABLE IF NOT EXISTS {p}_docs (
                    article_id text PRIMARY KEY, cluster_id text NOT NULL, content_hash text NOT NULL,
                    host text, ts double precision NOT NULL, anchors integer NOT NULL DEFAULT 0);
                CREATE INDEX IF NOT EXISTS {p}_docs_cluster ON {p}_docs (cluster_id);
                CREATE INDEX IF NOT EXISTS {p}_docs_hash ON {p}_docs (content_hash);
                CREATE TABLE IF NOT EXISTS {p}_bands (key bigint NOT NULL, article_id text NOT NULL);
                CREATE INDEX IF NOT EXISTS {p}_bands_key ON {p}_bands (key);
                CREATE INDEX IF NOT EXISTS {p}_bands_article ON {p}_bands (article_id);
                CREATE TABLE IF NOT EXISTS {p}_hosts (host text PRIMARY KEY, state bytea NOT NULL);
            """)

    # ------------------------------------------------------------------ lock
    def _lock(self) -> None:
        if self._locked:
            return

        def acquire() -> bool:
            return bool(self.conn.execute("SELECT pg_try_advisory_lock(%s)", (self._lock_key,)).fetchone()[0])

        wait_for(acquire, timeout_s=self.settings.lock_timeout_s, what=self.location)
        self._locked = True

    def _unlock(self) -> None:
        if not self._locked:
            return
        self._locked = False
        try:
            self.conn.execute("SELECT pg_advisory_unlock(%s)", (self._lock_key,))
        except psycopg.Error:
            pass  # released with the session anyway

    # ------------------------------------------------------------------ reads
    def last_seq(self) -> int:
        row = self.conn.execute(f"SELECT value FROM {self.prefix}_meta WHERE key = 'last_seq'").fetchone()
        return int(row[0]) if row else 0

    def __len__(self) -> int:
        return int(self.conn.execute(f"SELECT count(*) FROM {self.prefix}_docs").fetchone()[0])

    def candidates(self, keys: np.ndarray) -> set[str]:
        ks = np.asarray(keys, dtype=np.uint64).view(np.int64).tolist()
        if not ks:
            return set()
        rows = self.conn.execute(f"SELECT DISTINCT article_id FROM {self.prefix}_bands WHERE key = ANY(%s)", (ks,))
        return {r[0] for r in rows}

    def hits(self, keys: np.ndarray, *, max_postings: int) -> dict[str, int]:
        ks = np.asarray(keys, dtype=np.uint64).view(np.int64).tolist()
        if not ks:
            return {}
        rows = self.conn.execute(
            f"SELECT key, array_agg(article_id) FROM {self.prefix}_bands WHERE key = ANY(%s) GROUP BY key "
            "HAVING count(*) <= %s",
            (ks, max_postings),
        )
        counts: dict[str, int] = {}
        for _key, ids in rows:
            for x in set(ids):
                counts[x] = counts.get(x, 0) + 1
        return counts

    def docs(self, ids: Iterable[str]) -> dict[str, DocInfo]:
        ids = list(set(ids))
        if not ids:
            return {}
        rows = self.conn.execute(
            f"SELECT article_id, cluster_id, content_hash, host, ts, anchors FROM {self.prefix}_docs "
            "WHERE article_id = ANY(%s)",
            (ids,),
        )
        return {r[0]: DocInfo(*r) for r in rows}

    def exact(self, hashes: Iterable[str]) -> dict[str, list[str]]:
        hashes = list(set(hashes))
        if not hashes:
            return {}
        rows = self.conn.execute(
            f"SELECT content_hash, article_id FROM {self.prefix}_docs WHERE content_hash = ANY(%s) ORDER BY ts, article_id",
            (hashes,),
        )
        return first_ids(rows)

    def members(self, cluster_ids: Iterable[str]) -> dict[str, list[str]]:
        cids = list(set(cluster_ids))
        if not cids:
            return {}
        rows = self.conn.execute(
            f"SELECT cluster_id, article_id FROM {self.prefix}_docs WHERE cluster_id = ANY(%s) ORDER BY ts, article_id",
            (cids,),
        )
        return first_ids(rows)

    def hosts(self, names: Iterable[str]) -> dict[str, HostState]:
        names = list(set(names))
        if not names:
            return {}
        rows = self.conn.execute(f"SELECT host, state FROM {self.prefix}_hosts WHERE host = ANY(%s)", (names,))
        return {h: HostState.from_bytes(bytes(b)) for h, b in rows}

    # ------------------------------------------------------------------ writes
    def _write(self, staged: Staged, seq: int | None) -> None:
        p = self.prefix
        try:
            with self.conn.transaction():
                ids = [e.info.article_id for e in staged.entries]
                known = {aid: d.content_hash for aid, d in self.docs(ids).items()}
                moves = dict(staged.moves)
                docs, bands, rekeyed = [], [], []
                for e in staged.entries:
                    i = e.info
                    if i.article_id in known and known[i.article_id] == i.content_hash:
                        moves.setdefault(i.article_id, i.cluster_id)
                        continue
                    if i.article_id in known:  # changed text: its old row and bands go, new ones come
                        rekeyed.append(i.article_id)
                        moves.pop(i.article_id, None)
                    known[i.article_id] = i.content_hash
                    docs.append((i.article_id, i.cluster_id, i.content_hash, i.host, i.ts, i.anchors))
                    if e.keys is not None:
                        bands.extend(
                            (k, i.article_id) for k in np.asarray(e.keys, dtype=np.uint64).view(np.int64).tolist()
                        )
                with self.conn.cursor() as cur:
                    if rekeyed:
                        cur.execute(f"DELETE FROM {p}_bands WHERE article_id = ANY(%s)", (rekeyed,))
                        cur.execute(f"DELETE FROM {p}_docs WHERE article_id = ANY(%s)", (rekeyed,))
                    if docs:
                        with cur.copy(
                            f"COPY {p}_docs (article_id, cluster_id, content_hash, host, ts, anchors) FROM STDIN"
                        ) as cp:
                            for row in docs:
                                cp.write_row(row)
                    if bands:
                        with cur.copy(f"COPY {p}_bands (key, article_id) FROM STDIN") as cp:
                            for row in bands:
                                cp.write_row(row)
                    if moves:
                        cur.executemany(
                            f"UPDATE {p}_docs SET cluster_id = %s WHERE article_id = %s",
                            [(c, a) for a, c in moves.items()],
                        )
                    for host, state in staged.hosts.items():
                        cur.execute(
                            f"INSERT INTO {p}_hosts VALUES (%s, %s) ON CONFLICT (host) DO UPDATE "
                            "SET state = excluded.state",
                            (host, state.to_bytes()),
                        )
                    if seq is not None:
                        cur.execute(
                            f"INSERT INTO {p}_meta VALUES ('last_seq', %s) ON CONFLICT (key) DO UPDATE "
                            f"SET value = excluded.value WHERE {p}_meta.value::bigint < excluded.value::bigint",
                            (str(seq),),
                        )
        except psycopg.Error as exc:
            raise DedupError(f"dedup index {self.location}: write failed: {exc}", reason="dedup-write") from exc

    def close(self) -> None:
        super().close()
        self.conn.close()

    def drop(self) -> None:
        """Drop this index's tables (tests, or a rebuild)."""
        p = self.prefix
        self.conn.execute(f"DROP TABLE IF EXISTS {p}_meta, {p}_docs, {p}_bands, {p}_hosts")
