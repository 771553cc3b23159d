"""The local persistent index: SQLite for documents and hosts, sorted band segments on disk.

Band keys (one uint64 per LSH band per article) live in immutable sorted segment files that
are memory-mapped, so opening an index with a million articles costs milliseconds and the
keys stay out of the Python heap. Recent keys sit in a ``band_delta`` table (written in the
same transaction as the documents and ``last_seq``) until there are enough of them to become
a segment; segments of similar size are merged (a small log-structured merge tree).

Several processes may open one index directory. Batches are serialised by a lock file in the
directory (held from ``begin`` to ``commit``/``abort``, like the shared backends' lock), and
every batch starts from what the others committed: ``meta.gen`` changes with each commit, and
a process that finds another generation reloads segments, recent keys and counters. Every
write transaction checks the generation again, so even a writer that skipped the lock never
reuses row numbers or drops another process's segments.
"""

from __future__ import annotations

import fcntl
import json
import mmap
import os
import sqlite3
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from wiredesk.core.errors import DedupError
from wiredesk.dedup.hosts import HostState
from wiredesk.dedup.index import DocInfo, Index, Staged, check_params, first_ids
from wiredesk.dedup.settings import DedupSettings
from wiredesk.dedup.shared import wait_for

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS docs (
    row INTEGER PRIMARY KEY,
    article_id TEXT NOT NULL UNIQUE,
    cluster_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    host TEXT,
    ts REAL NOT NULL,
    anchors INTEGER NOT NULL DEFAULT 0
)""",
    "CREATE INDEX IF NOT EXISTS docs_cluster ON docs (cluster_id)",
    "CREATE INDEX IF NOT EXISTS docs_hash ON docs (content_hash)",
    "CREATE TABLE IF NOT EXISTS band_delta (id INTEGER PRIMARY KEY, keys BLOB NOT NULL, rows BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS hosts (host TEXT PRIMARY KEY, state BLOB NOT NULL)",
)
# SQLite waits this long for another process's write transaction (a bulk segment write can take
# seconds) before "database is locked".
BUSY_TIMEOUT_S = 60.0
# Opening the segments another process is compacting away at that moment: re-read meta and retry.
LOAD_ATTEMPTS = 20
# Delta rows before they become a segment: bounded so start-up never loads much from SQLite.
FLUSH_ROWS = 400_000
# A batch with more band rows than this goes straight to a new segment (bulk loads, reindex).
DIRECT_SEGMENT_ROWS = 100_000


HOST_CACHE = 512  # host states kept in memory between batches
FENCE = 256  # keys per fence block (2 KB): a cold lookup reads one block, not log2(n) pages


class _Segment:
    """Sorted band keys with their row numbers; on disk, a small in-memory fence array (every
    FENCE-th key) narrows each lookup to one block of the memory-mapped keys."""

    __slots__ = ("name", "keys", "rows", "fence")

    def __init__(self, name: str, keys: np.ndarray, rows: np.ndarray, fence: np.ndarray | None = None) -> None:
        self.name, self.keys, self.rows, self.fence = name, keys, rows, fence

    def __len__(self) -> int:
        return int(self.keys.size)

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """[lo, hi) ranges of each key's entries."""
        if self.fence is None:
            return np.searchsorted(self.keys, keys, side="left"), np.searchsorted(self.keys, keys, side="right")
        n = self.keys.size
        span = np.arange(FENCE)
        col = keys[:, None]

        def block_of(block: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            start = np.maximum(block, 0) * FENCE
            idx = start[:, None] + span
            return start, self.keys[np.minimum(idx, n - 1)], idx < n

        # Equal keys may straddle blocks: lo comes from the last block whose fence is < key,
        # hi from the last block whose fence is <= key; almost always the same block, read once.
        bl = np.searchsorted(self.fence, keys, side="left") - 1
        bh = np.searchsorted(self.fence, keys, side="right") - 1
        start, vals, inside = block_of(bl)
        lo = np.where(bl < 0, 0, start + ((vals < col) & inside).sum(axis=1))
        hi = np.where(bl < 0, 0, start + ((vals <= col) & inside).sum(axis=1))
        other = np.flatnonzero(bh != bl)
        if other.size:
            start2, vals2, inside2 = block_of(bh[other])
            hi[other] = np.where(bh[other] < 0, 0, start2 + ((vals2 <= col[other]) & inside2).sum(axis=1))
        return lo, hi


class LocalIndex(Index):
    def __init__(self, path: str | None, *, settings: DedupSettings) -> None:
        super().__init__(settings)
        self.dir = Path(path) if path is not None else None
        self.path = path
        self._lock_fd: int | None = None  # open while this instance holds the directory lock
        try:
            if self.dir is None:
                self._db = sqlite3.connect(":memory:", isolation_level=None)
            else:
                self.dir.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.dir / "index.sqlite", isolation_level=None, timeout=BUSY_TIMEOUT_S)
                self._wal()
                self._db.execute("PRAGMA synchronous=NORMAL")
            params = self._init_schema()
        except (OSError, sqlite3.Error) as exc:
            raise DedupError(f"dedup index {path}: cannot open: {exc}", reason="dedup-open") from exc
        check_params(params, settings, str(path))
        self._segments: list[_Segment] = []
        self._load()
        self._cleanup_orphans()

    def _wal(self) -> None:
        """WAL (readers never block the writer). Switching needs the database to itself, and
        SQLite reports a concurrent switch as busy at once, without waiting: retry a while."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                if self._db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    def _init_schema(self) -> str | None:
        """Create the tables and record the signature parameters, in one write transaction, so
        processes opening a fresh index at once neither fail nor disagree. Returns the
        parameters the index was built with."""
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'params'").fetchone()
            if row is not None:
                return row[0]
        except sqlite3.OperationalError:
            pass  # no meta table yet
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                self._db.execute(statement)
            # OR IGNORE: a process that got here first has recorded them; check_params compares.
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('params', ?)", (self.settings.signature_params(),))
            row = self._db.execute("SELECT value FROM meta WHERE key = 'params'").fetchone()
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return row[0] if row else None

    def _load(self, *, in_transaction: bool = False) -> None:
        """(Re)read the committed state: segments, recent keys, counters, from one snapshot."""
        for attempt in range(LOAD_ATTEMPTS):
            if not in_transaction:
                self._db.execute("BEGIN")  # deferred: a read snapshot, so meta, deltas and docs agree
            try:
                meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
                names = json.loads(meta.get("segments", "[]"))
                try:
                    segments = [self._open_segment(n) for n in names]
                except FileNotFoundError:
                    # Another process compacted these away after our snapshot: look again.
                    if attempt + 1 < LOAD_ATTEMPTS and not in_transaction:
                        continue
                    raise
                deltas = self._db.execute("SELECT id, keys, rows FROM band_delta ORDER BY id").fetchall()
                # Two queries: together, SQLite would scan the table instead of reading one end.
                max_row = self._db.execute("SELECT max(row) FROM docs").fetchone()[0]
                count = self._db.execute("SELECT count(*) FROM docs").fetchone()[0]
            except (OSError, ValueError) as exc:
                raise DedupError(
                    f"dedup index {self.path}: a band segment is unreadable ({exc}); delete the "
                    "directory and let the next run reindex from the store",
                    reason="dedup-corrupt",
                ) from exc
            finally:
                if not in_transaction:
                    self._db.execute("COMMIT")
            break
        self._segments = segments
        self._delta: list[_Segment] = []  # in memory, sorted; persisted as band_delta blobs
        self._delta_rows = 0
        self._delta_id = 0  # the last band_delta row in self._delta
        self._recent_ids: dict[int, str] = {}  # row -> article id for rows written by this process
        # Recently used hosts' states (up to ~200 KB each), bounded: least recently used dropped.
        self._host_cache: OrderedDict[str, HostState] = OrderedDict()
        self._apply(meta, deltas, max_row, count)

    def _apply(self, meta: dict[str, str], deltas: list[tuple], max_row: int | None, count: int) -> None:
        self._gen = meta.get("gen", "")
        self._last_seq = int(meta.get("last_seq", 0))
        for delta_id, kblob, rblob in deltas:
            self._add_delta(np.frombuffer(kblob, dtype="<u8"), np.frombuffer(rblob, dtype="<i4"))
            self._delta_id = delta_id
        self._next_row = (max_row or 0) + 1
        if self._next_row >= 2**31 - 2**24:
            raise DedupError(
                f"dedup index {self.path}: row numbers near 2^31; rebuild into a new index", reason="dedup-full"
            )
        self._count = count
        self._host_cache.clear()  # another process may have changed them

    def _refresh(self) -> None:
        """Catch up with what other processes committed. While the segment list is the one we
        hold, they only appended band_delta rows (a flush or compaction always names a new
        segment): read just those, not every delta again. Otherwise reload everything."""
        self._db.execute("BEGIN")  # one snapshot
        try:
            meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
            deltas = None
            if json.loads(meta.get("segments", "[]")) == [seg.name for seg in self._segments]:
                deltas = self._db.execute(
                    "SELECT id, keys, rows FROM band_delta WHERE id > ? ORDER BY id", (self._delta_id,)
                ).fetchall()
                max_row = self._db.execute("SELECT max(row) FROM docs").fetchone()[0]
                count = self._db.execute("SELECT count(*) FROM docs").fetchone()[0]
        finally:
            self._db.execute("COMMIT")
        if deltas is None:
            self._load()
        else:
            # Another process may have re-keyed a changed article (new row number): the
            # memo of row -> id must not resolve the old row any more.
            self._recent_ids.clear()
            self._apply(meta, deltas, max_row, count)

    def _current_gen(self) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'gen'").fetchone()
        return row[0] if row else ""

    def begin(self) -> None:
        """Take the directory's lock; another process may have written since we last looked:
        reload then, so its articles are candidates too and its row numbers are not reused."""
        super().begin()
        if self.dir is not None and self._current_gen() != self._gen:
            self._refresh()

    def _lock(self) -> None:
        """An flock on ``<dir>/lock`` from ``begin`` to ``commit``/``abort``: one batch at a
        time across processes, released by the OS if a process dies. The file is open only
        while locked, so a process forked meanwhile (extraction pools) holds no copy of it."""
        if self.dir is None or self._lock_fd is not None:
            return
        fd = os.open(self.dir / "lock", os.O_RDWR | os.O_CREAT, 0o644)

        def acquire() -> bool:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False

        try:
            wait_for(acquire, timeout_s=self.settings.lock_timeout_s, what=str(self.dir))
        except BaseException:
            os.close(fd)
            raise
        self._lock_fd = fd

    def _unlock(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)  # releases the flock

    def _bump(self) -> None:
        """Inside a write transaction: mark the committed state as changed."""
        self._gen = uuid.uuid4().hex
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('gen', ?)", (self._gen,))

    # ------------------------------------------------------------------ segments
    def _open_segment(self, name: str) -> _Segment:
        assert self.dir is not None
        keys = np.load(self.dir / f"{name}.keys.npy", mmap_mode="r")
        rows = np.load(self.dir / f"{name}.rows.npy", mmap_mode="r")
        for arr, warm in ((keys, True), (rows, False)):
            mm = getattr(arr, "_mmap", None)
            if mm is None or not hasattr(mm, "madvise"):
                continue
            # Lookups touch a few scattered pages: fault-time read-ahead would pull in megabytes.
            if hasattr(mmap, "MADV_RANDOM"):
                mm.madvise(mmap.MADV_RANDOM)
            # But do ask the kernel to read the keys in the background (returns at once): a
            # fresh process soon answers from memory instead of one disk read per key.
            if warm and hasattr(mmap, "MADV_WILLNEED"):
                mm.madvise(mmap.MADV_WILLNEED)
        fence_path = self.dir / f"{name}.fence.npy"
        fence = np.load(fence_path) if fence_path.exists() else np.ascontiguousarray(keys[::FENCE])
        return _Segment(name, keys, rows, fence)

    def _cleanup_orphans(self) -> None:
        """Segment files no committed transaction refers to (a crash mid-flush) are removed."""
        if self.dir is None:
            return
        live = {s.name for s in self._segments}
        live.update(json.loads(dict(self._db.execute("SELECT key, value FROM meta")).get("segments", "[]")))
        for f in self.dir.glob("seg-*.npy"):
            if f.name.split(".")[0] in live:
                continue
            try:
                # Old enough not to be another process's segment about to be committed.
                if time.time() - f.stat().st_mtime > 600:
                    f.unlink(missing_ok=True)
            except FileNotFoundError:
                pass  # another process renamed (a .tmp being finished) or removed it meanwhile

    def _write_segment(self, keys: np.ndarray, rows: np.ndarray) -> _Segment:
        order = np.argsort(keys, kind="stable")
        # Row numbers as int32: a third less to map and page in (2^31 articles is far off).
        keys, rows = keys[order], rows[order].astype(np.int32)
        if self.dir is None:
            return _Segment(f"seg-{uuid.uuid4().hex}", keys, rows)
        name = f"seg-{uuid.uuid4().hex[:16]}"
        for part, arr in (("keys", keys), ("rows", rows), ("fence", np.ascontiguousarray(keys[::FENCE]))):
            tmp = self.dir / f"{name}.{part}.tmp.npy"
            with open(tmp, "wb") as fh:
                np.save(fh, arr)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.dir / f"{name}.{part}.npy")
        return self._open_segment(name)

    def _set_segments(self, segments: list[_Segment], *, clear_delta: bool) -> bool:
        """Replace the segment list (and maybe the deltas) if nobody else committed since our
        state was read; otherwise drop the new segments and return False (the next ``begin``
        reloads, and the keys are still in the deltas / old segments)."""
        old = {s.name for s in self._segments}
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if self._current_gen() != self._gen:
                self._db.execute("ROLLBACK")
                self._remove_segments({s.name for s in segments} - old)
                return False
            if clear_delta:
                self._db.execute("DELETE FROM band_delta")
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('segments', ?)", (json.dumps([s.name for s in segments]),)
            )
            self._bump()
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._segments = segments
        if clear_delta:
            self._delta, self._delta_rows, self._delta_id = [], 0, 0
        # Other processes may still map these: their mappings stay valid, and their next begin()
        # sees the new list.
        self._remove_segments(old - {s.name for s in segments})
        return True

    def _remove_segments(self, names: set[str]) -> None:
        if self.dir is None:
            return
        for name in names:
            for part in ("keys", "rows", "fence"):
                (self.dir / f"{name}.{part}.npy").unlink(missing_ok=True)

    def _add_delta(self, keys: np.ndarray, rows: np.ndarray) -> None:
        order = np.argsort(keys, kind="stable")
        self._delta.append(
            _Segment("delta", np.ascontiguousarray(keys[order], dtype=np.uint64), rows[order].astype(np.int32))
        )
        self._delta_rows += int(keys.size)
        # Merge the newest two while of similar size: O(log n) small sorted arrays to search.
        while len(self._delta) >= 2 and len(self._delta[-2]) <= 2 * len(self._delta[-1]):
            self._delta[-2:] = [self._merge(self._delta[-2:])]

    @staticmethod
    def _merge(segs: list[_Segment]) -> _Segment:
        keys = np.concatenate([s.keys for s in segs])
        rows = np.concatenate([s.rows for s in segs])
        order = np.argsort(keys, kind="stable")
        return _Segment("delta", keys[order], rows[order])

    def _dead_rows(self) -> np.ndarray:
        """Row numbers re-keyed articles left behind (their postings resolve to no document)."""
        try:
            return np.array([r for (r,) in self._db.execute("SELECT row FROM dead")], dtype=np.int32)
        except sqlite3.OperationalError:  # no article was ever re-keyed in this index
            return np.empty(0, dtype=np.int32)

    def _live(self, keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Drop the postings of dead rows: a flush or compaction rewrites the keys anyway, so
        re-keyed articles' old keys leave the index there."""
        dead = self._dead_rows()
        if dead.size == 0:
            return keys, rows
        keep = ~np.isin(rows, dead)
        return keys[keep], rows[keep]

    def _flush_delta(self) -> None:
        merged = self._merge(self._delta)
        seg = self._write_segment(*self._live(merged.keys, merged.rows))
        if self._set_segments(self._segments + [seg], clear_delta=True):
            self._compact()

    def _compact(self) -> None:
        # Merge the newest two while they are of similar size: O(log n) segments, each key
        # rewritten O(log n) times overall.
        while len(self._segments) >= 2 and len(self._segments[-2]) <= 4 * len(self._segments[-1]):
            a, b = self._segments[-2], self._segments[-1]
            seg = self._write_segment(*self._live(np.concatenate([a.keys, b.keys]), np.concatenate([a.rows, b.rows])))
            if not self._set_segments(self._segments[:-2] + [seg], clear_delta=False):
                return

    # ------------------------------------------------------------------ reads
    def last_seq(self) -> int:
        if self.dir is None:
            return self._last_seq
        # Read, not cached: another process may have committed since (see begin()).
        row = self._db.execute("SELECT value FROM meta WHERE key = 'last_seq'").fetchone()
        return int(row[0]) if row else 0

    def __len__(self) -> int:
        return self._count

    def candidates(self, keys: np.ndarray) -> set[str]:
        return self.probe(keys, np.empty(0, dtype=np.uint64), max_postings=0)[0]

    def hits(self, keys: np.ndarray, *, max_postings: int) -> dict[str, int]:
        return self.probe(np.empty(0, dtype=np.uint64), keys, max_postings=max_postings)[1]

    def probe(self, keys: np.ndarray, anchors: np.ndarray, *, max_postings: int) -> tuple[set[str], dict[str, int]]:
        """One lookup per segment for band keys and anchor keys together."""
        nb = int(keys.size)
        allkeys = np.concatenate([keys, anchors]).astype(np.uint64, copy=False)
        if allkeys.size == 0:
            return set(), {}
        ranges = []
        total = np.zeros(allkeys.size, dtype=np.int64)
        for seg in (*self._segments, *self._delta):
            lo, hi = seg.lookup(allkeys)
            total += hi - lo
            ranges.append((seg, lo, hi))
        # Band keys: every posting; anchors: only those few articles share (common ones say nothing).
        keep = total > 0
        keep[nb:] &= total[nb:] <= max_postings
        if not keep.any():
            return set(), {}
        rows_parts, key_parts = [], []
        for seg, lo, hi in ranges:
            n = np.where(keep, hi - lo, 0)
            if not n.any():
                continue
            # All [lo, hi) ranges at once: positions lo[k] .. hi[k]-1 for every kept key k.
            starts = np.repeat(lo - np.concatenate(([0], np.cumsum(n)[:-1])), n)
            rows_parts.append(np.asarray(seg.rows[starts + np.arange(int(n.sum()))], dtype=np.int64))
            key_parts.append(np.repeat(np.arange(allkeys.size), n))
        key_of = np.concatenate(key_parts)
        rows = np.concatenate(rows_parts)
        band_rows = np.unique(rows[key_of < nb])
        pairs = np.unique(key_of[key_of >= nb] * (1 << 32) + rows[key_of >= nb])
        anchor_rows, counts = np.unique(pairs & 0xFFFFFFFF, return_counts=True)
        wanted = np.union1d(band_rows, anchor_rows).tolist()
        recent = self._recent_ids
        ids = {r: recent[r] for r in wanted if r in recent}
        if len(ids) < len(wanted):
            ids.update(
                self._query_in(
                    "SELECT row, article_id FROM docs WHERE row IN ({})", [r for r in wanted if r not in ids]
                )
            )
        found = {ids[r] for r in band_rows.tolist() if r in ids}
        return found, {ids[r]: int(c) for r, c in zip(anchor_rows.tolist(), counts.tolist()) if r in ids}

    def _query_in(self, sql: str, values: list) -> list[tuple]:
        out: list[tuple] = []
        for i in range(0, len(values), 900):  # SQLite's variable limit
            chunk = values[i : i + 900]
            out.extend(self._db.execute(sql.format(",".join("?" * len(chunk))), chunk).fetchall())
        return out

    def docs(self, ids: Iterable[str]) -> dict[str, DocInfo]:
        rows = self._query_in(
            "SELECT article_id, cluster_id, content_hash, host, ts, anchors FROM docs WHERE article_id IN ({})",
            list(set(ids)),
        )
        return {r[0]: DocInfo(*r) for r in rows}

    def exact(self, hashes: Iterable[str]) -> dict[str, list[str]]:
        rows = self._query_in(
            "SELECT content_hash, article_id FROM docs WHERE content_hash IN ({}) ORDER BY row", list(set(hashes))
        )
        return first_ids(rows)

    def members(self, cluster_ids: Iterable[str]) -> dict[str, list[str]]:
        rows = self._query_in(
            "SELECT cluster_id, article_id FROM docs WHERE cluster_id IN ({}) ORDER BY row", list(set(cluster_ids))
        )
        return first_ids(rows)

    def hosts(self, names: Iterable[str]) -> dict[str, HostState]:
        names = set(names)
        missing = [n for n in names if n not in self._host_cache]
        loaded = {
            host: HostState.from_bytes(blob)
            for host, blob in self._query_in("SELECT host, state FROM hosts WHERE host IN ({})", missing)
        }
        # Callers get copies: staged changes must not leak into the cache before commit.
        out = {n: _copy_host(self._host_cache[n]) for n in names if n in self._host_cache}
        out.update({n: _copy_host(st) for n, st in loaded.items()})
        self._remember(loaded)
        for n in names:
            if n in self._host_cache:
                self._host_cache.move_to_end(n)
        return out

    def _remember(self, states: dict[str, HostState]) -> None:
        for host, state in states.items():
            self._host_cache[host] = state
            self._host_cache.move_to_end(host)
        while len(self._host_cache) > HOST_CACHE:
            self._host_cache.popitem(last=False)

    # ------------------------------------------------------------------ writes
    def _write(self, staged: Staged, seq: int | None) -> None:
        db = self._db
        new_keys: list[np.ndarray] = []
        new_rows: list[np.ndarray] = []
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if self.dir is not None and self._current_gen() != self._gen:
                # Someone wrote without the lock (or commit() came without begin()): take
                # their rows, segments and deltas as the base, never overwrite them.
                self._load(in_transaction=True)
            ids = [e.info.article_id for e in staged.entries]
            existing = dict(self._query_in("SELECT article_id, content_hash FROM docs WHERE article_id IN ({})", ids))
            doc_rows, rekeyed = [], []
            for e in staged.entries:
                i = e.info
                if i.article_id in existing and existing[i.article_id] == i.content_hash:
                    staged.moves.setdefault(i.article_id, i.cluster_id)
                    continue
                row = self._next_row + len(doc_rows) + len(rekeyed)
                if i.article_id in existing:
                    # Changed text: the document moves to a new row number with its new keys.
                    # Postings of the old row stay in the (immutable) segments, but no
                    # document has that row any more, so lookups drop them: re-keyed.
                    rekeyed.append((row, i.cluster_id, i.content_hash, i.host, i.ts, i.anchors, i.article_id))
                else:
                    doc_rows.append((row, i.article_id, i.cluster_id, i.content_hash, i.host, i.ts, i.anchors))
                existing[i.article_id] = i.content_hash
                if e.keys is not None and e.keys.size:
                    new_keys.append(e.keys)
                    new_rows.append(np.full(e.keys.size, row, dtype=np.int32))
            db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?)", doc_rows)
            if rekeyed:
                old_rows = self._query_in("SELECT row FROM docs WHERE article_id IN ({})", [r[-1] for r in rekeyed])
                db.executemany(
                    "UPDATE docs SET row = ?, cluster_id = ?, content_hash = ?, host = ?, ts = ?, anchors = ? "
                    "WHERE article_id = ?",
                    rekeyed,
                )
                # Remembered so that the next flush or compaction drops their postings.
                db.execute("CREATE TABLE IF NOT EXISTS dead (row INTEGER PRIMARY KEY)")
                db.executemany("INSERT OR IGNORE INTO dead VALUES (?)", old_rows)
            if staged.moves:
                db.executemany(
                    "UPDATE docs SET cluster_id = ? WHERE article_id = ?", [(c, a) for a, c in staged.moves.items()]
                )
            keys = np.concatenate(new_keys) if new_keys else np.empty(0, dtype=np.uint64)
            rows = np.concatenate(new_rows) if new_rows else np.empty(0, dtype=np.int32)
            direct = keys.size > DIRECT_SEGMENT_ROWS
            segment = None
            if direct:
                # Written before the transaction commits; an orphan if it does not (cleaned at open).
                segment = self._write_segment(keys, rows)
                db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('segments', ?)",
                    (json.dumps([s.name for s in self._segments] + [segment.name]),),
                )
            elif keys.size:  # one row per batch: start-up reads a few blobs, not millions of rows
                delta_id = db.execute(
                    "INSERT INTO band_delta (keys, rows) VALUES (?, ?)",
                    (keys.astype("<u8").tobytes(), rows.astype("<i4").tobytes()),
                ).lastrowid
            for host, state in staged.hosts.items():
                db.execute("INSERT OR REPLACE INTO hosts VALUES (?, ?)", (host, state.to_bytes()))
            if seq is not None and seq > self._last_seq:  # never moves back
                db.execute("INSERT OR REPLACE INTO meta VALUES ('last_seq', ?)", (str(seq),))
            self._bump()
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._next_row += len(doc_rows) + len(rekeyed)
        self._count += len(doc_rows)
        if len(self._recent_ids) > 200_000:  # a memo, not a copy of the table
            self._recent_ids.clear()
        if rekeyed:
            for (old_row,) in old_rows:
                self._recent_ids.pop(old_row, None)
            self._recent_ids.update((r[0], r[-1]) for r in rekeyed)
        self._recent_ids.update((r[0], r[1]) for r in doc_rows)
        if seq is not None and seq > self._last_seq:
            self._last_seq = seq
        self._remember({h: _copy_host(s) for h, s in staged.hosts.items()})
        if segment is not None:
            self._segments.append(segment)
            self._compact()
        elif keys.size:
            self._add_delta(keys, rows)
            self._delta_id = delta_id
            if self.dir is not None and self._delta_rows >= FLUSH_ROWS:
                self._flush_delta()

    def close(self) -> None:
        super().close()  # releases the lock
        try:
            self._db.close()
        except sqlite3.Error:
            pass


def _copy_host(state: HostState) -> HostState:
    from wiredesk.dedup.hosts import RecentDoc

    return HostState(
        host=state.host,
        recent=[RecentDoc(r.article_id, r.cluster_id, r.shingles) for r in state.recent],
        furniture=state.furniture,
    )
