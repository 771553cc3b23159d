"""The store's tables as the code reads and writes them (SQLAlchemy Core).

This is the schema at ``SCHEMA_VERSION``; the migrations in ``migrations.py`` build it step by
step (each keeps its own frozen table definitions, so editing this file never rewrites history).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    types,
)

SCHEMA_VERSION = 4

ID = String(64)
# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
AUTO_ID = BigInteger().with_variant(Integer, "sqlite")


class UTCDateTime(types.TypeDecorator):
    """Timezone-aware UTC datetimes on both backends (SQLite keeps no zone: we store UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", Text, nullable=False),
    Column("applied_at", UTCDateTime, nullable=False),
)

# One row, name "seq": the article sequence high-water mark. A writer locks this row for its
# whole transaction, so sequence numbers become visible in commit order (an incremental
# export can never skip a row committed late with a lower seq).
counters = Table(
    "counters",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

articles = Table(
    "articles",
    metadata,
    Column("id", ID, primary_key=True),
    Column("location", Text, nullable=False),  # url, else path: what re-runs look up
    Column("source", Text, nullable=False),
    Column("url", Text),
    Column("path", Text),
    Column("title", Text),
    Column("author", Text),
    Column("published", Text),  # ISO 8601 as extracted (date or datetime)
    Column("language", Text),  # unbounded since version 3
    Column("canonical_url", Text),
    Column("original_url", Text),
    Column("names_original", Boolean, nullable=False),
    # Exactly one of text / text_z is set: plain UTF-8 text, or zlib-compressed UTF-8.
    Column("text", Text),
    Column("text_z", LargeBinary),
    Column("content_hash", String(128), nullable=False),
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("cluster_id", ID, nullable=False),
    Column("duplicate_of", ID),
    Column("similarity", Float),
    Column("kind", Text, nullable=False),  # unbounded since version 3
    Column("seq", BigInteger, nullable=False),
    Column("run_id", Text),
    Column("stored_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_articles_location", "location"),
    Index("ix_articles_content_hash", "content_hash"),
    Index("ix_articles_cluster_id", "cluster_id"),
    Index("ux_articles_seq", "seq", unique=True),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", Text, primary_key=True),
    Column("flow", Text, nullable=False),
    Column("params", Text, nullable=False),  # JSON
    Column("status", Text, nullable=False),
    Column("summary", Text),  # JSON
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
)

failures = Table(
    "failures",
    metadata,
    Column("id", AUTO_ID, primary_key=True, autoincrement=True),
    Column("run_id", Text, nullable=False),
    Column("location", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("stage", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    # A batch written twice (a retry after a crash) appends its failures once.
    Index("ux_failures_once", "run_id", "location", "stage", "reason", unique=True),
    Index("ix_failures_reason", "reason"),
)

profiles = Table(
    "profiles",
    metadata,
    Column("host", Text, primary_key=True),
    Column("data", Text, nullable=False),  # JSON owned by the extractors
    Column("updated_at", UTCDateTime, nullable=False),
)


def _fetch_columns() -> list[Column]:
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


fetch_state = Table(
    "fetch_state",
    metadata,
    Column("url", Text, primary_key=True),
    *_fetch_columns(),
)

fetch_log = Table(
    "fetch_log",
    metadata,
    Column("id", AUTO_ID, primary_key=True, autoincrement=True),
    Column("url", Text, nullable=False),
    *_fetch_columns(),
    Index("ix_fetch_log_url", "url"),
)

# Version 2: per-output export watermarks, for incremental exports.
exports = Table(
    "exports",
    metadata,
    Column("out", Text, primary_key=True),  # absolute output path
    Column("seq", BigInteger, nullable=False),  # high-water seq the last export covered
    Column("fmt", String(16), nullable=False),
    Column("manifest", Text, nullable=False),  # the manifest JSON last written
    Column("exported_at", UTCDateTime, nullable=False),
)

# Version 4: what the fetcher keeps about a site between runs, until it expires: robots.txt
# for its lifetime (RFC 9309: up to 24 hours), a home page's feed links (so the home page
# can be asked conditionally, and a 304 still leads to the feeds).
site_notes = Table(
    "site_notes",
    metadata,
    Column("key", Text, primary_key=True),  # "robots <origin>", "home <url>"
    Column("body", Text, nullable=False),  # owned by the fetcher (robots.txt text, JSON)
    Column("expires_at", UTCDateTime, nullable=False),
    Column("fetched_at", UTCDateTime, nullable=False),
)
