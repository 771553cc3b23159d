"""Several processes on one local dedup index directory (the default index beside a SQLite
store): a simultaneous fresh open, batches interleaved the way the pipeline runs them (inside
the store's writer lock: reindex what others stored, assign, write, commit), and a writer that
skipped the lock."""

from __future__ import annotations

import fcntl
import random
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

import wiredesk.dedup.local as local_index
from tests.test_dedup_core import Store, art, story, syndicate
from wiredesk.core.errors import DedupError
from wiredesk.core.records import StoredArticle
from wiredesk.dedup import Deduplicator, DedupSettings, open_index
from wiredesk.dedup.index import DocInfo, IndexEntry, Staged

REPO = Path(__file__).resolve().parent.parent
STORIES = 16  # per run: the first half in strict turns, the second half racing for the lock


class SqliteStore:
    """A store several processes share: a SQLite file, and an flock as its writer lock (what
    ``Store.writer_lock`` does for a SQLite store)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db = sqlite3.connect(folder / "store.db", isolation_level=None, timeout=60)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS articles (id TEXT PRIMARY KEY, text TEXT, url TEXT, "
            "cluster_id TEXT, duplicate_of TEXT, similarity REAL, kind TEXT, worker INTEGER, seq INTEGER)"
        )
        self.db.execute("CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY AUTOINCREMENT, worker INTEGER)")

    @contextmanager
    def writer_lock(self):
        with open(self.folder / "store.lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _stored(self, row) -> StoredArticle:
        aid, text, url, cluster, dup, sim, seq = row
        return StoredArticle(
            article=art(aid, text, url=url), cluster_id=cluster, duplicate_of=dup, similarity=sim, seq=seq
        )

    def lookup(self, ids):
        ids = list(ids)
        rows = (
            self.db.execute(
                f"SELECT id, text, url, cluster_id, duplicate_of, similarity, seq FROM articles "
                f"WHERE id IN ({','.join('?' * len(ids))})",
                ids,
            ).fetchall()
            if ids
            else []
        )
        return {r[0]: self._stored(r) for r in rows}

    def since(self, seq: int) -> list[StoredArticle]:
        rows = self.db.execute(
            "SELECT id, text, url, cluster_id, duplicate_of, similarity, seq FROM articles WHERE seq > ? ORDER BY seq",
            (seq,),
        ).fetchall()
        return [self._stored(r) for r in rows]

    def batches(self) -> int:
        return self.db.execute("SELECT count(*) FROM batches").fetchone()[0]

    def write(self, articles, result, worker: int) -> int:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            seq = self.db.execute("INSERT INTO batches (worker) VALUES (?)", (worker,)).lastrowid
            for a, asg in zip(articles, result.assignments):
                self.db.execute(
                    "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (a.id, a.text, a.url, asg.cluster_id, asg.duplicate_of, asg.similarity, asg.kind, worker, seq),
                )
            for u in result.updates:
                self.db.execute(
                    "UPDATE articles SET cluster_id = ?, duplicate_of = ?, similarity = ?, seq = ? WHERE id = ?",
                    (u.cluster_id, u.duplicate_of, u.similarity, seq, u.article_id),
                )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return seq


def _texts(seed: int) -> list[tuple[str, str]]:
    """(original, wire copy) of every story; the same in every process."""
    rng = random.Random(seed)
    stories = [story(rng) for _ in range(STORIES)]
    return [(s, syndicate(s, random.Random(seed * 1000 + k))) for k, s in enumerate(stories)]


def _my_articles(worker: int, seed: int):
    """Story k: worker 0 holds the original of even stories and the copy of odd ones, worker 1
    the rest, so both processes' articles must be found by the other."""
    out = []
    for k, (original, copy) in enumerate(_texts(seed)):
        mine_is_original = (k % 2 == 0) == (worker == 0)
        text = original if mine_is_original else copy
        out.append((k, art(f"w{worker}-s{k}", text, url=f"https://w{worker}.example/{k}")))
    return out


def barrier(folder: Path, me: str, parties: int) -> None:
    """Wait until ``parties`` processes have reached this point (their interpreters are up)."""
    (folder / f"ready-{me}").touch()
    deadline = time.monotonic() + 60
    while len(list(folder.glob("ready-*"))) < parties and time.monotonic() < deadline:
        time.sleep(0.001)


def worker(worker: int, folder: str, seed: int, flush_rows: int) -> None:
    """One `wiredesk run`, reduced to its dedup part: open when the other is ready too (both
    processes at once, on a fresh directory), then one article per batch the way
    ``ingest_pages`` does it."""
    local_index.FLUSH_ROWS = flush_rows  # small: segments are flushed and compacted under the other process
    root = Path(folder)
    store = SqliteStore(root)
    settings = DedupSettings(lock_timeout_s=60)
    barrier(root, str(worker), 2)
    with open_index(str(root / "store.dedup"), settings=settings) as index:
        dd = Deduplicator(settings, index, store.lookup)
        for k, article in _my_articles(worker, seed):
            if k < STORIES // 2:  # strict turns: story k's first article, then its second, by turn 2k + worker
                turn = 2 * k + (worker if k % 2 == 0 else 1 - worker)
                while store.batches() < turn:
                    time.sleep(0.005)
            with store.writer_lock():
                dd.reindex(store.since(index.last_seq()))
                result = dd.assign([article])
                try:
                    seq = store.write([article], result, worker)
                except BaseException:
                    dd.abort()
                    raise
                dd.commit(seq)


def _run_workers(tmp_path: Path, seed: int, flush_rows: int) -> None:
    SqliteStore(tmp_path).db.close()  # tables made once, before the race on the index
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from tests.test_dedup_multiprocess import worker; "
                "worker(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))",
                str(n),
                str(tmp_path),
                str(seed),
                str(flush_rows),
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    _finish(procs)


def _finish(procs: list[subprocess.Popen]) -> None:
    """Wait for all; once one fails, stop the others (they would wait for it at a barrier)."""
    deadline = time.monotonic() + 120
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        if any(p.poll() not in (None, 0) for p in procs):
            break
        time.sleep(0.05)
    for p in procs:
        if p.poll() is None:
            p.kill()
    for p in procs:
        _, err = p.communicate()
        assert p.returncode == 0, err[-3000:]


@pytest.mark.parametrize("flush_rows", [local_index.FLUSH_ROWS, 300])
def test_two_processes_interleaving_batches_on_one_index(tmp_path: Path, flush_rows: int):
    _run_workers(tmp_path, seed=31, flush_rows=flush_rows)
    store = SqliteStore(tmp_path)
    rows = store.db.execute("SELECT id, cluster_id, duplicate_of, kind, worker, seq FROM articles").fetchall()
    assert len(rows) == 2 * STORIES
    by_story: dict[int, list[tuple]] = {}
    for row in rows:
        by_story.setdefault(int(row[0].split("-s")[1]), []).append(row)
    clusters = set()
    found_other = {0: 0, 1: 0}
    for k, pair in sorted(by_story.items()):
        assert len(pair) == 2 and {r[4] for r in pair} == {0, 1}
        # Copies of one story written by two processes: ONE cluster, one representative.
        assert pair[0][1] == pair[1][1], (k, pair)
        assert sorted(r[2] is None for r in pair) == [False, True], (k, pair)
        clusters.add(pair[0][1])
        # Whichever process came second found the first one's article as a candidate.
        first, second = sorted(pair, key=lambda r: r[5])[0], max(pair, key=lambda r: r[5])
        if first[5] != second[5]:
            assert first[3] == "new" and second[3] == "near", (k, pair)
            found_other[second[4]] += 1
        if k < STORIES // 2:  # the turns fixed who was first
            assert first[4] == (0 if k % 2 == 0 else 1) and first[5] < second[5], (k, pair)
    assert len(clusters) == STORIES  # and distinct stories stayed apart
    assert found_other[0] > 0 and found_other[1] > 0, found_other
    # The index both wrote agrees with the store: every article once, the clusters the store holds.
    with open_index(str(tmp_path / "store.dedup"), settings=DedupSettings()) as index:
        assert len(index) == 2 * STORIES
        assert index.last_seq() == store.batches()
        docs = index.docs(r[0] for r in rows)
        assert {a: d.cluster_id for a, d in docs.items()} == {r[0]: r[1] for r in rows}
        if flush_rows < local_index.FLUSH_ROWS:
            assert index._segments  # the processes did flush segments under each other


def test_simultaneous_fresh_opens(tmp_path: Path):
    """Four processes open one fresh directory at the same moment, five directories in a row."""
    code = (
        "import sys; from pathlib import Path; from wiredesk.dedup import DedupSettings, open_index; "
        "from tests.test_dedup_multiprocess import barrier\n"
        "for k in range(5):\n"
        "    root = Path(sys.argv[1])\n"
        "    barrier(root / f'ready{k}', sys.argv[2], 4)\n"
        "    ix = open_index(str(root / f'fresh{k}'), settings=DedupSettings()); ix.begin(); ix.commit(0); ix.close()"
    )
    for k in range(5):
        (tmp_path / f"ready{k}").mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path), str(n)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    _finish(procs)
    for k in range(5):
        loc = str(tmp_path / f"fresh{k}")
        with open_index(loc, settings=DedupSettings()) as index:
            assert len(index) == 0 and index.last_seq() == 0
        with pytest.raises(DedupError) as info:  # the one params row every opener agreed on
            open_index(loc, settings=DedupSettings(num_perm=64))
        assert info.value.reason == "dedup-params"


def _pipeline_batch(dd: Deduplicator, store: Store, articles):
    """What ingest_pages does inside the store's writer lock."""
    dd.reindex(store.since(dd.index.last_seq()))
    result = dd.assign(articles)
    dd.commit(store.write(articles, result))
    return result


@pytest.mark.parametrize("flush_rows", [250, local_index.FLUSH_ROWS])  # segments flushed under the other, or not
def test_two_instances_interleaved_like_the_pipeline(tmp_path: Path, monkeypatch, flush_rows: int):
    """The reported failure: instance B keeps its row counter and band deltas from before A's
    batches (UNIQUE constraint failed: docs.row) and misses A's articles as candidates."""
    monkeypatch.setattr(local_index, "FLUSH_ROWS", flush_rows)
    settings = DedupSettings()
    store = Store()
    rng = random.Random(32)
    loc = str(tmp_path / "one.dedup")
    with open_index(loc, settings=settings) as a, open_index(loc, settings=settings) as b:
        da, db = Deduplicator(settings, a, store.lookup), Deduplicator(settings, b, store.lookup)
        stories = [story(rng) for _ in range(10)]
        for k, s in enumerate(stories):
            first, second = (da, db) if k % 3 else (db, da)
            # Two batches in a row from one instance now and then: the other falls two behind.
            _pipeline_batch(first, store, [art(f"o{k}", s, url=f"https://o{k}.example/x")])
            if k % 4 == 1:
                _pipeline_batch(first, store, [art(f"x{k}", story(rng), url=f"https://x{k}.example/x")])
            res = _pipeline_batch(second, store, [art(f"c{k}", syndicate(s, rng), url=f"https://c{k}.example/x")])
            assert (res.assignments[0].kind, res.assignments[0].duplicate_of) == ("near", f"o{k}"), k
        # Each caught up batch by batch (only the new band deltas when no segment changed):
        # the same as a process opening the index now.
        texts = [r.article.text for r in store.rows.values()]
        with open_index(loc, settings=settings) as fresh:
            expected = [fresh.candidates(da.keys(da.shingles(t))) for t in texts]
            assert all(expected)
            for ix in (a, b):
                ix.begin()
                assert len(ix) == len(store.rows) and ix._delta_rows == fresh._delta_rows
                assert [ix.candidates(da.keys(da.shingles(t))) for t in texts] == expected
                ix.abort()
        assert [s.name for s in a._segments] == [s.name for s in b._segments]
        assert bool(a._segments) == (flush_rows == 250)
        clusters = {r.article.id: r.cluster_id for r in store.rows.values()}
        assert all(clusters[f"c{k}"] == clusters[f"o{k}"] for k in range(10))
        assert len(set(clusters.values())) == len(store.rows) - 10


def test_the_directory_lock_serialises_batches(tmp_path: Path):
    loc = str(tmp_path / "locked.dedup")
    with (
        open_index(loc, settings=DedupSettings(lock_timeout_s=0.2)) as a,
        open_index(loc, settings=DedupSettings(lock_timeout_s=0.2)) as b,
    ):
        a.begin()
        with pytest.raises(DedupError) as info:
            b.begin()
        assert info.value.reason == "dedup-locked"
        a.abort()
        b.begin()  # released by abort
        b.commit(1)
        a.begin()  # and by commit
        assert a.last_seq() == 1
        a.abort()


def test_a_writer_that_skipped_the_lock_neither_reuses_rows_nor_drops_segments(tmp_path: Path, monkeypatch):
    settings = DedupSettings()
    loc = str(tmp_path / "stale.dedup")
    rng = np.random.default_rng(33)

    def entry(aid: str) -> tuple[IndexEntry, np.ndarray]:
        keys = rng.integers(1, 2**63, size=40, dtype=np.uint64)
        return IndexEntry(DocInfo(aid, aid, f"h-{aid}", None, 0.0), keys), keys

    with open_index(loc, settings=settings) as a, open_index(loc, settings=settings) as b:
        ea, ka = entry("from-a")
        a.begin()
        a.stage(Staged(entries=[ea]))
        a.commit(1)
        a._flush_delta()  # a's keys now live in a segment only
        monkeypatch.setattr(local_index, "DIRECT_SEGMENT_ROWS", 10)
        eb, kb = entry("from-b")
        b.stage(Staged(entries=[eb]))  # no begin(): b still holds the state from before a wrote
        b.commit(2)  # a direct segment: the segment list must keep a's
        for ix in (a, b):
            ix.begin()
            assert ix.candidates(ka) == {"from-a"} and ix.candidates(kb) == {"from-b"}
            assert len(ix) == 2 and ix.last_seq() == 2
            ix.abort()
    with sqlite3.connect(tmp_path / "stale.dedup" / "index.sqlite") as conn:
        assert sorted(r for (r,) in conn.execute("SELECT row FROM docs")) == [1, 2]
    with open_index(loc, settings=settings) as c:  # a fresh process sees both too
        assert c.candidates(ka) == {"from-a"} and c.candidates(kb) == {"from-b"}


def churn(folder: str, batches: int) -> None:
    """A writer whose every few batches flush and compact segments (old ones deleted)."""
    local_index.FLUSH_ROWS = 200
    rng = np.random.default_rng(34)
    with open_index(folder, settings=DedupSettings()) as index:
        for k in range(batches):
            index.begin()
            keys = rng.integers(1, 2**63, size=80, dtype=np.uint64)
            index.stage(Staged(entries=[IndexEntry(DocInfo(f"a{k}", f"a{k}", f"h{k}", None, 0.0), keys)]))
            index.commit(k + 1)


def test_opening_while_another_process_compacts(tmp_path: Path):
    """Opening reads the segment list, then the files: another process may compact those away
    in between. The open must look again, not report a corrupt index."""
    loc = str(tmp_path / "busy.dedup")
    open_index(loc, settings=DedupSettings()).close()
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from tests.test_dedup_multiprocess import churn; churn(sys.argv[1], int(sys.argv[2]))",
            loc,
            "300",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    opens, errors, sizes = 0, [], []
    try:
        while writer.poll() is None:
            try:
                with open_index(loc, settings=DedupSettings()) as index:
                    sizes.append(len(index))
                opens += 1
            except DedupError as exc:
                errors.append(exc)
    finally:
        _finish([writer])
    assert not errors, (len(errors), opens, errors[:3])
    assert opens > 20 and len(set(sizes)) > 5  # it did open while the writer was busy
    with open_index(loc, settings=DedupSettings()) as index:
        assert len(index) == 300 and len(index._segments) >= 1
