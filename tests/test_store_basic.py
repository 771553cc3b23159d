"""The store's contract, run the same on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.test_store_support import BASE_TIME, dup, make_article, new, store, store_target  # noqa: F401
from wiredesk.core.errors import StoreError
from wiredesk.core.records import Failure, FetchRecord
from wiredesk.storage import ClusterSummary, open_store


def test_write_batch_stores_each_article_once_and_reports_high_water(store):
    arts = [make_article(i) for i in range(5)]
    verdicts = [new(arts[0]), dup(arts[1], arts[0]), *(new(a) for a in arts[2:])]
    fails = [Failure(location="https://wire.example/broken", source="wire", reason="no-content", stage="extract")]
    assert store.write_batch(run_id="r1", articles=arts, assignments=verdicts, failures=fails) == 5
    # The same batch again (a retry after a crash, a re-run of the same input): nothing new.
    assert store.write_batch(run_id="r1", articles=arts, assignments=verdicts, failures=fails) == 5
    stats = store.stats()
    assert stats["articles"] == 5 and stats["duplicates"] == 1 and stats["high_water_seq"] == 5
    assert stats["failures_by_reason"] == {"no-content": 1}
    got = store.get_articles([a.id for a in arts] + ["missing"])
    assert set(got) == {a.id for a in arts}
    assert got[arts[1].id].duplicate_of == arts[0].id and got[arts[1].id].similarity == pytest.approx(0.91)
    assert got[arts[3].id].article == arts[3]  # every field round-trips, text and timezone included
    assert sorted(s.seq for s in got.values()) == [1, 2, 3, 4, 5]


def test_known_maps_locations_to_id_and_hash(store):
    arts = [make_article(i) for i in range(3)]
    store.write_batch(run_id="r", articles=arts, assignments=[new(a) for a in arts])
    path_article = replace(make_article(9), url=None, path="/data/in/9.txt")
    path_article = replace(path_article, id="p9")
    store.write_batch(run_id="r", articles=[path_article], assignments=[new(path_article)])
    known = store.known([arts[0].url, arts[2].url, "/data/in/9.txt", "https://nowhere.example/x"])
    assert known == {
        arts[0].url: (arts[0].id, arts[0].content_hash),
        arts[2].url: (arts[2].id, arts[2].content_hash),
        "/data/in/9.txt": ("p9", path_article.content_hash),
    }


def test_changed_content_and_changed_verdict_get_new_seqs(store):
    a, b = make_article(1), make_article(2)
    store.write_batch(run_id="r1", articles=[a, b], assignments=[new(a), new(b)])
    changed = replace(a, text=a.text + " Updated.", content_hash="changed")
    hw = store.write_batch(
        run_id="r2", articles=[changed], assignments=[new(changed)], updates=[dup(b, changed, similarity=0.8)]
    )
    assert hw == 4
    since = list(store.iter_since(2))
    assert [s.id for s in since] == [a.id, b.id] and [s.seq for s in since] == [3, 4]
    assert since[0].article.text.endswith("Updated.") and since[0].article.content_hash == "changed"
    assert since[1].duplicate_of == a.id and since[1].cluster_id == a.id
    # The same update again changes nothing, so hands out no seq.
    assert store.write_batch(run_id="r3", articles=[], assignments=[], updates=[dup(b, changed, similarity=0.8)]) == 4
    assert store.stats()["articles"] == 2


def test_update_within_the_batch_applies_to_the_new_row(store):
    a, b = make_article(1), make_article(2)
    # b arrives with a verdict, and the same batch's dedup re-points it (e.g. a new representative).
    store.write_batch(run_id="r", articles=[a, b], assignments=[new(a), new(b)], updates=[dup(b, a, similarity=0.77)])
    got = store.get_articles([b.id])[b.id]
    assert got.duplicate_of == a.id and got.similarity == pytest.approx(0.77) and got.seq == 2


def test_inconsistent_batches_are_refused_whole(store):
    a, b = make_article(1), make_article(2)
    with pytest.raises(StoreError, match="without an assignment"):
        store.write_batch(run_id="r", articles=[a, b], assignments=[new(a)])
    with pytest.raises(StoreError, match="not stored"):
        store.write_batch(run_id="r", articles=[a], assignments=[new(a)], updates=[dup(b, a)])
    assert store.stats()["articles"] == 0 and store.high_water() == 0  # the transaction rolled back


def test_iter_since_pages_through_in_seq_order(store):
    arts = [make_article(i) for i in range(2300)]
    for k in range(0, len(arts), 500):
        chunk = arts[k : k + 500]
        store.write_batch(run_id="r", articles=chunk, assignments=[new(a) for a in chunk])
    seqs = [s.seq for s in store.iter_since(150)]
    assert seqs == list(range(151, 2301))
    assert [s.id for s in store.iter_since(2299)] == [arts[-1].id]
    assert list(store.iter_since(2300)) == []


def test_clusters_and_members(store):
    arts = [make_article(i, source=f"s{i % 3}") for i in range(6)]
    verdicts = [
        new(arts[0]),
        dup(arts[1], arts[0]),
        dup(arts[2], arts[0], kind="exact", similarity=1.0),
        new(arts[3]),
        dup(arts[4], arts[3]),
        new(arts[5]),
    ]
    store.write_batch(run_id="r", articles=arts, assignments=verdicts)
    big = store.clusters(min_size=2)
    assert big == [
        ClusterSummary(
            cluster_id=arts[0].id, size=3, representative=arts[0].id, title="Title 0", sources=("s0", "s1", "s2")
        ),
        ClusterSummary(cluster_id=arts[3].id, size=2, representative=arts[3].id, title="Title 3", sources=("s0", "s1")),
    ]
    assert len(store.clusters()) == 3
    members = store.cluster_members(arts[0].id)
    assert [m.id for m in members] == [arts[0].id, arts[1].id, arts[2].id]
    assert store.cluster_members("nope") == []


def test_profiles_round_trip_and_update(store):
    assert store.load_profiles(["a.example"]) == {}
    store.save_profiles({"a.example": json.dumps({"drop": ["nav"]}), "b.example": "{}"})
    store.save_profiles({"a.example": json.dumps({"drop": ["nav", "footer"]})})
    assert store.load_profiles(["a.example", "b.example", "c.example"]) == {
        "a.example": '{"drop": ["nav", "footer"]}',
        "b.example": "{}",
    }


def test_fetch_state_keeps_latest_per_url_and_logs_all(store):
    url = "https://wire.example/a"
    first = FetchRecord(
        url=url,
        source="wire",
        status=503,
        reason="transient",
        attempts=3,
        failures=1,
        next_attempt_at=BASE_TIME + timedelta(hours=1),
        fetched_at=BASE_TIME,
    )
    second = FetchRecord(
        url=url,
        source="wire",
        status=200,
        etag='"abc"',
        last_modified="Sun, 01 Nov 2026 12:00:00 GMT",
        stored=True,
        bytes=1234,
        duration_ms=12.5,
        fetched_at=BASE_TIME + timedelta(hours=2),
    )
    store.record([first])
    assert store.get([url, "https://wire.example/never"]) == {url: first}
    store.record([second, replace(second, url="https://wire.example/b")])
    assert store.get([url])[url] == second
    from sqlalchemy import func, select

    from wiredesk.storage.schema import fetch_log

    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(fetch_log)).scalar_one() == 3


def test_runs_are_recorded_and_resumable(store):
    store.begin_run("run-1", flow="ingest", params={"sources": ["wire"]})
    store.begin_run("run-1", flow="ingest", params={"sources": ["wire"]})  # a resumed run
    store.finish_run("run-1", status="completed", summary={"stored": 3})
    from sqlalchemy import select

    from wiredesk.storage.schema import runs

    with store.engine.connect() as conn:
        row = conn.execute(select(runs)).mappings().one()
    assert row["status"] == "completed" and json.loads(row["summary"]) == {"stored": 3}
    assert json.loads(row["params"]) == {"sources": ["wire"]} and row["finished_at"] >= row["started_at"]
    assert store.stats()["runs"] == 1


def test_stats_by_source_day_and_size(store):
    a = [make_article(i, source="alpha", published="2026-11-02T08:00:00Z") for i in range(3)]
    b = [replace(make_article(i, source="beta"), published=None) for i in range(10, 12)]
    store.write_batch(
        run_id="r",
        articles=a + b,
        assignments=[new(a[0]), dup(a[1], a[0]), new(a[2]), dup(b[0], a[0]), new(b[1])],
        failures=[Failure(location=f"x{i}", source="beta", reason="empty") for i in range(2)],
    )
    stats = store.stats()
    assert stats["by_source"] == {
        "alpha": {"articles": 3, "duplicates": 1, "duplicate_rate": 0.3333},
        "beta": {"articles": 2, "duplicates": 1, "duplicate_rate": 0.5},
    }
    assert stats["by_day"] == {"2026-11-02": 3, "unknown": 2}
    assert stats["failures_by_reason"] == {"empty": 2}
    # three stories, one of them with two copies: one cluster of three, as `wiredesk clusters` lists them
    assert (stats["stories"], stats["clusters"], stats["articles_in_clusters"]) == (3, 1, 3)
    listed = store.clusters(min_size=2)
    assert (len(listed), sum(c.size for c in listed)) == (stats["clusters"], stats["articles_in_clusters"])
    assert stats["schema_version"] >= 2
    assert stats["size_bytes"] > 0 and stats["bytes_per_article"] == pytest.approx(stats["size_bytes"] / 5, abs=0.1)


def test_writer_lock_is_exclusive_and_times_out(store, store_target):
    with open_store(store_target) as other:
        with store.writer_lock(timeout_s=5):
            with pytest.raises(StoreError, match="locked by another writer"):
                with other.writer_lock(timeout_s=0.2):
                    pass
        with other.writer_lock(timeout_s=1):  # released: now it is free
            pass


def test_reopen_keeps_everything(store_target):
    arts = [make_article(i) for i in range(4)]
    with open_store(store_target) as st:
        st.write_batch(run_id="r", articles=arts, assignments=[new(a) for a in arts])
    with open_store(store_target, create=False) as st:
        assert st.high_water() == 4 and set(st.get_articles([a.id for a in arts])) == {a.id for a in arts}


def test_plain_and_compressed_text_coexist(store_target):
    from wiredesk.storage import StoreSettings

    a, b = make_article(1), make_article(2, text="Plain text with ünïcode — and a dash.")
    with open_store(store_target, settings=StoreSettings(compress_text=True)) as st:
        st.write_batch(run_id="r", articles=[a], assignments=[new(a)])
    with open_store(store_target, settings=StoreSettings(compress_text=False)) as st:
        st.write_batch(run_id="r", articles=[b], assignments=[new(b)])
        got = st.get_articles([a.id, b.id])
    assert got[a.id].article.text == a.text and got[b.id].article.text == b.text


def test_nul_characters_are_dropped_the_same_on_both_backends(store):
    art = make_article(1, text="Before\x00after, a stray NUL from a broken page.")
    art = replace(art, title="Ti\x00tle")
    store.write_batch(run_id="r", articles=[art], assignments=[new(art)])
    got = store.get_articles([art.id])[art.id].article
    assert got.text == "Beforeafter, a stray NUL from a broken page." and got.title == "Title"
    store.write_batch(
        run_id="r",
        articles=[],
        assignments=[],
        failures=[Failure(location="x", source="s", reason="binary", detail="bytes \x00\x01")],
    )
    store.record([FetchRecord(url="https://s.example/x", detail="reset\x00")])
    assert store.get(["https://s.example/x"])["https://s.example/x"].detail == "reset"
    assert store.stats()["failures_by_reason"] == {"binary": 1}


def test_odd_metadata_lengths_never_fail_a_batch(store):
    art = replace(make_article(1), language="en-GB-oxendict-x-some-private-tag;q=0.9", title="T" * 5000)
    store.write_batch(run_id="r", articles=[art], assignments=[new(art)])
    assert store.get_articles([art.id])[art.id].article == art


def test_dedup_location_is_beside_the_file_or_the_database_itself(store, store_target):
    if store.backend == "sqlite":
        assert store.dedup_location == store_target[: -len(".db")] + ".dedup"
        return
    import psycopg

    assert store.dedup_location.startswith("postgresql://")
    with psycopg.connect(store.dedup_location) as conn:  # the same database and schema
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] >= 3


def test_fetch_records_commit_with_their_batch_or_not_at_all(store):
    a, b = make_article(1), make_article(2)
    fetched = [
        FetchRecord(url=a.url, source="wire", status=200, stored=True),
        FetchRecord(url=b.url, source="wire", status=200, stored=True),
    ]
    broken = replace(fetched[1], attempts=None)  # NOT NULL: fails after the articles are written
    with pytest.raises(StoreError):
        store.write_batch(run_id="r", articles=[a, b], assignments=[new(a), new(b)], fetch_records=[fetched[0], broken])
    assert store.get([a.url, b.url]) == {} and store.get_articles([a.id, b.id]) == {} and store.high_water() == 0
    store.write_batch(run_id="r", articles=[a, b], assignments=[new(a), new(b)], fetch_records=fetched)
    assert {u: r.stored for u, r in store.get([a.url, b.url]).items()} == {a.url: True, b.url: True}
