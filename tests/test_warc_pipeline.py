"""Web archives through the whole pipeline (no Prefect): counts that add up, re-runs that
store nothing new, one article for a page seen live and archived, and warcs: sources
that resume where they stopped."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fetchserver import FetchServer
from tests.warc_files import article, capture, http_response, page_record, per_record_gzip, warc_record, write
from wiredesk.config import load_config
from wiredesk.core.records import article_id_for
from wiredesk.pipeline.run import run_ingest
from wiredesk.storage import open_store


def config(tmp_path: Path, **extra: Any):
    data: dict[str, Any] = {
        "store": {"url": str(tmp_path / "w.db")},
        "run": {"workers": 1, "batch_size": 4},
        "fetch": {"allow_private": ["127.0.0.1"], "per_host_min_interval": 0, "retries": 1, "retry_backoff": 0.01},
    }
    data.update(extra)
    path = tmp_path / "wiredesk.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_config(path, environ={})


def accounted(row: dict[str, Any]) -> int:
    """Every record once: kept (stored, duplicate, already seen, changed), failed or skipped."""
    skipped = sum(n for kind, n in row["skipped"].items() if kind != "archive-done")
    kept = row["stored"] + row["exact_duplicates"] + row["near_duplicates"] + row["already_seen"] + row["changed"]
    return kept + row["failed"] + skipped


def stored_ids(tmp_path: Path) -> set[str]:
    with open_store(str(tmp_path / "w.db")) as store:
        return {s.article.id for s in store.iter_since(0)}


def mixed_archive(path: Path) -> Path:
    """Pages, repeats, syndicated copies and damage in one per-record-gzip file."""
    copy = article(2).encode()
    records = [
        warc_record(b"software: t\r\n", kind="warcinfo", uri=None, content_type="application/warc-fields"),
        *[page_record(n) for n in range(6)],
        page_record(1),  # the same URI again, same content
        warc_record(http_response(copy), uri="http://mirror.example.org/copy-of-2"),  # a syndicated copy
        warc_record(b"GET / HTTP/1.1\r\n\r\n", kind="request", content_type="application/http; msgtype=request"),
        warc_record(http_response(b"no", status="404 Not Found"), uri="http://example.com/gone"),
        warc_record(http_response(b"%PDF", headers=[("Content-Type", "application/pdf")]), uri="http://e.com/p.pdf"),
        warc_record(http_response(b"<html><body></body></html>"), uri="http://example.com/empty"),
        page_record(7),
    ]
    data = per_record_gzip(records)
    return write(path, data[:-50])  # the last record cut off


def test_counts_add_up_and_a_rerun_stores_nothing_new(tmp_path: Path) -> None:
    path = mixed_archive(tmp_path / "in" / "mixed.warc.gz")
    cfg = config(tmp_path)
    first, _ = run_ingest(cfg, inputs=[str(path)], export=False)
    row = first["sources"][0]
    assert row["discovered"] == 14 == accounted(row)
    assert row["stored"] == 6 and row["exact_duplicates"] == 1 and row["already_seen"] == 1  # the repeated URI
    assert row["skipped"] == {"warc-warcinfo": 1, "warc-request": 1, "http-404": 1, "non-html": 1}
    assert row["failed_by_reason"]["warc-truncated"] == 1 and row["failed"] == 2  # + the empty page
    ids = stored_ids(tmp_path)
    assert article_id_for("http://example.com/news/3") in ids  # ids from the URL, as for fetched pages

    again, _ = run_ingest(cfg, inputs=[str(tmp_path / "in")], export=False)
    row = again["sources"][0]
    assert again["stored"] == 0 and row["already_seen"] == 8 and accounted(row) == 14
    assert stored_ids(tmp_path) == ids


def test_a_page_archived_and_fetched_live_is_one_article(tmp_path: Path) -> None:
    with FetchServer(hosts=1, pages=4) as server:
        base = server.base(0)
        urls = [f"{base}/article/{n}" for n in range(3)]
        path = capture(urls, tmp_path / "site.warc.gz")
        cfg = config(tmp_path, sources=[{"name": "live", "urls": urls}])
        archived, _ = run_ingest(cfg, inputs=[str(path)], export=False)
        assert archived["stored"] == 3
        live, _ = run_ingest(cfg, sources=["live"], export=False)
    assert live["stored"] == 0 and live["exact_duplicates"] == 0
    assert stored_ids(tmp_path) == {article_id_for(u) for u in urls}


def test_archived_text_is_the_text_of_the_live_page(tmp_path: Path) -> None:
    from tests.fetchserver import make_settings
    from wiredesk.extractors import extract_many
    from wiredesk.fetching import Fetcher, MemoryFetchState
    from wiredesk.fetching.warc import read_archive

    with FetchServer(hosts=1, pages=3, page_bytes=3000) as server:
        urls = [f"{server.base(0)}/article/{n}" for n in range(3)]
        path = capture(urls, tmp_path / "site.warc.gz")
        with Fetcher(make_settings(), MemoryFetchState()) as fetcher:
            live = [o.page for o in fetcher.fetch(urls)]
    archived = [i.page for i in read_archive(path, source="live", max_bytes=1_000_000) if i.page]
    assert [p.url for p in archived] == [p.url for p in live if p]
    assert [p.body for p in archived] == [p.body for p in live if p]
    texts = [r.text for r in extract_many(archived, workers=1)]
    assert texts == [r.text for r in extract_many([p for p in live if p], workers=1)] and all(texts)


def test_text_of_non_utf8_archived_pages(tmp_path: Path) -> None:
    body = article(1, words="café naïve déjà", charset="windows-1252").encode("cp1252")
    plain = body.replace(b"<meta charset='windows-1252'>", b"")
    records = [
        warc_record(
            http_response(body, headers=[("Content-Type", "text/html; charset=windows-1252")]), uri="http://a.com/1"
        ),
        warc_record(http_response(plain, headers=[("Content-Type", "text/html")]), uri="http://b.com/1"),
    ]
    path = write(tmp_path / "cs.warc", b"".join(records))
    run_ingest(config(tmp_path), inputs=[str(path)], export=False)
    with open_store(str(tmp_path / "w.db")) as store:
        texts = [s.article.text for s in store.iter_since(0)]
    assert texts and all("café naïve déjà" in t for t in texts)


# -- warcs: sources ----------------------------------------------------------------------------------


def archive_files(folder: Path, count: int, first: int = 0) -> list[Path]:
    out = []
    for f in range(first, first + count):
        records = [page_record(100 * f + n) for n in range(3)]
        out.append(write(folder / f"CC-NEWS-2024010{f + 1}000000-0000{f}.warc.gz", per_record_gzip(records)))
    return out


def listing(path: Path, files: list[Path]) -> Path:
    lines = "".join(f"warcs/{p.name}\n" for p in files)
    path.write_bytes(gzip.compress(lines.encode()))
    return path


def test_a_listing_source_resumes_and_picks_up_new_files(tmp_path: Path) -> None:
    files = archive_files(tmp_path / "warcs", 3)
    paths = listing(tmp_path / "warc.paths.gz", files[:2])
    cfg = config(tmp_path, sources=[{"name": "ccnews", "warcs": [str(paths)]}])

    first, _ = run_ingest(cfg, sources=["ccnews"], limit=1, export=False)
    assert first["stored"] == 3
    second, _ = run_ingest(cfg, sources=["ccnews"], export=False)
    assert second["stored"] == 3 and second["sources"][0]["skipped"]["archive-done"] == 1
    listing(paths, files)  # the month's listing grew
    third, _ = run_ingest(cfg, sources=["ccnews"], export=False)
    assert third["stored"] == 3 and third["sources"][0]["skipped"]["archive-done"] == 2
    idle, _ = run_ingest(cfg, sources=["ccnews"], export=False)
    assert idle["pages_read"] == 0 and idle["sources"][0]["skipped"]["archive-done"] == 3
    assert len(stored_ids(tmp_path)) == 9


def test_since_passes_over_older_files(tmp_path: Path) -> None:
    files = archive_files(tmp_path / "warcs", 3)  # 2024-01-01, -02, -03
    cfg = config(tmp_path, sources=[{"name": "ccnews", "warcs": [str(tmp_path / "warcs" / "*.warc.gz")]}])
    summary, _ = run_ingest(cfg, sources=["ccnews"], since="2024-01-02T12:00:00Z", export=False)
    # the 01-02 file may hold records after noon; 01-01 ends when 01-02 begins
    assert summary["sources"][0]["discovered"] == 6
    assert files


def test_a_file_is_done_only_when_all_its_records_are_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = archive_files(tmp_path / "warcs", 1)
    write(files[0], per_record_gzip([page_record(n) for n in range(10)]))
    cfg = config(tmp_path, sources=[{"name": "ccnews", "warcs": [str(files[0])]}])
    from wiredesk.storage import store as store_module

    original = store_module.Store.write_batch
    calls = {"n": 0}

    def crash_on_second_batch(self, **kwargs):  # noqa: ANN001, ANN003, ANN202
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        return original(self, **kwargs)

    monkeypatch.setattr(store_module.Store, "write_batch", crash_on_second_batch)
    crashed, _ = run_ingest(cfg, sources=["ccnews"], export=False)
    assert crashed["failed_sources"] == ["ccnews"] and len(stored_ids(tmp_path)) == 4
    monkeypatch.setattr(store_module.Store, "write_batch", original)
    resumed, _ = run_ingest(cfg, sources=["ccnews"], export=False)
    row = resumed["sources"][0]
    assert row["stored"] == 6 and row["already_seen"] == 4 and "archive-done" not in row["skipped"]
    done, _ = run_ingest(cfg, sources=["ccnews"], export=False)
    assert done["sources"][0]["skipped"]["archive-done"] == 1 and done["pages_read"] == 0


def test_archives_over_a_process_pool(tmp_path: Path) -> None:
    archive_files(tmp_path / "warcs", 3)
    cfg = config(tmp_path, run={"workers": 2, "batch_size": 4})
    summary, _ = run_ingest(cfg, inputs=[str(tmp_path / "warcs")], export=False)
    assert summary["stored"] == 9 and summary["sources"][0]["discovered"] == 9
    assert len(stored_ids(tmp_path)) == 9


def test_unknown_listing_is_one_line_error(tmp_path: Path) -> None:
    cfg = config(tmp_path, sources=[{"name": "ccnews", "warcs": [str(tmp_path / "nope" / "warc.paths.gz")]}])
    summary, _ = run_ingest(cfg, sources=["ccnews"], export=False)
    assert summary["failed_sources"] == ["ccnews"]
    assert "no such file" in summary["sources"][0]["error"]


@pytest.mark.services
def test_archives_over_workers_with_postgres_and_a_shared_index(tmp_path: Path) -> None:
    """Several processes (as several machines would) share one PostgreSQL store and one Redis
    dedup index: a story archived in two files is stored once, its copy clustered with it."""
    import uuid

    from tests.services import require_redis
    from tests.test_store_support import PgSchema, require_postgres
    from wiredesk.dedup import DedupSettings, open_index

    require_postgres()
    index = f"{require_redis()}?prefix=wdwarc_{uuid.uuid4().hex[:10]}"
    schema = PgSchema()
    try:
        folder = tmp_path / "warcs"
        archive_files(folder, 2)
        copy = warc_record(http_response(article(101).encode()), uri="http://mirror.example.org/101")
        write(folder / "CC-NEWS-20240105000000-00009.warc.gz", per_record_gzip([copy, page_record(900)]))
        cfg = config(tmp_path, store={"url": schema.url, "dedup_index": index}, run={"workers": 2, "batch_size": 2})
        summary, _ = run_ingest(cfg, inputs=[str(folder)], export=False)
        # The copy is found as a duplicate of its original either way; which kind depends on
        # timing: when the two files are read by two processes at the same moment, the exact
        # hash of the other's uncommitted batch is not in the store yet, and the shared MinHash
        # index (Redis, written before the commit) finds the copy instead (a near duplicate).
        assert summary["stored"] == 7
        assert summary["exact_duplicates"] + summary["near_duplicates"] == 1, summary
        again, _ = run_ingest(cfg, inputs=[str(folder)], export=False)
        assert again["stored"] == 0 and again["already_seen"] == 8
    finally:
        schema.drop()
        with open_index(index, settings=DedupSettings()) as shared:
            shared.drop()


def test_since_filters_archived_records_by_their_date(tmp_path: Path) -> None:
    records = [page_record(1, date="2023-12-31T23:00:00Z"), page_record(2), page_record(3, date="2024-02-01T00:00:00Z")]
    path = write(tmp_path / "in" / "dated.warc.gz", per_record_gzip(records))
    import os

    os.utime(path, (0, 0))  # an old file time says nothing about the records inside
    summary, _ = run_ingest(config(tmp_path), inputs=[str(path)], since="2024-01-01", export=False)
    row = summary["sources"][0]
    assert row["stored"] == 2 and row["skipped"] == {"before-since": 1} and accounted(row) == 3


# -- listing pages in archives --------------------------------------------------------------------


def _teasers(n: int) -> str:
    return "".join(f"<h2><a href='/news/{i}'>Story {i}</a></h2><p>Teaser {i}.</p>" for i in range(n))


LISTING_PAGES = {  # URL -> a listing as CMSs write them, and the signal the fetcher decides by
    "http://example.com/": (
        "<html><head><meta property='og:type' content='website'><title>Home</title></head>"
        f"<body><h1>The Example</h1>{_teasers(5)}</body></html>",
        "og:type website",
    ),
    "http://example.com/section/world/": (
        "<html><head><title>World</title><script type='application/ld+json'>"
        '{"@context": "https://schema.org", "@type": "CollectionPage", "name": "World"}'
        f"</script></head><body>{_teasers(4)}</body></html>",
        "json-ld collectionpage",
    ),
    "http://example.com/tag/budget/": (
        f"<html><head><title>budget</title></head><body class='archive tag tag-budget'>{_teasers(2)}</body></html>",
        "body class archive",
    ),
    "http://example.com/page/2/": (
        f"<html><head><link rel='prev' href='/'><title>Page 2</title></head><body>{_teasers(2)}</body></html>",
        "rel=next/prev",
    ),
}


def listing_archive(path: Path) -> Path:
    records = [page_record(n) for n in range(3)]
    records[1:1] = [warc_record(http_response(body.encode()), uri=url) for url, (body, _) in LISTING_PAGES.items()]
    return write(path, per_record_gzip(records))


@pytest.mark.parametrize("workers", [1, 2])
def test_listing_pages_are_skipped_as_not_articles(tmp_path: Path, workers: int) -> None:
    """What the fetcher decides for a live page (fetching.pagetype.read_page), the archive
    path decides for the same page: listings are counted skipped ``not-article`` (the counts
    add up), recorded unstored with the signal, and come back as listings on a re-run."""
    from wiredesk.fetching.pagetype import read_page

    for url, (body, why) in LISTING_PAGES.items():
        signals = read_page(body.encode(), url)
        assert (signals.kind, signals.why) == ("listing", why), url
    path = listing_archive(tmp_path / "in" / "site.warc.gz")
    cfg = config(tmp_path, run={"workers": workers, "batch_size": 8}, extract={"pool_min_batch": 2})
    first, _ = run_ingest(cfg, inputs=[str(path)], export=False)
    [row] = first["sources"]
    assert row["discovered"] == 7 == accounted(row)
    assert row["stored"] == 3 and row["skipped"] == {"not-article": 4} and row["failed"] == 0, row
    assert stored_ids(tmp_path) == {article_id_for(f"http://example.com/news/{n}") for n in range(3)}
    with open_store(str(tmp_path / "w.db")) as store:
        state = store.get(list(LISTING_PAGES))
    assert {url: (r.stored, r.detail) for url, r in state.items()} == {
        url: (False, f"not an article ({why})") for url, (_, why) in LISTING_PAGES.items()
    }
    again, _ = run_ingest(cfg, inputs=[str(path)], export=False)
    [row] = again["sources"]
    assert row["already_seen"] == 3 and row["skipped"] == {"not-article": 4} and accounted(row) == 7, row


def test_a_warcs_source_with_article_urls_decides_by_url(tmp_path: Path) -> None:
    """A source's ``article_urls`` decides before the page's own signals, as for fetched pages:
    a page it matches is an article whatever it looks like, any other page a listing."""
    about = "<html><head><title>About us</title></head><body><p>We are a newsroom.</p></body></html>"
    records = [
        page_record(1),
        page_record(2, uri="http://example.com/news/2?utm_source=rss"),  # the URL as recorded
        warc_record(http_response(about.encode()), uri="http://example.com/about"),
        warc_record(http_response(LISTING_PAGES["http://example.com/"][0].encode()), uri="http://example.com/"),
        warc_record(http_response(article(3).encode()), uri="http://example.com/story-without-number"),
    ]
    path = write(tmp_path / "warcs" / "a.warc.gz", per_record_gzip(records))
    source = {"name": "arch", "warcs": [str(path)], "article_urls": r"/news/\d+$"}
    summary, _ = run_ingest(config(tmp_path, sources=[source]), sources=["arch"], export=False)
    [row] = summary["sources"]
    assert row["stored"] == 2 and row["skipped"] == {"not-article": 3} and accounted(row) == 5, row
    with open_store(str(tmp_path / "w.db")) as store:
        state = store.get(["http://example.com/story-without-number", "http://example.com/about"])
    assert {r.detail for r in state.values()} == {"not an article (article_urls)"}
