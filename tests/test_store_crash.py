"""The store's own guarantees under SIGKILL and under two concurrent writers.

A child process writes batches (each: articles + their verdicts + one failure, in one
transaction) and is SIGKILLed at chosen points: inside a batch's transaction before a given
statement, just before a commit, or from outside at an arbitrary moment. After every kill the
store must open, be intact, hold only whole batches, have gap-free seqs, and a re-run must
finish the work without duplicating anything.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tests.test_store_support import store_target  # noqa: F401
from wiredesk.storage import open_store
from wiredesk.storage.schema import articles, counters, failures

REPO = Path(__file__).resolve().parent.parent
SIZE = 40  # articles per batch

WRITER = r"""
import hashlib, os, signal, sys
from datetime import datetime, timedelta, timezone
from sqlalchemy import event
from wiredesk.storage import open_store
from wiredesk.core.records import Article, Assignment, Failure, article_id_for

target, run_id, first, last, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
kill_before, kill_commit = sys.argv[6], int(sys.argv[7])  # "<statement prefix>:<nth>", nth commit
prefix, _, nth = kill_before.rpartition(":")
store = open_store(target)
seen = {"statements": 0, "commits": 0}

@event.listens_for(store.engine, "before_cursor_execute")
def _statement(conn, cursor, statement, *_args):
    if prefix and statement.lstrip().upper().startswith(prefix):
        seen["statements"] += 1
        if seen["statements"] == int(nth):
            os.kill(os.getpid(), signal.SIGKILL)

@event.listens_for(store.engine, "commit")
def _commit(*_args):
    seen["commits"] += 1
    if seen["commits"] == kill_commit:
        os.kill(os.getpid(), signal.SIGKILL)

t0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
for b in range(first, last):
    arts, verdicts = [], []
    for i in range(size):
        n = b * size + i
        url = f"https://wire.example/{b}/{n}"
        body = f"story {n} " + "lorem ipsum dolor " * 40
        arts.append(Article(id=article_id_for(url), source="wire", text=body, url=url,
                            content_hash=hashlib.sha256(body.encode()).hexdigest()[:32],
                            fetched_at=t0 + timedelta(seconds=n), published="2026-11-01"))
        rep = arts[i - 1] if i % 4 == 3 else None
        verdicts.append(Assignment(article_id=arts[-1].id, cluster_id=(rep or arts[-1]).id,
                                   kind="near" if rep else "new", duplicate_of=rep.id if rep else None,
                                   similarity=0.9 if rep else None))
    store.write_batch(run_id=run_id, articles=arts, assignments=verdicts,
                      failures=[Failure(location=f"https://wire.example/{b}/broken", source="wire",
                                        reason="no-content", stage="extract")])
    print(b, flush=True)
store.close()
"""


def _writer(
    target: str, first: int, last: int, *, run_id: str = "run", kill_before: str = ":0", kill_commit: int = 0
) -> subprocess.Popen:
    args = [
        sys.executable,
        "-c",
        WRITER,
        target,
        run_id,
        str(first),
        str(last),
        str(SIZE),
        kill_before,
        str(kill_commit),
    ]
    return subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _check(target: str) -> int:
    """The store is intact and holds whole batches only; returns the number of batches stored."""
    with open_store(target) as st, st.engine.connect() as conn:
        if st.backend == "sqlite":
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        n = conn.execute(select(func.count()).select_from(articles)).scalar_one()
        batches = conn.execute(select(func.count(func.distinct(failures.c.location)))).scalar_one()
        assert n == batches * SIZE, "a batch was stored in part"
        seqs = conn.execute(select(articles.c.seq).order_by(articles.c.seq)).scalars().all()
        assert seqs == list(range(1, n + 1))  # unique, gap-free
        assert conn.execute(select(counters.c.value)).scalar_one() == n
        locations = conn.execute(select(func.count(func.distinct(articles.c.location)))).scalar_one()
        assert locations == n  # no article stored twice
        per_batch: dict[str, int] = {}
        for url in conn.execute(select(articles.c.url)).scalars():
            batch = url.split("/")[3]  # https://wire.example/<batch>/<n>
            per_batch[batch] = per_batch.get(batch, 0) + 1
        assert set(per_batch.values()) <= {SIZE} and len(per_batch) == batches
    return batches


def test_sigkill_at_several_points_then_rerun_completes(store_target):
    with open_store(store_target):
        pass  # create and migrate first: the kill points below count batch writes only
    total = 8
    stored = 0
    for kill in (
        {"kill_before": "INSERT INTO ARTICLES:1"},  # first batch: counter locked, nothing written yet
        {"kill_before": "INSERT INTO FAILURES:2"},  # second batch: its articles written, not committed
        {"kill_before": "UPDATE COUNTERS:1"},  # everything written but the new high-water mark
        {"kill_commit": 3},  # third batch complete, killed just before COMMIT
    ):
        proc = _writer(store_target, stored, total, **kill)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL, err
        assert _check(store_target) == stored + len(out.split())  # every reported batch is there
        stored = _check(store_target)
    proc = _writer(store_target, 0, total)  # the next run redoes everything: nothing twice
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert _check(store_target) == total


def test_sigkill_at_an_arbitrary_moment(store_target):
    with open_store(store_target):
        pass
    proc = _writer(store_target, 0, 400)
    assert proc.stdout.readline()  # one batch committed: it is writing now
    time.sleep(0.15)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert 1 <= _check(store_target) < 400


def test_two_concurrent_writers_never_store_one_article_twice(store_target):
    with open_store(store_target):
        pass
    # Overlapping input: batches 5..14 are written by both processes at the same time.
    one = _writer(store_target, 0, 15, run_id="worker-1")
    two = _writer(store_target, 5, 20, run_id="worker-2")
    for proc in (one, two):
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert _check(store_target) == 20
    with open_store(store_target) as st, st.engine.connect() as conn:
        runs = dict(conn.execute(select(articles.c.run_id, func.count()).group_by(articles.c.run_id)).all())
        assert sum(runs.values()) == 20 * SIZE
        fails = conn.execute(select(func.count()).select_from(failures)).scalar_one()
        assert fails == 30  # each run records its own failures once per batch it wrote


def test_writer_lock_dies_with_its_process(store_target):
    code = (
        "import sys, time; from wiredesk.storage import open_store\n"
        "st = open_store(sys.argv[1])\n"
        "with st.writer_lock(timeout_s=10):\n    print('locked', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, store_target], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "locked", proc.stderr.read()
        from wiredesk.core.errors import StoreError

        with open_store(store_target) as st:
            with pytest.raises(StoreError, match="locked by another writer"):
                with st.writer_lock(timeout_s=0.3):
                    pass
            os.kill(proc.pid, signal.SIGKILL)  # a crashed run leaves no stale lock behind
            proc.communicate(timeout=30)
            with st.writer_lock(timeout_s=10):
                pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


EXPORTER = r"""
import os, signal, sys
import wiredesk.storage.files as files
from wiredesk.storage import export_corpus, open_store

encode, seen = files._json_line, [0]

def dying_encode(record):  # SIGKILL the export halfway through writing its file
    seen[0] += 1
    if seen[0] == int(sys.argv[3]):
        os.kill(os.getpid(), signal.SIGKILL)
    return encode(record)

files._json_line = dying_encode
with open_store(sys.argv[1]) as store:
    export_corpus(store, sys.argv[2], incremental=sys.argv[4] == "incremental")
"""


def test_an_export_killed_midway_leaves_the_previous_export_whole(store_target, tmp_path):
    proc = _writer(store_target, 0, 30)
    assert proc.communicate(timeout=120)[0].split()[-1] == "29"
    out = tmp_path / "export" / "corpus.jsonl"
    from wiredesk.storage import export_corpus

    with open_store(store_target) as st:
        first = export_corpus(st, str(out))
    before, manifest = out.read_bytes(), Path(first.manifest).read_bytes()
    proc = _writer(store_target, 30, 40)
    assert proc.communicate(timeout=120)[1] == ""
    for mode, kill_at in (("full", 700), ("incremental", 150)):
        proc = subprocess.Popen(
            [sys.executable, "-c", EXPORTER, store_target, str(out), str(kill_at), mode],
            cwd=REPO,
            stderr=subprocess.PIPE,
            text=True,
        )
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == -signal.SIGKILL, err
        assert out.read_bytes() == before and Path(first.manifest).read_bytes() == manifest
        assert [p for p in out.parent.iterdir() if ".tmp-" in p.name]  # what it was writing
    with open_store(store_target) as st:
        delta = export_corpus(st, str(out), incremental=True)
    assert (
        delta.incremental and delta.seq_from == first.seq_to and delta.records == 10 * 30
    )  # 3 in 4 are representatives
    assert not [p for p in out.parent.iterdir() if ".tmp-" in p.name]  # leftovers cleared
