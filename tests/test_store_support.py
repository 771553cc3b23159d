"""Shared pieces of the store tests (no tests here): a fresh store per test on SQLite and on
the real PostgreSQL (a uniquely named schema, dropped afterwards), and article factories."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.services import POSTGRES_URL, require_postgres
from wiredesk.core.records import Article, Assignment, article_id_for

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.services)]
BASE_TIME = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def pg_schema_url(schema: str) -> str:
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}options={quote(f'-csearch_path={schema}')}"


class PgSchema:
    """CREATE SCHEMA on enter, DROP ... CASCADE on exit: parallel runs never collide."""

    def __init__(self) -> None:
        import psycopg

        self.name = f"wd_store_{os.getpid()}_{secrets.token_hex(4)}"
        self._conn = psycopg.connect(POSTGRES_URL, autocommit=True)
        self._conn.execute(f'CREATE SCHEMA "{self.name}"')
        self.url = pg_schema_url(self.name)

    def drop(self) -> None:
        try:
            self._conn.execute(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')
        finally:
            self._conn.close()


@pytest.fixture(params=BACKENDS)
def store_target(request, tmp_path: Path) -> Iterator[str]:
    """A target for a fresh, empty store: a SQLite file path or a PostgreSQL URL."""
    if request.param == "sqlite":
        yield str(tmp_path / "db" / "wiredesk.db")
        return
    require_postgres()
    schema = PgSchema()
    try:
        yield schema.url
    finally:
        schema.drop()


@pytest.fixture()
def store(store_target: str):
    from wiredesk.storage import open_store

    with open_store(store_target) as st:
        yield st


def make_article(
    n: int, *, source: str = "wire", text: str | None = None, published: str | None = None, url: str | None = None
) -> Article:
    url = url or f"https://{source}.example/story/{n}"
    text = text if text is not None else f"Story {n}. " + " ".join(f"word{n}x{k}" for k in range(60))
    return Article(
        id=article_id_for(url),
        source=source,
        text=text,
        content_hash=hashlib.sha256(text.encode()).hexdigest()[:32],
        fetched_at=BASE_TIME + timedelta(minutes=n),
        url=url,
        title=f"Title {n}",
        author="A. Writer" if n % 2 else None,
        published=published if published is not None else (BASE_TIME + timedelta(days=n % 3)).date().isoformat(),
        language="en",
    )


def new(article: Article) -> Assignment:
    return Assignment(article_id=article.id, cluster_id=article.id, kind="new")


def dup(article: Article, of: Article, *, similarity: float = 0.91, kind: str = "near") -> Assignment:
    return Assignment(article_id=article.id, cluster_id=of.id, kind=kind, duplicate_of=of.id, similarity=similarity)
