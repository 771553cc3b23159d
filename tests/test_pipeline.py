"""The pipeline without Prefect: read -> extract -> dedup -> store, on real files and SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pipeline_helpers import syndicated_html_copy, syndicated_text_copy, write
from wiredesk.config import load_config
from wiredesk.fetching.files import expand_inputs
from wiredesk.pipeline import batch as pipeline
from wiredesk.pipeline.report import SourceTally


def _config(store: str):
    return load_config(environ={}).with_overrides(store={"url": store}, run={"workers": 1})


def _ingest(store: str, paths: list[str], run_id: str = "r1") -> SourceTally:
    tally = SourceTally(source="local")
    with pipeline.open_stages(_config(store), run_id=run_id) as stages:
        stages.store.begin_run(run_id, flow="test", params={})
        files = expand_inputs(paths)
        pages, failures = pipeline.read_files(files, source="local", manifest=None, max_bytes=10_000_000, tally=tally)
        pipeline.ingest_pages(stages, pages, tally=tally, failures=failures)
        stages.store.finish_run(run_id, status="completed", summary={})
    return tally


def _stored(store: str) -> dict[str, object]:
    from wiredesk.storage import open_store

    with open_store(store) as st:
        rows = {}
        for seq_article in st.iter_since(0):
            rows[Path(seq_article.article.path or "").name] = seq_article
        return rows


@pytest.fixture()
def seeds(samples_dir: Path) -> Path:
    seeds = samples_dir / "seeds"
    assert len(list(seeds.glob("*.txt"))) == 5, "samples/seeds must hold the five seed pages"
    return seeds


def test_seeds_are_five_distinct_articles(seeds: Path, store_path: str) -> None:
    tally = _ingest(store_path, [str(seeds)])
    assert (tally.read, tally.stored, tally.exact, tally.near, sum(tally.failed.values())) == (5, 5, 0, 0, 0)
    rows = _stored(store_path)
    assert len({r.cluster_id for r in rows.values()}) == 5
    assert all(r.duplicate_of is None for r in rows.values())


def test_syndicated_copies_merge_and_same_topic_stays_apart(seeds: Path, store_path: str, tmp_path: Path) -> None:
    first = sorted(seeds.glob("*.txt"))[0]
    original = first.read_text(encoding="utf-8")
    copies = tmp_path / "copies"
    write(copies / "wire-copy.txt", syndicated_text_copy(original))
    write(copies / "wire-copy.html", syndicated_html_copy(original))
    write(copies / "exact-copy.txt", original)
    tally = _ingest(store_path, [str(seeds), str(copies)])
    assert tally.stored == 5, tally.as_row()
    assert tally.exact == 1 and tally.near == 2, tally.as_row()
    rows = _stored(store_path)
    seed_row = rows[first.name]
    cluster = [rows[n] for n in (first.name, "wire-copy.txt", "wire-copy.html", "exact-copy.txt")]
    assert {r.cluster_id for r in cluster} == {seed_row.cluster_id}
    # the representative is a complete copy (the seed or its exact twin), never a trimmed one
    reps = [r for r in cluster if r.duplicate_of is None]
    assert len(reps) == 1 and reps[0].article.path.endswith((first.name, "exact-copy.txt"))
    assert all(r.duplicate_of == reps[0].id for r in cluster if r is not reps[0])
    others = [r for n, r in rows.items() if n.endswith(".txt") and n[:3].isdigit() and n != first.name]
    assert len({r.cluster_id for r in others} | {seed_row.cluster_id}) == 5


def test_rerun_is_idempotent_and_later_runs_dedup_against_the_store(
    seeds: Path, store_path: str, tmp_path: Path
) -> None:
    first = _ingest(store_path, [str(seeds)], run_id="r1")
    assert first.stored == 5
    again = _ingest(store_path, [str(seeds)], run_id="r2")
    assert (again.stored, again.exact, again.near, again.already_seen) == (0, 0, 0, 5)
    copy = write(
        tmp_path / "later" / "copy.txt",
        syndicated_text_copy(
            sorted(seeds.glob("*.txt"))[2].read_text("utf-8"), keep=0.65, dateline="LONDON, Nov 19 (AFP) - "
        ),
    )
    later = _ingest(store_path, [str(copy)], run_id="r3")
    assert (later.stored, later.near) == (0, 1), later.as_row()
    assert len(_stored(store_path)) == 6


def test_bad_inputs_are_recorded_and_nothing_stored_is_touched(seeds: Path, store_path: str, tmp_path: Path) -> None:
    _ingest(store_path, [str(seeds)], run_id="r1")
    before = {n: r.article.content_hash for n, r in _stored(store_path).items()}
    bad = tmp_path / "bad"
    write(bad / "empty.html", "")
    (bad / "binary.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20)
    prose = (
        "Le café de la place accueille chaque matin des habitants qui débattent de la réforme annoncée "
        "par le gouvernement, une réforme jugée à la fois nécessaire et précipitée par les élus locaux. "
    )
    write(
        bad / "cp1252.txt", "Actualité\n\n" + prose * 3 + "\n\n" + prose.replace("matin", "soir") * 2, encoding="cp1252"
    )
    other = (
        "Au théâtre municipal, la troupe répète depuis l'été une pièce écrite par une autrice du quartier, "
        "et les billets de la première se sont vendus en quelques heures à peine, à la surprise générale. "
    )
    write(
        bad / "meta.html",
        "<html><head><meta charset='windows-1252'><title>Été</title></head><body><article><p>"
        + other * 3
        + "</p><p>"
        + other.replace("première", "dernière") * 2
        + "</p></article></body></html>",
        encoding="cp1252",
    )
    tally = _ingest(store_path, [str(bad)], run_id="r2")
    assert tally.failed["empty"] == 1 and tally.failed["binary"] == 1, tally.as_row()
    assert tally.stored == 2, tally.as_row()
    rows = _stored(store_path)
    assert "café" in rows["cp1252.txt"].article.text
    assert "théâtre" in rows["meta.html"].article.text
    assert {n: r.article.content_hash for n, r in rows.items() if n in before} == before


def test_a_file_keeps_its_identity_when_a_manifest_adds_urls(
    samples_dir: Path, store_path: str, tmp_path: Path
) -> None:
    """Files are identified by path: a later run with a manifest (or two manifest rows naming
    one URL) neither stores a file twice nor drops one."""
    seeds = sorted((samples_dir / "seeds").glob("*.txt"))
    _ingest(store_path, [str(samples_dir / "seeds")], run_id="r1")
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(f'{{"file": "{p}", "url": "https://same.example/story"}}\n' for p in seeds[:2]))
    from wiredesk.fetching.files import load_manifest

    tally = SourceTally(source="local")
    with pipeline.open_stages(_config(store_path), run_id="r2") as stages:
        pages, failures = pipeline.read_files(
            seeds, source="local", manifest=load_manifest(manifest), max_bytes=10_000_000, tally=tally
        )
        pipeline.ingest_pages(stages, pages, tally=tally, failures=failures)
    assert (tally.stored, tally.exact, tally.near, tally.already_seen) == (0, 0, 0, 5)
    rows = _stored(store_path)
    assert len(rows) == 5 and {r.article.path for r in rows.values()} == {str(p.resolve()) for p in seeds}


def test_profiles_are_saved_under_the_key_extraction_looks_up(store_path: str, tmp_path: Path) -> None:
    """What the pipeline learns per host must be what extract_many finds for the next page."""
    from wiredesk.core.records import RawPage
    from wiredesk.extractors import profile_host

    page = RawPage(source="wire", body=b"x", kind="html", url="https://www.example.com/a")
    assert pipeline.profile_key(page, named_source=False) == profile_host(page)
    on_disk = RawPage(source="wire", body=b"x", kind="text", path="/d/a.txt")
    assert pipeline.profile_key(on_disk, named_source=True) == profile_host(on_disk)
    assert pipeline.profile_key(on_disk, named_source=False) is None  # ad-hoc files learn nothing


def test_public_api_runs_a_whole_run_without_prefect(seeds: Path, tmp_path: Path) -> None:
    """``wiredesk.pipeline.Pipeline`` is the product without Prefect: a full run (read, extract,
    dedup, store, export) from plain Python, in a fresh interpreter that never imports prefect."""
    import json
    import subprocess
    import sys

    code = f"""
import json, sys
from wiredesk.pipeline import Pipeline
with Pipeline.open(store={str(tmp_path / "s.db")!r}, out={str(tmp_path / "c.jsonl")!r}, workers=1) as pipe:
    first = pipe.run(inputs=[{str(seeds)!r}])
    again = pipe.run(inputs=[{str(seeds)!r}])
print(json.dumps({{"first": first, "again": again, "prefect": sorted(m for m in sys.modules if m.startswith("prefect"))}}))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["prefect"] == []
    assert (out["first"]["pages_read"], out["first"]["stored"], out["first"]["failed"]) == (5, 5, 0)
    assert (out["again"]["stored"], out["again"]["already_seen"]) == (0, 5)
    lines = (tmp_path / "c.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5 and all(json.loads(line)["text"] for line in lines)


def test_public_api_takes_pages_of_your_own(tmp_path: Path) -> None:
    from wiredesk.core.records import RawPage
    from wiredesk.pipeline import Pipeline

    story = " ".join(
        f"Sentence number {i} of a story about the harbour council and its new ferry plan." for i in range(30)
    )
    pages = [
        RawPage(
            source="mine",
            kind="html",
            body=f"<html><body><article><h1>Ferry</h1><p>{story}</p></article></body></html>".encode(),
            url=f"https://outlet-{n}.example/story",
        )
        for n in range(3)
    ]
    with Pipeline.open(store=str(tmp_path / "s.db"), workers=1) as pipe:
        tally = pipe.ingest_pages(pages, source="mine")
        result = pipe.export(str(tmp_path / "corpus.jsonl"))
    assert (tally.stored, tally.exact + tally.near) == (1, 2)
    assert result["records"] == 1
    assert len((tmp_path / "corpus.jsonl").read_text(encoding="utf-8").splitlines()) == 1
