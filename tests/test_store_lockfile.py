"""Lock files are removed when released, and removing them never lets two holders in."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from wiredesk.core.errors import StoreError
from wiredesk.storage import open_store
from wiredesk.storage.locks import file_lock


def test_the_writer_lock_file_is_gone_after_use(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "wiredesk.db")) as store:
        with store.writer_lock():
            assert (tmp_path / "wiredesk.db.lock").exists()
        assert not (tmp_path / "wiredesk.db.lock").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wiredesk.db"]


def test_a_waiter_never_holds_a_removed_file(tmp_path: Path) -> None:
    """A waiter that opened the file before the holder removed it must not count as holding
    the lock: it starts over on the current file, so a third process is still kept out."""
    path = tmp_path / "x.lock"
    events: list[str] = []
    holding = threading.Event()
    release = threading.Event()

    def first() -> None:
        with file_lock(path, timeout_s=5, where="t"):
            holding.set()
            release.wait(5)
        events.append("first released")

    def second() -> None:
        holding.wait(5)
        with file_lock(path, timeout_s=5, where="t"):  # waits on the file first() removes
            events.append("second holds")
            time.sleep(0.3)
            # while second holds, nobody else may take the lock at that path
            with pytest.raises(StoreError, match="locked by another writer"):
                with file_lock(path, timeout_s=0.1, where="t"):
                    pass
            events.append("third kept out")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    time.sleep(0.2)  # second() is now blocked on the first file
    release.set()
    for t in threads:
        t.join(10)
    assert sorted(events) == ["first released", "second holds", "third kept out"]
    assert events.index("second holds") < events.index("third kept out")
    assert not path.exists()
