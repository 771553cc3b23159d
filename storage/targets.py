"""Turn a store target (a file path or a URL) into a SQLAlchemy URL, and mask it for messages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from wiredesk.core.errors import NoStoreError


@dataclass(frozen=True, slots=True)
class Target:
    url: URL  # what SQLAlchemy connects to (psycopg 3 driver for PostgreSQL)
    sqlite_path: Path | None  # the database file, for SQLite

    @property
    def is_sqlite(self) -> bool:
        return self.sqlite_path is not None

    @property
    def masked(self) -> str:
        """As a user would write it, password hidden: sqlite:////abs/path, postgresql://u:***@h/db."""
        if self.sqlite_path is not None:
            return f"sqlite:///{self.sqlite_path}"
        return mask(self.url.set(drivername="postgresql"))

    @property
    def plain_url(self) -> str:
        """The URL with its password: only for handing to code that must connect."""
        return self.url.render_as_string(hide_password=False)


def mask(url: URL | str) -> str:
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return str(url)
    return parsed.render_as_string(hide_password=True)


def resolve(target: str) -> Target:
    target = (target or "").strip()
    if not target:
        raise NoStoreError("no store given (expected a file path or a postgresql:// URL)")
    if "://" not in target:
        return _sqlite(Path(target))
    try:
        url = make_url(target)
    except ArgumentError as exc:
        raise NoStoreError(f"cannot parse store URL {mask(target)}: {exc}") from None
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres"):
        # One driver everywhere: psycopg 3 (psycopg2 is not installed).
        return Target(url=url.set(drivername="postgresql+psycopg"), sqlite_path=None)
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise NoStoreError("an in-memory SQLite store cannot be shared between stages; give a file")
        return _sqlite(Path(url.database))
    raise NoStoreError(f"unsupported store URL {mask(url)} (use a file path, sqlite:/// or postgresql://)")


def _sqlite(path: Path) -> Target:
    path = path.expanduser().absolute()
    return Target(url=URL.create("sqlite+pysqlite", database=str(path)), sqlite_path=path)
