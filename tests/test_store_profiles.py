"""Host furniture profiles: two batches of one host merging at the same moment lose nothing."""

from __future__ import annotations

import threading
import time

from tests.test_store_support import store, store_target  # noqa: F401
from wiredesk.extractors import HostProfile, merge_learned
from wiredesk.storage import open_store

HOST = "gazette.example:23081"


def _pages(tag: str, n: int) -> list[list[str]]:
    """n pages: the host's menu and footer, and lines of their own."""
    return [
        ["Home World Business Sports", "Copyright 2026 Example Gazette", f"Story {tag}{i} begins here with a line"]
        for i in range(n)
    ]


def test_two_concurrent_writers_both_count(store_target):  # noqa: F811
    """Each writer reads the profile, learns its pages and writes, in one transaction; the
    merge sleeps between read and write, so without serialisation both would read the
    same old profile and the second write would drop the first one's pages."""
    with open_store(store_target) as st:
        st.update_profiles([HOST], lambda h, stored: merge_learned(stored, h, _pages("seed", 2)))
    started = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(tag: str) -> None:
        try:
            with open_store(store_target) as st:  # each its own connection, like two processes
                started.wait()

                def slow_merge(host: str, stored: str | None) -> str:
                    time.sleep(0.3)
                    return merge_learned(stored, host, _pages(tag, 3))

                st.update_profiles([HOST], slow_merge)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(tag,)) for tag in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    with open_store(store_target) as st:
        profile = HostProfile.from_json(st.load_profiles([HOST])[HOST])
    assert profile.pages == 2 + 3 + 3
    assert profile.count("copyright 2026 example gazette") == 8


def test_merge_sees_no_profile_first_then_its_own(store):  # noqa: F811
    seen: list[str | None] = []

    def merge(host: str, stored: str | None) -> str:
        seen.append(stored)
        return merge_learned(stored, host, _pages(str(len(seen)), 1))

    store.update_profiles([HOST], merge)
    store.update_profiles([HOST], merge)
    assert seen[0] is None and HostProfile.from_json(seen[1]).pages == 1
    assert HostProfile.from_json(store.load_profiles([HOST])[HOST]).pages == 2
