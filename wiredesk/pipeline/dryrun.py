"""Dry runs: the whole pipeline against a scratch copy of the store, which is then deleted.

A dry run must leave nothing behind (no store, no lock file, no index folder) yet answer
what a real run would do: which pages are new, which are copies of what, which were seen
before. So it runs the real stages against a scratch store in a private temporary folder:
an existing SQLite store is copied there first (SQLite's online backup, a consistent snapshot
even while another run writes), and the dedup index is rebuilt from that copy by the
pipeline's usual catch-up. A PostgreSQL store is not copied: the dry run then starts from an
empty store and says so.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from wiredesk.config import StoreConfig, WiredeskConfig
from wiredesk.storage import Store
from wiredesk.storage.targets import resolve

EMPTY_SCRATCH_NOTE = (
    "the store is not a SQLite file, so the dry run started from an empty store: "
    "copies of articles stored before are not shown"
)


@contextmanager
def scratch_config(config: WiredeskConfig) -> Iterator[tuple[WiredeskConfig, str | None]]:
    """``config`` with its store and dedup index moved into a temporary folder (removed on
    exit), and a note for the user when the scratch store could not start as a copy."""
    folder = Path(tempfile.mkdtemp(prefix="wiredesk-dry-run-"))
    try:
        scratch = folder / "wiredesk.db"
        source = resolve(config.store.url).sqlite_path
        note = None
        if source is None:
            note = EMPTY_SCRATCH_NOTE
        elif source.is_file():
            _copy_sqlite(source, scratch)
        store = StoreConfig(url=str(scratch), dedup_index=None)  # the index beside the scratch store
        yield config.model_copy(update={"store": store}), note
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _copy_sqlite(source: Path, target: Path) -> None:
    # query_only: this connection cannot write the user's store. Not mode=ro: a read-only
    # connection to a WAL database leaves its -wal and -shm files behind when it closes.
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.execute("PRAGMA query_only = ON")
        src.backup(dst)


def would_store(store: Store, run_id: str) -> list[dict[str, Any]]:
    """What the dry run wrote to its scratch store: what a real run would write. ``action`` is
    ``store`` for a new article, ``update`` for a stored one the run would change (new text, or
    a new verdict: a stored page that turns out to be a copy of a page of this run)."""
    written = store.run_articles(run_id)
    reps = store.get_articles({s.duplicate_of for s, _ in written if s.duplicate_of})
    rows = []
    for s, inserted in written:
        a = s.article
        rep = reps.get(s.duplicate_of) if s.duplicate_of else None
        rows.append(
            {
                "action": "store" if inserted else "update",
                "id": a.id,
                "title": a.title,
                "url": a.url,
                "path": a.path,
                "source": a.source,
                "cluster_id": s.cluster_id,
                "duplicate_of": s.duplicate_of,
                "duplicate_of_location": (rep.article.url or rep.article.path) if rep else None,
                "similarity": s.similarity,
            }
        )
    return rows
