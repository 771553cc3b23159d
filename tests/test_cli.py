"""The CLI through a subprocess, as users run it: one-line errors, extract, run twice, export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pipeline_helpers import syndicated_text_copy, write


def wiredesk(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "wiredesk.cli", *args],
        cwd=cwd,
        env=full_env,
        text=True,
        capture_output=True,
        timeout=timeout,
    )


def _one_line_error(proc: subprocess.CompletedProcess[str], needle: str) -> None:
    # 2: the user's words were wrong (argument, config, input, a store that is not there)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("wiredesk: error: ") and needle in lines[0], lines[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (["run"], {}, "--input"),
        (["run", "--input", "nope/"], {}, "'nope/': no such file or directory"),
        (["run", "--input", "x", "--limit", "0"], {}, "--limit must be at least 1"),
        (["run", "--input", "x", "--format", "xml"], {}, "invalid choice: 'xml'"),
        (["run", "--input", "x"], {"WIREDESK_STORE__PATH": "a"}, "store.path: unknown key"),
        (["run", "--input", "x"], {"WIREDESK_RUN__WORKERS": "-1"}, "run.workers"),
        (["run", "--source", "nosuch"], {}, "unknown source 'nosuch'"),
        (["run", "--input", ".", "--manifest", "missing.jsonl"], {}, "manifest missing.jsonl: no such file"),
        (["export", "--store", "missing.db"], {}, "no store at"),
        (["extract", "missing.html"], {}, "missing.html: no such file"),
        (["bogus"], {}, "unknown command 'bogus'"),
        (["run", "--input", "x", "--since", "yesterday"], {}, "--since: not an ISO 8601 date"),
        (["run", "--input", "x", "--out", "/proc/x.jsonl"], {}, "cannot write in /proc"),
        (["run", "--input", "x"], {"WIREDESK_DEDUP__WINDOW_DAYS": "-3"}, "config: dedup: window_days"),
        (["run", "--input", "x"], {"WIREDESK_FETCH__RETRIES": "-1"}, "fetch.retries"),
        (["export", "--out", "c.parquet", "--format", "jsonl"], {}, "looks like parquet but --format is jsonl"),
        (["clusters", "--limit", "0"], {}, "--limit: must be at least 1"),
    ],
)
def test_bad_arguments_are_one_line_errors(tmp_path: Path, args: list[str], env: dict[str, str], needle: str) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "a.txt").write_text("hello")
    _one_line_error(wiredesk(*args, cwd=tmp_path, env=env), needle)


def test_bad_config_file_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("run:\n  batch_size: lots\n")
    _one_line_error(wiredesk("run", "--input", ".", "--config", str(config), cwd=tmp_path), "run.batch_size")


def test_extract_text_and_json(samples_dir: Path, tmp_path: Path) -> None:
    seed = sorted((samples_dir / "seeds").glob("*.txt"))[0]
    text = wiredesk("extract", str(seed), cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "Skip to main content" not in text.stdout
    assert "Antonov said" in text.stdout
    record = json.loads(wiredesk("extract", str(seed), "--json", cwd=tmp_path).stdout)
    assert record["text"].strip() == text.stdout.strip()
    assert len(record["content_hash"]) >= 32 and record["path"] == str(seed.resolve())


@pytest.mark.prefect
def test_run_twice_then_export_stats_clusters(samples_dir: Path, tmp_path: Path, prefect_api: str) -> None:
    env = {"PREFECT_API_URL": prefect_api}
    seeds = samples_dir / "seeds"
    copy = write(
        tmp_path / "more" / "copy.txt", syndicated_text_copy(sorted(seeds.glob("*.txt"))[1].read_text("utf-8"))
    )
    first = wiredesk("run", "--input", str(seeds), str(copy), "--json", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert (summary["pages_read"], summary["stored"], summary["near_duplicates"], summary["failed"]) == (6, 5, 1, 0)
    corpus = tmp_path / "data" / "corpus.jsonl"  # the embedded default, relative to the working directory
    records = [json.loads(line) for line in corpus.read_text().splitlines()]
    assert len(records) == 5 and all(r["duplicate_of"] is None for r in records)
    from wiredesk.core.records import EXPORT_FIELDS

    assert all(tuple(r) == EXPORT_FIELDS for r in records)

    second = wiredesk("run", "--input", str(seeds), str(copy), cwd=tmp_path, env=env)
    assert second.returncode == 0, second.stderr
    assert "new articles stored 0" in second.stdout and "already seen 6" in second.stdout

    out = tmp_path / "all.parquet"
    exported = wiredesk("export", "--all", "--format", "parquet", "--out", str(out), cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    import pyarrow.parquet as pq

    table = pq.read_table(out)
    assert table.num_rows == 6 and table.column_names == list(EXPORT_FIELDS)
    dup = [r for r in table.to_pylist() if r["duplicate_of"]]
    assert len(dup) == 1 and dup[0]["path"] == str(copy.resolve())

    clusters = json.loads(wiredesk("clusters", "--json", cwd=tmp_path).stdout)
    assert len(clusters) == 1 and clusters[0]["size"] == 2
    one = json.loads(wiredesk("clusters", clusters[0]["cluster_id"], "--json", cwd=tmp_path).stdout)
    assert len(one["members"]) == 2
    stats = json.loads(wiredesk("stats", "--json", cwd=tmp_path).stdout)
    assert stats["articles"] == 6


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every path under root with its bytes (None for folders): what a dry run must not change."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


@pytest.mark.prefect
def test_dry_run_creates_nothing_and_lists_what_it_would_store(
    samples_dir: Path, tmp_path: Path, prefect_api: str
) -> None:
    env = {"PREFECT_API_URL": prefect_api}
    seeds = sorted((samples_dir / "seeds").glob("*.txt"))
    work = tmp_path / "work"
    copy = write(tmp_path / "in" / "copy.txt", syndicated_text_copy(seeds[1].read_text("utf-8")))
    work.mkdir()

    # No store yet: the dry run creates none (no data/ folder, no lock file, no export). A dry
    # run on an existing store is tested without Prefect in test_pipeline_dryrun.py.
    dry = wiredesk("run", "--input", *map(str, seeds), str(copy), "--dry-run", "--json", cwd=work, env=env)
    assert dry.returncode == 0, dry.stderr
    assert list(work.iterdir()) == []
    listed = json.loads(dry.stdout)["dry_run"]["would_store"]
    assert len(listed) == 6 and {r["path"] for r in listed} == {str(p.resolve()) for p in [*seeds, copy]}
    copies = [r for r in listed if r["duplicate_of"]]
    assert [(r["path"], r["duplicate_of_location"]) for r in copies] == [(str(copy.resolve()), str(seeds[1].resolve()))]
