"""Overlapped batches: while one batch of page files is deduplicated and stored, the extraction
pool already works on the next. The results must be those of the batches run one after another
(same articles, ids, clusters, counts), at most two batches may be in flight, and a kill
mid-run leaves a consistent store that the next run completes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.pipeline_helpers import syndicated_html_copy, syndicated_text_copy, write


def _corpus(tmp_path: Path, samples_dir: Path) -> Path:
    """60 pages: the 5 seeds, copies of each as text and HTML (syndicated, exact re-posts),
    the sample HTML pages, and a few that fail (empty, not a page)."""
    out = tmp_path / "pages"
    for i, seed in enumerate(sorted((samples_dir / "seeds").glob("*.txt"))):
        text = seed.read_text("utf-8")
        write(out / f"{i}-seed.txt", text)
        write(out / f"{i}-exact.txt", text)
        for j, keep in enumerate((0.95, 0.9, 0.85, 0.8, 0.75, 0.7)):
            write(out / f"{i}-copy{j}.txt", syndicated_text_copy(text, keep=keep))
        for j, keep in enumerate((0.9, 0.8, 0.7)):
            write(out / f"{i}-html{j}.html", syndicated_html_copy(text, keep=keep, title=f"Wire story {i}"))
    for page in sorted((samples_dir / "html").glob("*.html")):
        write(out / f"sample-{page.name}", page.read_text("utf-8", errors="replace"))
    write(out / "empty.html", "")
    write(out / "blank.txt", "   \n")
    return out


def _records(corpus: Path) -> list[tuple]:
    rows = [json.loads(line) for line in corpus.read_text("utf-8").splitlines()]
    fields = ("id", "source", "path", "text", "title", "content_hash", "cluster_id", "duplicate_of", "language")
    return sorted(tuple(r.get(f) for f in fields) for r in rows)


_COUNTS = ("pages_read", "stored", "exact_duplicates", "near_duplicates", "already_seen", "changed", "failed_by_reason")


def _counts(summary: dict) -> dict:
    return {k: summary.get(k) for k in _COUNTS}


def _sequential_reference(pages: Path, work: Path, *, batch_size: int) -> tuple[dict, list[tuple]]:
    """Today's lock-step path, by hand: fixed batches, each read, extracted in this process,
    deduplicated and stored before the next is read."""
    from wiredesk.fetching.files import expand_inputs
    from wiredesk.pipeline import resolve_config
    from wiredesk.pipeline.batch import chunks, open_stages
    from wiredesk.pipeline.report import SourceTally, summarise
    from wiredesk.pipeline.run import export_stages
    from wiredesk.pipeline.sources import ingest_file_batch

    config = resolve_config(
        None, store=str(work / "w.db"), out=str(work / "corpus.jsonl"), include_duplicates=True, workers=1
    )
    tally = SourceTally(source="local")
    with open_stages(config, run_id="reference") as stages:
        files = expand_inputs([str(pages)], source="local")
        tally.discovered = len(files)
        for batch in chunks(files, batch_size):
            tally.merge(ingest_file_batch(stages, batch, source="local", named_source=False, manifest=None))
        export_stages(stages)
    return summarise("reference", [tally], wall_seconds=0.0, export=None), _records(work / "corpus.jsonl")


def _overlapped(pages: Path, work: Path, **run: object) -> tuple[dict, list[tuple], dict]:
    """The pipeline's own path (Python API), with the extraction pool, watched: how many
    batches were in flight at once and the most pages queued in the pool."""
    from wiredesk.pipeline import Pipeline, batch, sources

    seen = {"prepared": 0, "stored": 0, "in_flight": 0, "pool_pending": 0, "pooled": 0, "sizes": []}
    prepare, store = batch.prepare_pages, sources.store_prepared

    def watched_prepare(stages, *args, **kwargs):
        prepared = prepare(stages, *args, **kwargs)
        seen["prepared"] += 1
        seen["sizes"].append(len(prepared.pages) + len(prepared.failures))  # files taken (read or not)
        seen["in_flight"] = max(seen["in_flight"], seen["prepared"] - seen["stored"])
        seen["pooled"] += prepared.extraction is not None
        return prepared

    def watched_store(stages, prepared):
        result = store(stages, prepared)
        seen["stored"] += 1
        pool = stages.extract_pool(0)
        if pool is not None:
            seen["pool_pending"] = max(seen["pool_pending"], pool.max_pending)
        return result

    batch.prepare_pages, sources.store_prepared = watched_prepare, watched_store
    try:
        with Pipeline.open(
            store=str(work / "w.db"), out=str(work / "corpus.jsonl"), include_duplicates=True, workers=2
        ) as pipe:
            pipe.config = pipe.config.with_overrides(run=run)
            summary = pipe.run(inputs=[str(pages)])
    finally:
        batch.prepare_pages, sources.store_prepared = prepare, store
    return summary, _records(work / "corpus.jsonl"), seen


def test_overlapped_batches_store_what_the_sequential_path_stores(tmp_path: Path, samples_dir: Path) -> None:
    pages = _corpus(tmp_path, samples_dir)
    ref_summary, ref_records = _sequential_reference(pages, tmp_path / "ref", batch_size=9)
    # Fixed batches of 9 (batch_seconds so large that the cap decides), then batches sized by
    # the measured throughput (tiny batch_seconds: many small batches, several in flight).
    for name, run in {"fixed": {"batch_size": 9, "batch_seconds": 3600}, "timed": {"batch_seconds": 0.01}}.items():
        summary, records, seen = _overlapped(pages, tmp_path / name, **run)
        assert _counts(summary) == _counts(ref_summary), name
        assert records == ref_records, name
        assert seen["pooled"] >= 2, seen  # extraction went through the run's pool
        assert seen["in_flight"] == 2, seen  # the next batch was extracting while one was stored...
    assert ref_summary["stored"] >= 5 and ref_summary["near_duplicates"] >= 20  # the corpus has copies


def test_at_most_two_batches_in_flight(tmp_path: Path, samples_dir: Path) -> None:
    pages = _corpus(tmp_path, samples_dir)
    files = len(list(pages.iterdir()))
    summary, _, seen = _overlapped(pages, tmp_path / "run", batch_size=8, batch_seconds=3600)
    assert seen["prepared"] == seen["stored"] == -(-files // 8)  # every batch of 8, once
    assert seen["in_flight"] == 2, seen  # overlapped, and never more than one batch ahead
    assert 8 < seen["pool_pending"] <= 16, seen  # pages queued in the pool: two batches at most
    assert summary["pages_read"] == files


def test_the_last_batches_taper_off(tmp_path: Path, samples_dir: Path) -> None:
    """Batches sized by time take at most half of the files left (never fewer than the first
    batch's 8): the run does not end on a full batch to deduplicate and store while the pool's
    processes sit idle. With fixed batches of 12, the 61 pages would end 12, 12, 9."""
    pages = _corpus(tmp_path, samples_dir)
    summary, _, seen = _overlapped(pages, tmp_path / "run", batch_size=12, batch_seconds=3600)
    sizes = seen["sizes"]
    assert sum(sizes) == summary["pages_read"] > 50, (sizes, summary)
    left = summary["pages_read"]
    for size in sizes:
        assert size <= max(8, -(-left // 2)), sizes
        left -= size
    assert sizes[-1] <= 8 and max(sizes) == 12, sizes  # full batches while there are many files left


def test_a_batch_that_needs_the_one_before_waits_for_it(tmp_path: Path, samples_dir: Path) -> None:
    """A configured source's pages share their host's furniture memory: each batch is
    extracted with what the one before learned, as in the sequential path."""
    from wiredesk.pipeline import Pipeline

    pages = _corpus(tmp_path, samples_dir)
    results = {}
    for workers in (1, 2):
        work = tmp_path / f"w{workers}"
        config = work / "wiredesk.yaml"
        write(
            config,
            f"store: {{url: {work / 'w.db'}}}\nexport: {{out: {work / 'corpus.jsonl'}, include_duplicates: true}}\n"
            f"run: {{batch_size: 6, workers: {workers}}}\nsources:\n  - name: wire\n    paths: ['{pages}']\n",
        )
        with Pipeline.open(str(config)) as pipe:
            summary = pipe.run()
        results[workers] = (_counts(summary), _records(work / "corpus.jsonl"))
    assert results[2] == results[1]


@pytest.mark.prefect
@pytest.mark.slow
def test_the_flow_stores_what_the_sequential_path_stores(tmp_path: Path, samples_dir: Path) -> None:
    """The same through Prefect: a task run per batch (never per page), batches overlapped."""
    from wiredesk.flows.ingest import ingest, run_by_hand

    pages = _corpus(tmp_path, samples_dir)
    ref_summary, ref_records = _sequential_reference(pages, tmp_path / "ref", batch_size=200)
    work = tmp_path / "flow"
    summary = run_by_hand(
        ingest,
        inputs=[str(pages)],
        store=str(work / "w.db"),
        out=str(work / "corpus.jsonl"),
        include_duplicates=True,
        workers=2,
    )
    assert _counts(summary) == _counts(ref_summary)
    assert _records(work / "corpus.jsonl") == ref_records


_KILLED_RUN = """
import sys
from wiredesk.pipeline import Pipeline
from wiredesk.storage import Store

if __name__ == "__main__":
    store, pages = sys.argv[1], sys.argv[2]
    write_batch = Store.write_batch

    def announcing(self, **kwargs):
        seq = write_batch(self, **kwargs)
        print("stored", flush=True)
        return seq

    Store.write_batch = announcing
    with Pipeline.open(store=store, workers=2, batch_size=8) as pipe:
        pipe.run(inputs=[pages], export=False)
    print("done", flush=True)
"""


def test_a_kill_mid_run_leaves_a_consistent_store(tmp_path: Path, samples_dir: Path) -> None:
    """SIGKILL after a few commits, with one batch extracting in the pool while the one before
    is stored: what is stored is whole, and the next run stores the rest, as a clean run does."""
    from tests.test_crash import _check_consistent
    from wiredesk.storage import open_store

    pages = _corpus(tmp_path, samples_dir)
    store = str(tmp_path / "killed" / "w.db")
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_RUN, store, str(pages)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    assert proc.stdout is not None
    stored = 0
    for line in proc.stdout:
        stored += line.strip() == "stored"
        if stored == 3:  # of 8 batches; the fourth is in the pool now
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    with open_store(store) as st:
        partial = {r.article.location for r in st.iter_since(0)}
    assert partial, "nothing was stored before the kill"
    _check_consistent(store, partial)
    from wiredesk.pipeline import Pipeline

    with Pipeline.open(store=store, workers=2, batch_size=8) as pipe:
        pipe.run(inputs=[str(pages)], export=False)
    clean = str(tmp_path / "clean" / "w.db")
    with Pipeline.open(store=clean, workers=2, batch_size=8) as pipe:
        pipe.run(inputs=[str(pages)], export=False)
    with open_store(clean) as st:
        expected = {r.article.location for r in st.iter_since(0)}
    assert _check_consistent(store, expected) == _check_consistent(clean, expected)


def test_pages_of_your_own_overlap_and_match_one_process(tmp_path: Path, samples_dir: Path) -> None:
    """``Pipeline.ingest_pages`` takes an iterator batch by batch, overlapped with the pool."""
    from wiredesk.core.errors import InputError
    from wiredesk.fetching.files import expand_inputs, read_page
    from wiredesk.pipeline import Pipeline

    pages = _corpus(tmp_path, samples_dir)

    def read_lazily():
        for file in expand_inputs([str(pages)], source="mine"):
            try:
                yield read_page(file.path, source="mine", key=file.key)
            except InputError:  # the empty page
                continue

    results = {}
    for workers in (1, 2):
        work = tmp_path / f"own{workers}"
        with Pipeline.open(store=str(work / "w.db"), workers=workers, batch_size=9, include_duplicates=True) as pipe:
            tally = pipe.ingest_pages(read_lazily(), source="mine")
            pipe.export(str(work / "corpus.jsonl"))
        results[workers] = (tally.as_row() | {"seconds": None}, _records(work / "corpus.jsonl"))
    assert results[2] == results[1]
    assert results[2][0]["stored"] >= 5
