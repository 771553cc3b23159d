"""Opening stores: migrations (no data loss on upgrade, newer stores refused, concurrent
first opens), and one-line errors for stores that cannot be opened."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import insert, inspect, select

from tests.test_store_support import make_article, new, store_target  # noqa: F401
from wiredesk.core.errors import StoreError, StoreVersionError
from wiredesk.core.records import utcnow
from wiredesk.storage import open_store
from wiredesk.storage.engine import make_engine, write_tx
from wiredesk.storage.migrations import current_version, migrate
from wiredesk.storage.schema import SCHEMA_VERSION, metadata, schema_version
from wiredesk.storage.settings import StoreSettings
from wiredesk.storage.store import Store
from wiredesk.storage.targets import resolve

REPO = Path(__file__).resolve().parent.parent


def _engine(target: str):
    where = resolve(target)
    if where.sqlite_path is not None:
        where.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return where, make_engine(where, StoreSettings())


def test_upgrade_from_version_1_keeps_every_article(store_target):
    where, engine = _engine(store_target)
    migrate(engine, where=where.masked, target=1)
    old = Store(engine, where, StoreSettings())  # code that only needs version-1 tables
    arts = [make_article(i) for i in range(5)]
    old.write_batch(run_id="before-upgrade", articles=arts, assignments=[new(a) for a in arts])
    old.close()
    with open_store(store_target) as st:
        with st.engine.connect() as conn:
            assert current_version(conn) == SCHEMA_VERSION
            versions = conn.execute(select(schema_version.c.version).order_by(schema_version.c.version)).scalars().all()
        assert versions == list(range(1, SCHEMA_VERSION + 1))
        got = st.get_articles([a.id for a in arts])
        assert {k: v.article for k, v in got.items()} == {a.id: a for a in arts}
        assert st.high_water() == 5
        # Version 3 unbounded the language column (PostgreSQL enforced 16 characters before).
        odd = replace(make_article(9), language="x-" + "long-private-language-tag" * 2)
        st.write_batch(run_id="after-upgrade", articles=[odd], assignments=[new(odd)])
        assert st.get_articles([odd.id])[odd.id].article.language == odd.language


def test_migrated_schema_matches_the_code(store_target):
    with open_store(store_target) as st:
        with st.engine.connect() as conn:
            insp = inspect(conn)
            for table in metadata.sorted_tables:
                columns = {c["name"]: c["nullable"] for c in insp.get_columns(table.name)}
                assert columns == {c.name: c.nullable for c in table.columns}, table.name
                indexes = {i["name"]: bool(i["unique"]) for i in insp.get_indexes(table.name)}
                assert indexes == {i.name: i.unique for i in table.indexes}, table.name


def test_store_newer_than_the_code_is_refused(store_target):
    with open_store(store_target) as st:
        with write_tx(st.engine) as conn:
            conn.execute(
                insert(schema_version).values(version=SCHEMA_VERSION + 7, description="future", applied_at=utcnow())
            )
    with pytest.raises(StoreVersionError) as err:
        open_store(store_target)
    message = str(err.value)
    assert "\n" not in message and f"schema version {SCHEMA_VERSION + 7}" in message and "upgrade wiredesk" in message


def test_concurrent_first_opens_migrate_once(store_target):
    code = "import sys; from wiredesk.storage import open_store\nwith open_store(sys.argv[1]) as st: print(st.high_water())"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, store_target],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err for _, err in results]
    with open_store(store_target) as st, st.engine.connect() as conn:
        versions = conn.execute(select(schema_version.c.version)).scalars().all()
    assert sorted(versions) == list(range(1, SCHEMA_VERSION + 1))


def test_missing_store_without_create(tmp_path):
    with pytest.raises(StoreError, match="no store at"):
        open_store(str(tmp_path / "nope.db"), create=False)
    assert not (tmp_path / "nope.db").exists()


def test_parent_directories_are_created(tmp_path):
    target = tmp_path / "a" / "b" / "wiredesk.db"
    with open_store(str(target)) as st:
        assert st.dedup_location == str(tmp_path / "a" / "b" / "wiredesk.dedup")
    assert target.exists()
    with open_store(f"sqlite:///{target}", create=False) as st:  # the same store as a URL
        assert st.high_water() == 0


def test_a_file_that_is_not_a_database(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError) as err:
        open_store(str(junk))
    assert str(junk) in str(err.value) and "\n" not in str(err.value)


def test_unreachable_postgres_is_one_line_with_password_masked():
    with pytest.raises(StoreError) as err:
        open_store("postgresql://wd:hunter2@127.0.0.1:1/test")
    message = str(err.value)
    assert "hunter2" not in message and "***" in message and "127.0.0.1:1" in message and "\n" not in message


def test_unsupported_targets():
    with pytest.raises(StoreError, match="unsupported store URL"):
        open_store("mysql://u:secret@127.0.0.1/x")
    with pytest.raises(StoreError, match="in-memory"):
        open_store("sqlite://")


def test_create_false_never_creates_a_store(store_target):
    with pytest.raises(StoreError, match="no store at|not a wiredesk store"):
        open_store(store_target, create=False)
    with open_store(store_target) as st:  # the target is still usable afterwards
        assert st.high_water() == 0
