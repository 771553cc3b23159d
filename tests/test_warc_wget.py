"""Web archives written by real software: GNU Wget (``--warc-file``) crawls a real nginx
serving the generated news sites of tests/realsite.py (gzip and chunked responses, robots.txt,
feeds, listings, articles), and the pipeline reads what it wrote.

What is checked against the archive as another library (warcio) reads it, not against our
reader: every record is counted once (stored, duplicate, failed, or skipped with its kind),
each article's url and fetched_at are its record's ``WARC-Target-URI`` and ``WARC-Date``, its
text is the text of the same page fetched live, and the archived and the live page are one
article. The same records read the same plain, per-record gzip (as Wget writes) and
whole-file gzip.

wget and nginx are Debian packages (scripts/services.sh installs both); missing, the tests
skip, or fail under WIREDESK_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.realsite import Site
from tests.services import services_required
from tests.test_realsite_nginx import AGENT, realsites, settings  # noqa: F401 - realsites: nginx fixture
from tests.test_warc_pipeline import accounted, config
from wiredesk.extractors import extract_page
from wiredesk.fetching import Fetcher, MemoryFetchState
from wiredesk.fetching.warc import read_archive
from wiredesk.pipeline.run import run_ingest
from wiredesk.storage import open_store


def wget_binary() -> str | None:
    return shutil.which("wget")


@pytest.fixture(scope="module")
def wget_warcs(realsites, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:  # noqa: F811
    """One archive per site, as ``wget --recursive --warc-file`` writes it (per-record gzip),
    asking for gzip like a browser (nginx then answers gzip and chunked)."""
    binary = wget_binary()
    if binary is None:
        message = "wget is not installed (apt-get install wget)"
        if services_required():
            pytest.fail(message + " and WIREDESK_REQUIRE_SERVICES=1", pytrace=False)
        pytest.skip(message)
    sites, _ = realsites
    out = tmp_path_factory.mktemp("wget")
    warcs = {}
    for name, site in sites.items():
        command = [binary, "--recursive", "--level=inf", "--no-verbose", "--execute", "robots=on"]
        command += ["--user-agent", AGENT, "--compression=auto", "--directory-prefix", str(out / "mirror" / name)]
        command += ["--warc-file", str(out / name), site.base + "/"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        # 0, or 8: the server answered an error for some link (the sites link a missing tag page)
        assert done.returncode in (0, 8), done.stderr[-2000:]
        warcs[name] = out / f"{name}.warc.gz"
        assert warcs[name].stat().st_size > 0
    return warcs


def records(path: Path) -> list[dict[str, Any]]:
    """Every record as warcio reads it: type, WARC-Target-URI, WARC-Date, HTTP status and
    media type (None for records that are not HTTP)."""
    from warcio.archiveiterator import ArchiveIterator

    out = []
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh):
            http = record.http_headers if record.rec_type in ("response", "request") else None
            media = (http.get_header("Content-Type") or "").split(";")[0].strip() if http is not None else None
            out.append(
                {
                    "type": record.rec_type,
                    "uri": record.rec_headers.get_header("WARC-Target-URI"),
                    "date": record.rec_headers.get_header("WARC-Date"),
                    "status": int(http.get_statuscode())
                    if http is not None and record.rec_type == "response"
                    else None,
                    "media": media,
                }
            )
    return out


def is_page(record: dict[str, Any]) -> bool:
    return record["type"] == "response" and record["status"] == 200 and record["media"] in ("text/html", "text/plain")


def test_every_record_of_a_wget_archive_is_accounted_for(wget_warcs, tmp_path: Path) -> None:
    cfg = config(tmp_path)
    for name, path in wget_warcs.items():
        truth = records(path)
        pages = [r for r in truth if is_page(r)]
        assert len(pages) >= 10 and any(r["media"] == "text/html" for r in pages), name
        summary, _ = run_ingest(cfg, inputs=[str(path)], export=False)
        [row] = summary["sources"]
        assert row["discovered"] == len(truth) == accounted(row), (name, row)
        # Not pages: counted by kind, exactly as many as the archive holds.
        kinds = Counter(f"warc-{r['type']}" for r in truth if r["type"] != "response")
        kinds.update("non-html" for r in truth if r["type"] == "response" and r["status"] == 200 and not is_page(r))
        kinds.update(f"http-{r['status']}" for r in truth if r["type"] == "response" and r["status"] != 200)
        page_outcomes = {k: n for k, n in row["skipped"].items() if k not in kinds}
        assert {k: n for k, n in row["skipped"].items() if k in kinds} == dict(kinds), name
        # Pages: each stored, a duplicate, already seen, failed with a reason, or skipped with one
        # (listing pages: not articles); nothing else, and the counts are the pages' count.
        kept = row["stored"] + row["exact_duplicates"] + row["near_duplicates"] + row["already_seen"] + row["changed"]
        assert kept + row["failed"] + sum(page_outcomes.values()) == len(pages), (name, row)
        assert set(page_outcomes) <= {"not-article"}, page_outcomes
        assert row["stored"] > 0, row
        assert set(row["failed_by_reason"]) <= {"no-content"}, row  # robots.txt: a text page with no prose
    # Each stored article: its record's URL and date, nothing invented.
    by_uri = {r["uri"]: r for path in wget_warcs.values() for r in records(path) if is_page(r)}
    with open_store(str(tmp_path / "w.db")) as store:
        stored = [s.article for s in store.iter_since(0)]
    assert stored
    for article in stored:
        record = by_uri[article.url]
        assert article.fetched_at == datetime.fromisoformat(record["date"].replace("Z", "+00:00")), article.url


def _article_urls(sites: dict[str, Site]) -> list[str]:
    """The sites' article pages that robots.txt lets a crawler fetch."""
    return sorted(site.url(s.path) for site in sites.values() for s in site.stories if s.path not in site.disallowed)


def test_archived_articles_read_as_the_live_pages_and_are_one_article(wget_warcs, realsites, tmp_path: Path) -> None:  # noqa: F811
    sites, _ = realsites
    cfg = config(tmp_path)
    archived, _ = run_ingest(cfg, inputs=[str(p) for p in wget_warcs.values()], export=False)
    assert archived["stored"] > 0
    with open_store(str(tmp_path / "w.db")) as store:
        stored = {s.article.url: s.article for s in store.iter_since(0)}
    articles = _article_urls(sites)
    assert len(articles) >= 10 and set(articles) <= set(stored)
    with Fetcher(settings(), MemoryFetchState()) as fetcher:
        live = {o.page.url: o.page for o in fetcher.fetch(articles) if o.page is not None}
    assert sorted(live) == articles
    for url in articles:
        assert extract_page(live[url]).text == stored[url].text, url
    # The same pages fetched live by the pipeline: already seen, one article each.
    cfg = config(tmp_path, sources=[{"name": "live", "urls": articles}])
    again, _ = run_ingest(cfg, sources=["live"], export=False)
    [row] = again["sources"]
    assert row["stored"] == 0 and row["exact_duplicates"] == 0 and row["near_duplicates"] == 0, row
    assert row["already_seen"] == len(articles), row


@pytest.mark.parametrize("workers", [1, 2])
def test_listing_pages_in_an_archive_are_not_articles(wget_warcs, realsites, tmp_path: Path, workers: int) -> None:  # noqa: F811
    """The archive's home, section, tag, page/2 and About pages are recognised as the fetcher
    recognises them live (tests/test_realsite_nginx.py) and skipped ``not-article``; every
    article page is stored. In this process (1 worker) and in the extraction pool (2)."""
    sites, _ = realsites
    cfg = config(tmp_path, run={"workers": workers, "batch_size": 8})
    summary, _ = run_ingest(cfg, inputs=[str(p) for p in wget_warcs.values()], export=False)
    archived = {r["uri"] for path in wget_warcs.values() for r in records(path) if is_page(r)}
    listings = {site.url(p) for site in sites.values() for p in site.listings} & archived
    assert len(listings) >= 8, listings  # homes, sections, tags, page/2, About pages
    with open_store(str(tmp_path / "w.db")) as store:
        stored = {s.article.url for s in store.iter_since(0)}
        state = store.get(sorted(listings))
    assert stored & listings == set()
    assert set(_article_urls(sites)) <= stored
    not_articles = sum(row["skipped"].get("not-article", 0) for row in summary["sources"])
    assert not_articles == len(listings), summary["sources"]
    assert all(row["discovered"] == accounted(row) for row in summary["sources"])
    # Recorded as the fetcher records a listing: not stored, with the signal that decided.
    assert sorted(state) == sorted(listings)
    assert all(not r.stored and r.detail.startswith("not an article (") for r in state.values()), state
    # A re-run finds them listings again (not "already seen" articles), the articles already seen.
    again, _ = run_ingest(cfg, inputs=[str(p) for p in wget_warcs.values()], export=False)
    assert again["stored"] == 0
    assert sum(row["skipped"].get("not-article", 0) for row in again["sources"]) == len(listings)


def test_plain_and_whole_file_gzip_read_as_the_per_record_gzip_wget_wrote(wget_warcs, tmp_path: Path) -> None:
    for name, path in wget_warcs.items():
        plain = gzip.decompress(path.read_bytes())  # every member, in order: the plain WARC
        forms = {
            "per-record gzip": path,
            "plain": tmp_path / f"{name}.warc",
            "whole-file gzip": tmp_path / f"{name}-whole.warc.gz",
        }
        forms["plain"].write_bytes(plain)
        forms["whole-file gzip"].write_bytes(gzip.compress(plain))
        seen = {}
        for form, file in forms.items():
            items = list(read_archive(file, source=name, max_bytes=1_000_000))
            assert not [i for i in items if i.failed], (form, [i for i in items if i.failed])
            seen[form] = [
                (i.skipped, i.url, i.page.url if i.page else None, i.page.body if i.page else None) for i in items
            ]
        assert seen["plain"] == seen["per-record gzip"] == seen["whole-file gzip"], name
        assert len(seen["plain"]) == len(records(path))
