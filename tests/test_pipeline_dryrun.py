"""Dry runs without Prefect: the real stages against a scratch copy of the store, which is
deleted afterwards; the configured store, its index and its folder are left byte for byte."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.pipeline_helpers import syndicated_text_copy, write
from tests.test_cli import _tree
from tests.test_pipeline import _config, _ingest, _stored
from wiredesk.fetching.files import expand_inputs
from wiredesk.pipeline import batch as pipeline
from wiredesk.pipeline.dryrun import would_store
from wiredesk.pipeline.report import SourceTally


def _dry(store: str, paths: list[str]) -> tuple[SourceTally, list[dict], Path]:
    tally = SourceTally(source="local")
    with pipeline.open_stages(_config(store), run_id="dry", dry_run=True) as stages:
        scratch = Path(stages.store.sqlite_path).parent
        assert stages.config.store.url != store and scratch.parent == Path(tempfile.gettempdir())
        # the scratch index starts as a copy of the store's own, not empty (a rebuild from the
        # store costs ~7 ms of CPU per stored article)
        assert stages.dedup.index.last_seq() == stages.store.high_water()
        pages, failures = pipeline.read_files(
            expand_inputs(paths), source="local", manifest=None, max_bytes=10_000_000, tally=tally
        )
        for batch in pipeline.chunks(pages, 3):  # copies across batches are found too
            pipeline.ingest_pages(stages, batch, tally=tally, failures=failures)
            failures = []
        listed = would_store(stages.store, "dry")
    return tally, listed, scratch


def test_dry_run_without_a_store_creates_none(samples_dir: Path, tmp_path: Path) -> None:
    seeds = sorted((samples_dir / "seeds").glob("*.txt"))
    copy = write(tmp_path / "in" / "copy.txt", syndicated_text_copy(seeds[1].read_text("utf-8")))
    store = tmp_path / "data" / "wiredesk.db"
    tally, listed, scratch = _dry(str(store), [*map(str, seeds), str(copy)])
    assert not (tmp_path / "data").exists() and not scratch.exists()
    assert (tally.stored, tally.near) == (5, 1)
    copies = [r for r in listed if r["duplicate_of"]]
    assert len(listed) == 6 and [(r["path"], r["duplicate_of_location"]) for r in copies] == [
        (str(copy.resolve()), str(seeds[1].resolve()))
    ]


def test_dry_run_on_a_store_names_stored_originals_and_changes_nothing(samples_dir: Path, tmp_path: Path) -> None:
    seeds = sorted((samples_dir / "seeds").glob("*.txt"))
    home = tmp_path / "home"
    store = str(home / "wiredesk.db")
    assert _ingest(store, [str(s) for s in seeds]).stored == 5
    before = _tree(home)
    assert any(name.endswith(".dedup") for name in before) and not any(n.endswith(".lock") for n in before)
    # A copy of seed 3; and a copy of seed 2 which, since seed 2 credits another outlet
    # ("Source link"), becomes the representative: the stored seed 2 would be updated.
    copy = write(tmp_path / "in" / "copy.txt", syndicated_text_copy(seeds[3].read_text("utf-8")))
    wire = write(tmp_path / "in" / "wire.txt", syndicated_text_copy(seeds[2].read_text("utf-8")))
    tally, listed, scratch = _dry(store, [*map(str, seeds), str(copy), str(wire)])
    assert _tree(home) == before and not scratch.exists()
    assert (tally.already_seen, tally.stored, tally.near) == (5, 0, 2)  # both join a stored story
    assert sorted((r["action"], r["path"], r["duplicate_of_location"]) for r in listed) == sorted(
        [
            ("store", str(copy.resolve()), str(seeds[3].resolve())),
            ("store", str(wire.resolve()), None),
            ("update", str(seeds[2].resolve()), str(wire.resolve())),
        ]
    )
    # a real run afterwards does what the dry run listed
    real = _ingest(store, [str(copy), str(wire)], run_id="r2")
    assert (real.stored, real.near) == (0, 2)
    rows = _stored(store)
    assert rows[seeds[2].name].duplicate_of == rows["wire.txt"].id and rows["wire.txt"].duplicate_of is None


def test_the_dry_run_table(capsys) -> None:
    from wiredesk.cli.console import Console

    row = {"source": "local", "read": 2, "stored": 1, "exact_duplicates": 0, "near_duplicates": 1}
    row |= {"already_seen": 0, "changed": 0, "failed": 0, "failed_by_reason": {}, "seconds": 0.5}
    row |= {"discovered": 2, "fetched": 0, "not_modified": 0, "skipped": {}}
    summary = {"run_id": "r", "sources": [row], "wall_seconds": 1.0, "failed_by_reason": {}}
    summary |= {k: row[k] for k in ("stored", "exact_duplicates", "near_duplicates", "already_seen", "failed")}
    summary["pages_read"] = 2
    summary["dry_run"] = {
        "note": None,
        "would_store": [
            {"title": "Talks resume", "url": "https://a.example/1", "path": None, "duplicate_of": None},
            {"title": "Talks resume (wire)", "url": None, "path": "/in/copy.txt", "duplicate_of": "abc"},
        ],
    }
    summary["dry_run"]["would_store"][0] |= {"duplicate_of_location": None, "similarity": None}
    summary["dry_run"]["would_store"][1] |= {"duplicate_of_location": "https://a.example/1", "similarity": 0.8}
    Console().run_summary(summary)
    out = capsys.readouterr().out
    assert "dry run (nothing stored): pages read 2" in out
    assert "a run would store 2 articles" in out and "https://a.example/1 (0.80)" in out and "/in/copy.txt" in out
