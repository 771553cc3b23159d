"""Store.due: failed URLs whose back-off is over come back to discovery (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from tests.test_store_support import store, store_target  # noqa: F401
from wiredesk.core.records import FetchRecord, utcnow


def test_due_lists_failed_urls_whose_backoff_is_over(store) -> None:  # noqa: F811
    now = utcnow()
    store.record(
        [
            FetchRecord(
                url="https://a.example/ready",
                source="a",
                reason="http-503",
                failures=1,
                next_attempt_at=now - timedelta(minutes=1),
            ),
            FetchRecord(
                url="https://a.example/later",
                source="a",
                reason="http-503",
                failures=2,
                next_attempt_at=now + timedelta(hours=1),
            ),
            FetchRecord(url="https://a.example/given-up", source="a", reason="http-404", failures=5, gave_up=True),
            FetchRecord(url="https://a.example/fine", source="a", status=200, stored=True),
            FetchRecord(url="https://b.example/other-source", source="b", reason="timeout", failures=1),
            FetchRecord(url="https://a.example/no-date", source="a", reason="timeout", failures=1),
        ]
    )
    due = {r.url for r in store.due("a", now, 100)}
    assert due == {"https://a.example/ready", "https://a.example/no-date"}
    assert len(store.due("a", now, 1)) == 1
