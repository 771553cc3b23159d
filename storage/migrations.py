"""Schema migrations: applied in order on open, each in its own transaction.

Each migration keeps frozen table definitions (never import the current ones from
``schema.py``), so the history stays what it was when a store was created. Two processes
opening one store at once are safe: the migration transaction takes the write lock
(SQLite ``BEGIN IMMEDIATE`` / a PostgreSQL advisory lock) and re-reads the version first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    inspect,
    select,
    text,
)

from wiredesk.core.errors import StoreError, StoreVersionError
from wiredesk.core.records import utcnow
from wiredesk.storage.engine import advisory_key, read_tx, write_tx
from wiredesk.storage.schema import SCHEMA_VERSION, UTCDateTime, schema_version


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _v1(conn: Connection) -> None:
    md = MetaData()
    auto_id = BigInteger().with_variant(Integer, "sqlite")
    Table(
        "schema_version",
        md,
        Column("version", Integer, primary_key=True, autoincrement=False),
        Column("description", Text, nullable=False),
        Column("applied_at", UTCDateTime, nullable=False),
    )
    Table(
        "counters",
        md,
        Column("name", String(32), primary_key=True),
        Column("value", BigInteger, nullable=False),
    )
    Table(
        "articles",
        md,
        Column("id", String(64), primary_key=True),
        Column("location", Text, nullable=False),
        Column("source", Text, nullable=False),
        Column("url", Text),
        Column("path", Text),
        Column("title", Text),
        Column("author", Text),
        Column("published", Text),
        Column("language", String(16)),
        Column("canonical_url", Text),
        Column("original_url", Text),
        Column("names_original", Boolean, nullable=False),
        Column("text", Text),
        Column("text_z", LargeBinary),
        Column("content_hash", String(128), nullable=False),
        Column("fetched_at", UTCDateTime, nullable=False),
        Column("cluster_id", String(64), nullable=False),
        Column("duplicate_of", String(64)),
        Column("similarity", Float),
        Column("kind", String(8), nullable=False),
        Column("seq", BigInteger, nullable=False),
        Column("run_id", Text),
        Column("stored_at", UTCDateTime, nullable=False),
        Column("updated_at", UTCDateTime, nullable=False),
        Index("ix_articles_location", "location"),
        Index("ix_articles_content_hash", "content_hash"),
        Index("ix_articles_cluster_id", "cluster_id"),
        Index("ux_articles_seq", "seq", unique=True),
    )
    Table(
        "runs",
        md,
        Column("run_id", Text, primary_key=True),
        Column("flow", Text, nullable=False),
        Column("params", Text, nullable=False),
        Column("status", Text, nullable=False),
        Column("summary", Text),
        Column("started_at", UTCDateTime, nullable=False),
        Column("finished_at", UTCDateTime),
    )
    Table(
        "failures",
        md,
        Column("id", auto_id, primary_key=True, autoincrement=True),
        Column("run_id", Text, nullable=False),
        Column("location", Text, nullable=False),
        Column("source", Text, nullable=False),
        Column("reason", Text, nullable=False),
        Column("detail", Text, nullable=False),
        Column("stage", Text, nullable=False),
        Column("at", UTCDateTime, nullable=False),
        Index("ux_failures_once", "run_id", "location", "stage", "reason", unique=True),
        Index("ix_failures_reason", "reason"),
    )
    Table(
        "profiles",
        md,
        Column("host", Text, primary_key=True),
        Column("data", Text, nullable=False),
        Column("updated_at", UTCDateTime, nullable=False),
    )

    def fetch_columns() -> list[Column]:
        return [
            Column("source", Text, nullable=False),
            Column("status", Integer),
            Column("reason", Text),
            Column("detail", Text, nullable=False),
            Column("etag", Text),
            Column("last_modified", Text),
            Column("attempts", Integer, nullable=False),
            Column("failures", Integer, nullable=False),
            Column("next_attempt_at", UTCDateTime),
            Column("gave_up", Boolean, nullable=False),
            Column("stored", Boolean, nullable=False),
            Column("bytes", BigInteger, nullable=False),
            Column("duration_ms", Float, nullable=False),
            Column("fetched_at", UTCDateTime, nullable=False),
        ]

    Table("fetch_state", md, Column("url", Text, primary_key=True), *fetch_columns())
    Table(
        "fetch_log",
        md,
        Column("id", auto_id, primary_key=True, autoincrement=True),
        Column("url", Text, nullable=False),
        *fetch_columns(),
        Index("ix_fetch_log_url", "url"),
    )
    md.create_all(conn)
    conn.execute(insert(md.tables["counters"]).values(name="seq", value=0))


def _v2(conn: Connection) -> None:
    md = MetaData()
    Table(
        "exports",
        md,
        Column("out", Text, primary_key=True),
        Column("seq", BigInteger, nullable=False),
        Column("fmt", String(16), nullable=False),
        Column("manifest", Text, nullable=False),
        Column("exported_at", UTCDateTime, nullable=False),
    )
    md.create_all(conn)


def _v3(conn: Connection) -> None:
    # PostgreSQL enforces varchar lengths (SQLite does not): an extractor's odd language tag
    # must never fail a whole batch. SQLite needs nothing: both are TEXT affinity already.
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE articles ALTER COLUMN language TYPE TEXT, ALTER COLUMN kind TYPE TEXT"))


def _v4(conn: Connection) -> None:
    md = MetaData()
    Table(
        "site_notes",
        md,
        Column("key", Text, primary_key=True),
        Column("body", Text, nullable=False),
        Column("expires_at", UTCDateTime, nullable=False),
        Column("fetched_at", UTCDateTime, nullable=False),
    )
    md.create_all(conn)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "articles, runs, failures, profiles, fetch state", _v1),
    Migration(2, "export watermarks", _v2),
    Migration(3, "articles.language and articles.kind unbounded", _v3),
    Migration(4, "site notes: robots.txt cache, home-page feed links", _v4),
)
assert [m.version for m in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))


def current_version(conn: Connection) -> int:
    """The store's schema version; 0 for an empty database."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    return int(conn.execute(select(func.coalesce(func.max(schema_version.c.version), 0))).scalar_one())


def migrate(engine: Engine, *, where: str, target: int = SCHEMA_VERSION) -> int:
    """Bring the store up to ``target``; return the version it had before."""
    with read_tx(engine) as conn:
        before = current_version(conn)
    _refuse_newer(before, where)
    version = before
    while version < target:
        with write_tx(engine) as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": advisory_key(conn, "migrate")})
            version = current_version(conn)  # another process may have migrated meanwhile
            _refuse_newer(version, where)
            if version >= target:
                break
            step = MIGRATIONS[version]
            try:
                step.apply(conn)
            except Exception as exc:
                raise StoreError(f"migrating store {where} to version {step.version} failed: {exc}") from exc
            conn.execute(
                insert(schema_version).values(version=step.version, description=step.description, applied_at=utcnow())
            )
            version = step.version
    return before


def _refuse_newer(version: int, where: str) -> None:
    if version > SCHEMA_VERSION:
        raise StoreVersionError(
            f"store {where} has schema version {version}, newer than this wiredesk "
            f"(which knows up to {SCHEMA_VERSION}): upgrade wiredesk to use it"
        )
