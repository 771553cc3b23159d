"""Records <-> rows. Text is stored plain or zlib-compressed (``StoreSettings.compress_text``);
reading accepts both, so the setting can change on a live store without a migration."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

from wiredesk.core.errors import StoreError
from wiredesk.core.records import Article, Assignment, FetchRecord, StoredArticle

# Columns read to rebuild a StoredArticle (order matters nowhere; names do).
ARTICLE_COLUMNS: tuple[str, ...] = (
    "id",
    "location",
    "source",
    "url",
    "path",
    "title",
    "author",
    "published",
    "language",
    "canonical_url",
    "original_url",
    "names_original",
    "text",
    "text_z",
    "content_hash",
    "fetched_at",
    "cluster_id",
    "duplicate_of",
    "similarity",
    "seq",
)
FETCH_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(FetchRecord))


def encode_text(text: str, *, compress: bool, level: int) -> tuple[str | None, bytes | None]:
    if compress:
        return None, zlib.compress(text.encode("utf-8"), level)
    return text, None


def decode_text(plain: str | None, packed: bytes | None, *, article_id: str = "?") -> str:
    if packed is not None:
        try:
            return zlib.decompress(packed).decode("utf-8")
        except (zlib.error, UnicodeDecodeError) as exc:
            raise StoreError(f"article {article_id}: stored text is corrupt ({exc})") from None
    return plain or ""


def nul_free(value: str | None) -> str | None:
    # PostgreSQL text cannot hold NUL; SQLite can. Drop it on both, so both store the same.
    return value.replace("\x00", "") if value and "\x00" in value else value


def article_row(article: Article, assignment: Assignment, *, compress: bool, level: int) -> dict[str, Any]:
    plain, packed = encode_text(nul_free(article.text) or "", compress=compress, level=level)
    return {
        "id": article.id,
        "location": article.location,
        "source": article.source,
        "url": article.url,
        "path": article.path,
        "title": nul_free(article.title),
        "author": nul_free(article.author),
        "published": article.published,
        "language": article.language,
        "canonical_url": article.canonical_url,
        "original_url": article.original_url,
        "names_original": bool(article.names_original),
        "text": plain,
        "text_z": packed,
        "content_hash": article.content_hash,
        "fetched_at": article.fetched_at,
        "cluster_id": assignment.cluster_id,
        "duplicate_of": assignment.duplicate_of,
        "similarity": assignment.similarity,
        "kind": assignment.kind,
    }


def stored_article(row: Mapping[str, Any]) -> StoredArticle:
    article = Article(
        id=row["id"],
        source=row["source"],
        text=decode_text(row["text"], row["text_z"], article_id=row["id"]),
        content_hash=row["content_hash"],
        fetched_at=row["fetched_at"],
        url=row["url"],
        path=row["path"],
        title=row["title"],
        author=row["author"],
        published=row["published"],
        language=row["language"],
        canonical_url=row["canonical_url"],
        original_url=row["original_url"],
        names_original=bool(row["names_original"]),
        # A file stored under its key (not its path, as before keys) gets it back.
        key=row["location"] if row["path"] and row["location"] not in (row["path"], row["url"]) else None,
    )
    return StoredArticle(
        article=article,
        cluster_id=row["cluster_id"],
        duplicate_of=row["duplicate_of"],
        similarity=row["similarity"],
        seq=int(row["seq"]),
    )


def fetch_row(record: FetchRecord) -> dict[str, Any]:
    row = {name: getattr(record, name) for name in FETCH_FIELDS}
    row["detail"] = nul_free(row["detail"]) or ""
    return row


def fetch_record(row: Mapping[str, Any]) -> FetchRecord:
    values = {name: row[name] for name in FETCH_FIELDS}
    values["gave_up"] = bool(values["gave_up"])
    values["stored"] = bool(values["stored"])
    return FetchRecord(**values)


def day_of(published: str | None) -> str:
    """The publication day (YYYY-MM-DD prefix of an ISO 8601 value), else "unknown"."""
    day = (published or "")[:10]
    if len(day) == 10 and day[4] == "-" and day[7] == "-" and day[:4].isdigit():
        return day
    return "unknown"


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
