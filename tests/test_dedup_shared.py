"""The shared dedup indexes (Redis, PostgreSQL) against the real servers on 127.0.0.1."""

from __future__ import annotations

import random
import threading
import time
import uuid

import pytest

from tests.services import require_postgres, require_redis
from tests.test_dedup_core import Store, art, story, syndicate
from wiredesk.dedup import Deduplicator, DedupSettings, open_index

pytestmark = pytest.mark.services


@pytest.fixture(params=["redis", "postgresql"])
def location(request):
    base = require_redis() if request.param == "redis" else require_postgres()
    prefix = f"wdtest_{uuid.uuid4().hex[:10]}"
    loc = f"{base}{'&' if '?' in base else '?'}prefix={prefix}"
    yield loc
    with open_index(loc, settings=DedupSettings()) as index:
        index.drop()


class LockedStore(Store):
    """The store shared by workers; its lookup is slow, so that without the index lock two
    concurrent batches would both look before either commits."""

    def __init__(self) -> None:
        super().__init__()
        self.mutex = threading.Lock()

    def lookup(self, ids):
        time.sleep(0.2)
        with self.mutex:
            return super().lookup(ids)

    def write(self, articles, result) -> int:
        with self.mutex:
            return super().write(articles, result)


def test_cross_run_through_a_shared_index(location):
    settings = DedupSettings()
    store = Store()
    rng = random.Random(20)
    s1 = story(rng)
    with open_index(location, settings=settings) as index:
        dedup = Deduplicator(settings, index, store.lookup)
        res = dedup.assign([art("orig", s1, url="https://o.example/1")])
        dedup.commit(store.write([art("orig", s1, url="https://o.example/1")], res))
    with open_index(location, settings=settings) as index:  # another process, later
        assert index.last_seq() == 1 and len(index) == 1
        dedup = Deduplicator(settings, index, store.lookup)
        arts = [art("copy", syndicate(s1, rng), url="https://c.example/1"), art("exact", s1, url="https://e.example/1")]
        res = dedup.assign(arts)
        dedup.commit(store.write(arts, res))
        assert [(a.kind, a.duplicate_of, a.cluster_id) for a in res.assignments] == [
            ("near", "orig", "orig"),
            ("exact", "orig", "orig"),
        ]
        assert index.members(["orig"]) == {"orig": ["copy", "exact", "orig"]} or sorted(
            index.members(["orig"])["orig"]
        ) == ["copy", "exact", "orig"]


def test_two_workers_at_the_same_moment_make_one_cluster(location):
    settings = DedupSettings(lock_timeout_s=20)
    store = LockedStore()
    rng = random.Random(21)
    s1 = story(rng)
    copies = [
        art("w0", syndicate(s1, rng), url="https://a.example/1"),
        art("w1", syndicate(s1, rng), url="https://b.example/1"),
    ]
    barrier = threading.Barrier(2)
    results, errors = {}, []

    def worker(n: int) -> None:
        try:
            with open_index(location, settings=settings) as index:
                dedup = Deduplicator(settings, index, store.lookup)
                barrier.wait()
                res = dedup.assign([copies[n]])
                dedup.commit(store.write([copies[n]], res))
                results[n] = res.assignments[0]
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert results[0].cluster_id == results[1].cluster_id
    assert sorted(a.kind for a in results.values()) == ["near", "new"]


def test_shared_index_refuses_other_signature_settings(location):
    with open_index(location, settings=DedupSettings()):
        pass
    from wiredesk.core.errors import DedupError

    with pytest.raises(DedupError, match="rebuild"):
        open_index(location, settings=DedupSettings(shingle_size=4))


def test_containment_anchors_and_furniture_through_a_shared_index(location):
    """The anchor keys (a clean copy inside a page full of other text) and the per-host
    furniture memory work through the shared backends too."""
    settings = DedupSettings()
    store = Store()
    rng = random.Random(22)
    s1, sidebar = story(rng, 4), story(rng, 12)
    with open_index(location, settings=settings) as index:
        dedup = Deduplicator(settings, index, store.lookup)
        arts = [art("big", f"{sidebar}\n{s1}\n{story(rng, 4)}", url="https://big.example/1")]
        dedup.commit(store.write(arts, dedup.assign(arts)))
    with open_index(location, settings=settings) as index:
        assert index.hosts(["big.example"])["big.example"].recent[0].article_id == "big"
        dedup = Deduplicator(settings, index, store.lookup)
        arts = [art("clean", syndicate(s1, rng), url="https://clean.example/1")]
        res = dedup.assign(arts)
        dedup.commit(store.write(arts, res))
        assert res.assignments[0].duplicate_of == "big"


def test_the_batch_lock_waits_times_out_and_is_released_by_abort(location):
    from wiredesk.core.errors import DedupError

    settings = DedupSettings(lock_timeout_s=0.3)
    store = Store()
    rng = random.Random(23)
    with open_index(location, settings=settings) as a, open_index(location, settings=settings) as b:
        da, db = Deduplicator(settings, a, store.lookup), Deduplicator(settings, b, store.lookup)
        da.assign([art("x", story(rng), url="https://x.example/1")])
        with pytest.raises(DedupError) as err:
            db.assign([art("y", story(rng), url="https://y.example/1")])
        assert err.value.reason == "dedup-locked"
        da.abort()
        arts = [art("y", story(rng), url="https://y.example/1")]
        db.commit(store.write(arts, db.assign(arts)))
        assert len(b) == 1
