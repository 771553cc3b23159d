"""``wiredesk stats``: the corpus at a glance, read in one snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Integer, case, func, select, text

from wiredesk.storage import schema as t
from wiredesk.storage.codec import day_of


def corpus_stats(conn: Connection, *, url: str, sqlite_path: Path | None) -> dict[str, Any]:
    """Articles by source and by publication day, duplicate rate by source, failures by
    reason (distinct locations: a page failing on every run counts once), store size.

    ``stories`` counts distinct stories (cluster ids); ``clusters`` those with copies (two or
    more members), exactly the clusters ``wiredesk clusters`` lists."""
    a = t.articles.c
    fl = t.failures.c
    dup = func.sum(func.cast(a.duplicate_of.is_not(None), Integer))
    by_source = {
        src: {"articles": int(n), "duplicates": int(d or 0), "duplicate_rate": round((d or 0) / n, 4)}
        for src, n, d in conn.execute(select(a.source, func.count(), dup).group_by(a.source).order_by(a.source))
    }
    day = func.substr(a.published, 1, 10)
    by_day: dict[str, int] = {}
    for prefix, n in conn.execute(select(day, func.count()).group_by(day)):
        key = day_of(prefix)
        by_day[key] = by_day.get(key, 0) + int(n)
    failing = func.count(func.distinct(fl.location))
    failures_by_reason = {
        reason: int(n)
        for reason, n in conn.execute(
            select(fl.reason, failing).group_by(fl.reason).order_by(failing.desc(), fl.reason)
        )
    }
    # As ``wiredesk clusters`` counts them: a cluster is a story with copies (two or more
    # members); a story stored once is a story, not a cluster.
    sizes = select(func.count().label("n")).select_from(t.articles).group_by(a.cluster_id).subquery()
    stories, clusters, clustered = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(func.cast(sizes.c.n >= 2, Integer)), 0),
            func.coalesce(func.sum(case((sizes.c.n >= 2, sizes.c.n), else_=0)), 0),
        ).select_from(sizes)
    ).one()
    runs = conn.execute(select(func.count()).select_from(t.runs)).scalar_one()
    version = conn.execute(select(func.max(t.schema_version.c.version))).scalar_one()
    high_water = conn.execute(select(t.counters.c.value).where(t.counters.c.name == "seq")).scalar_one()
    size = _size_bytes(conn, sqlite_path)
    total = sum(s["articles"] for s in by_source.values())
    dups = sum(s["duplicates"] for s in by_source.values())
    return {
        "store": url,
        "backend": conn.dialect.name,
        "schema_version": int(version),
        "articles": total,
        "representatives": total - dups,
        "duplicates": dups,
        "duplicate_rate": round(dups / total, 4) if total else 0.0,
        "stories": int(stories),
        "clusters": int(clusters),
        "articles_in_clusters": int(clustered),
        "by_source": by_source,
        "by_day": dict(sorted(by_day.items(), key=lambda kv: (kv[0] == "unknown", kv[0]))),
        "failures_by_reason": failures_by_reason,
        "runs": int(runs),
        "high_water_seq": int(high_water),
        "size_bytes": size,
        "bytes_per_article": round(size / total, 1) if total else None,
    }


def _size_bytes(conn: Connection, sqlite_path: Path | None) -> int:
    if sqlite_path is not None:  # the database file plus its write-ahead log
        return sum(
            p.stat().st_size for p in (sqlite_path, sqlite_path.with_name(sqlite_path.name + "-wal")) if p.exists()
        )
    names = [tbl.name for tbl in t.metadata.sorted_tables]  # tables, their indexes and TOAST
    return int(
        conn.execute(
            text(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname = ANY(:names)"
            ),
            {"names": names},
        ).scalar_one()
    )
