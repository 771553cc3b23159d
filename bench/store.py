"""Store benchmark: insert rate, size per article, export rates and incremental export time.

    .venv/bin/python bench/store.py                 # 100,000 articles, SQLite (plain + zlib) and PostgreSQL
    .venv/bin/python bench/store.py --n 20000 --backends sqlite

Synthetic articles are real news bodies from ../shared/data/dedup/syndication-dev (each made
unique by a header line), else generated text. Anchors, run in the same process on the same
rows, make the figures comparable across machines:
    insert anchor: plain sqlite3 executemany of the same article tuples into a bare table;
    export anchor: json.dumps + write of the same records held in memory;
both measured right after each case (the machine is shared: its load drifts).
The machine is shared: one backend at a time, nothing in parallel.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent

from wiredesk.core.records import Article, Assignment, article_id_for  # noqa: E402
from wiredesk.storage import StoreSettings, export_corpus, open_store  # noqa: E402

BODIES = REPO.parent / "shared" / "data" / "dedup" / "syndication-dev" / "bodies.jsonl"
PG_URL = os.environ.get("WIREDESK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
T0 = datetime(2026, 10, 1, tzinfo=UTC)


def bodies() -> list[str]:
    if BODIES.exists():
        texts = [json.loads(line)["text"] for line in BODIES.read_text().splitlines()]
        return [t for t in texts if len(t) > 200]
    rng = random.Random(7)
    words = [f"w{i}" for i in range(5000)]
    return ["\n".join(" ".join(rng.choices(words, k=60)) + "." for _ in range(8)) for _ in range(300)]


def batches(n: int, size: int, texts: list[str], start: int = 0):
    """(articles, assignments) per batch; every fifth article a near copy of the one before."""
    for first in range(start, start + n, size):
        arts, verdicts = [], []
        for k in range(first, min(first + size, start + n)):
            url = f"https://src{k % 40}.example/{k // 1000}/story-{k}"
            text = f"Dateline {k}: staff report.\n" + texts[k % len(texts)]
            art = Article(
                id=article_id_for(url),
                source=f"src{k % 40}",
                text=text,
                url=url,
                content_hash=hashlib.sha256(text.encode()).hexdigest()[:32],
                fetched_at=T0 + timedelta(seconds=k),
                title=f"Story {k}",
                author="Staff",
                published=(T0 + timedelta(hours=k // 50)).isoformat(),
                language="en",
            )
            rep = arts[-1] if k % 5 == 4 and arts else None
            arts.append(art)
            verdicts.append(
                Assignment(
                    article_id=art.id,
                    cluster_id=(rep or art).id,
                    kind="near" if rep else "new",
                    duplicate_of=rep.id if rep else None,
                    similarity=0.93 if rep else None,
                )
            )
        yield arts, verdicts


def insert_anchor(n: int, size: int, texts: list[str], folder: Path) -> float:
    """Rows/s of bare sqlite3 executemany (WAL, one transaction per batch, same data)."""
    con = sqlite3.connect(folder / "anchor.db", isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(
        "CREATE TABLE a (id TEXT PRIMARY KEY, url TEXT, source TEXT, title TEXT, text TEXT, hash TEXT, "
        "fetched TEXT, cluster TEXT, dup TEXT, sim REAL, seq INTEGER)"
    )
    spent = 0.0
    seq = 0
    for arts, verdicts in batches(n, size, texts):
        rows = []
        for art, v in zip(arts, verdicts):
            seq += 1
            rows.append(
                (
                    art.id,
                    art.url,
                    art.source,
                    art.title,
                    art.text,
                    art.content_hash,
                    art.fetched_at.isoformat(),
                    v.cluster_id,
                    v.duplicate_of,
                    v.similarity,
                    seq,
                )
            )
        t = time.perf_counter()
        con.execute("BEGIN")
        con.executemany("INSERT INTO a VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        con.execute("COMMIT")
        spent += time.perf_counter() - t
    con.close()
    return n / spent


def export_anchor(records: list[dict], folder: Path) -> float:
    encode = json.JSONEncoder(ensure_ascii=False).encode
    t = time.perf_counter()
    with open(folder / "anchor.jsonl", "wb") as fh:
        for rec in records:
            fh.write((encode(rec) + "\n").encode())
    return len(records) / (time.perf_counter() - t)


def run_case(
    name: str, target: str, settings: StoreSettings, n: int, size: int, texts: list[str], folder: Path
) -> dict:
    row: dict = {"case": name}
    with open_store(target, settings=settings) as store:
        spent = 0.0
        for arts, verdicts in batches(n, size, texts):
            t = time.perf_counter()
            store.write_batch(run_id="bench", articles=arts, assignments=verdicts)
            spent += time.perf_counter() - t
        row["insert/s"] = n / spent
        if store.backend == "sqlite":  # fold the WAL in, so the file size is the store size
            with store.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        stats = store.stats()
        row["bytes/article"] = stats["bytes_per_article"]
        # The same batch again: everything already seen, nothing stored.
        arts, verdicts = next(batches(size, size, texts))
        t = time.perf_counter()
        store.write_batch(run_id="bench", articles=arts, assignments=verdicts)
        row["rewrite/s"] = size / (time.perf_counter() - t)
        for fmt in ("jsonl", "jsonl.gz", "parquet", "csv"):
            out = folder / f"{name}.{fmt}"
            t = time.perf_counter()
            result = export_corpus(store, str(out), fmt=fmt, include_duplicates=True)
            row[f"{fmt} rec/s"] = result.records / (time.perf_counter() - t)
            row[f"{fmt} MB"] = sum(Path(f).stat().st_size for f in result.files) / 1e6
        t = time.perf_counter()
        result = export_corpus(
            store, str(folder / f"{name}-by-day"), fmt="parquet", include_duplicates=True, partition_by_date=True
        )
        row["parquet by day rec/s"] = result.records / (time.perf_counter() - t)
        out = folder / f"{name}.inc.jsonl"
        export_corpus(store, str(out), include_duplicates=True, incremental=True)
        extra = max(1, n // 100)
        for arts, verdicts in batches(extra, size, texts, start=n):
            store.write_batch(run_id="bench-2", articles=arts, assignments=verdicts)
        t = time.perf_counter()
        result = export_corpus(store, str(out), include_duplicates=True, incremental=True)
        row["incremental s"] = time.perf_counter() - t
        assert result.incremental and result.records == extra, result
        row["incremental n"] = extra
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    texts = bodies()
    mean_chars = sum(len(t) for t in texts) / len(texts)
    print(
        f"{args.n:,} synthetic articles, batches of {args.batch}, mean text {mean_chars:,.0f} chars "
        f"({len(texts)} distinct bodies)"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="wd-bench-") as tmp:
        folder = Path(tmp)
        records = [
            {"id": a.id, "text": a.text, "url": a.url, "source": a.source, "title": a.title}
            for arts, _ in batches(min(args.n, 20_000), args.batch, texts)
            for a in arts
        ]

        def anchored(row: dict) -> dict:
            # The machine is shared and its load drifts over minutes: measure the anchors right
            # after each case, so each ratio compares like with like.
            row["insert anchor/s"] = insert_anchor(min(args.n, 20_000), args.batch, texts, folder)
            (folder / "anchor.db").unlink()
            for suffix in ("-wal", "-shm"):
                (folder / f"anchor.db{suffix}").unlink(missing_ok=True)
            row["export anchor/s"] = export_anchor(records, folder)
            return row

        for backend in args.backends.split(","):
            if backend == "sqlite":
                for compress in (False, True):
                    label = f"sqlite {'zlib' if compress else 'plain'}"
                    target = str(folder / f"{label.replace(' ', '-')}.db")
                    rows.append(
                        anchored(
                            run_case(
                                label, target, StoreSettings(compress_text=compress), args.n, args.batch, texts, folder
                            )
                        )
                    )
            elif backend == "postgresql":
                import psycopg

                schema = f"wd_bench_{os.getpid()}"
                with psycopg.connect(PG_URL, autocommit=True) as conn:
                    conn.execute(f'CREATE SCHEMA "{schema}"')
                try:
                    sep = "&" if "?" in PG_URL else "?"
                    url = f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
                    settings = StoreSettings()
                    label = f"postgresql {'zlib' if settings.compress_text else 'plain (TOAST)'}"
                    rows.append(anchored(run_case(label, url, settings, args.n, args.batch, texts, folder)))
                finally:
                    with psycopg.connect(PG_URL, autocommit=True) as conn:
                        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    cols = [
        "case",
        "insert/s",
        "x anchor",
        "bytes/article",
        "rewrite/s",
        "jsonl rec/s",
        "x anchor ",
        "jsonl.gz rec/s",
        "parquet rec/s",
        "csv rec/s",
        "parquet by day rec/s",
        "jsonl MB",
        "jsonl.gz MB",
        "parquet MB",
        "csv MB",
        "incremental s",
    ]
    for row in rows:
        row["x anchor"] = row["insert/s"] / row["insert anchor/s"]
        row["x anchor "] = row["jsonl rec/s"] / row["export anchor/s"]
    print()
    print(" | ".join(cols))
    print(" | ".join("---" for _ in cols))
    for row in rows:
        cells = []
        for c in cols:
            v = row[c]
            if isinstance(v, str):
                cells.append(v)
            elif c.startswith("x anchor"):
                cells.append(f"{v:.2f}")
            elif c.endswith("MB") or c == "incremental s":
                cells.append(f"{v:.2f}")
            else:
                cells.append(f"{v:,.0f}")
        print(" | ".join(cells))
    print(f"\nincremental: {rows[0]['incremental n']:,} new articles on top of {args.n:,}, exported as a delta")
    print(
        "x anchor: insert/s over bare sqlite3 executemany of the same rows; jsonl rec/s over an in-memory\n"
        "stdlib json.dumps + write of the same records (both measured right after each case)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
