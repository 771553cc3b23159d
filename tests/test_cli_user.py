"""The command line as a new user meets it (issue 19, section 5), through a subprocess: one
error line with one prefix, every config problem at once, "did you mean", exit statuses as
documented, no folder created by a typo, clusters found by an article's id, stats and
clusters counting alike, CSV that CSV readers read. The dry run is in test_cli.py (Prefect)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.test_cli import wiredesk
from tests.test_store_support import make_article, new
from wiredesk.core.records import EXPORT_FIELDS, Assignment
from wiredesk.storage import open_store


def _error(proc, status: int = 2) -> str:
    assert proc.returncode == status, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].count("wiredesk: error:") == 1 and lines[0].startswith("wiredesk: error: "), lines[0]
    assert "wiredesk: error: wiredesk" not in lines[0]  # the program was named twice before
    return lines[0].removeprefix("wiredesk: error: ")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["bogus"], "unknown command 'bogus' (commands: run, extract"),
        (["sats"], "unknown command 'sats' (did you mean 'stats'?)"),
        (["run", "--input", "x", "--format", "jsnl"], "run: --format: invalid choice: 'jsnl' (did you mean 'jsonl'?)"),
        (["stats", "--sotre", "s.db"], "stats: unrecognized arguments: --sotre s.db (did you mean '--store'?)"),
        (["run", "--input", "x", "--dry-rn"], "run: unrecognized argument: --dry-rn (did you mean '--dry-run'?)"),
        (["export", "--out", "corpus.tsv"], "--out corpus.tsv: unknown format '.tsv'; the formats: jsonl (.jsonl)"),
    ],
)
def test_argument_errors_name_the_command_once_and_suggest(tmp_path: Path, args: list[str], expected: str) -> None:
    (tmp_path / "x").mkdir()
    assert _error(wiredesk(*args, cwd=tmp_path)).startswith(expected)


def test_every_config_problem_at_once_with_suggestions(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "stor:\n  url: x.db\n"  # a misspelt section
        "run:\n  batch_size: lots\n  wokers: 3\n"  # a bad value and a misspelt key
        "sources:\n  - name: a\n    feed: [http://example.com/feed]\n"  # a misspelt source key
        "dedup:\n  shingle_sise: 5\n"  # stage sections are checked in the same pass
        "fetch:\n  retries: -1\n"
    )
    (tmp_path / "in").mkdir()
    line = _error(wiredesk("run", "--input", "in", "--config", str(config), cwd=tmp_path, env={}))
    assert line.startswith(f"{config}: 6 problems: "), line
    for part in (
        "stor: unknown key (did you mean 'store'?)",
        "run.batch_size: Input should be a valid integer",
        "run.wokers: unknown key (did you mean 'workers'?)",
        "sources.0.feed: unknown key (did you mean 'feeds'?)",
        "dedup.shingle_sise: unknown key (did you mean 'shingle_size'?)",
        "fetch.retries",
    ):
        assert part in line, (part, line)
    assert not (tmp_path / "data").exists()


def test_serve_checks_the_whole_config_before_serving(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("dedup:\n  shingle_sise: 5\n")
    line = _error(wiredesk("serve", "--config", str(config), cwd=tmp_path))
    assert line == f"{config}: dedup.shingle_sise: unknown key (did you mean 'shingle_size'?)"


def test_unknown_sources_all_named_with_suggestions(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("sources:\n  - name: example-news\n    paths: [pages/*.html]\n  - name: wire\n    paths: [w/*]\n")
    line = _error(wiredesk("run", "--source", "exmple-news", "wier", "zzz", "--config", str(config), cwd=tmp_path))
    assert line == (
        "unknown sources 'exmple-news' (did you mean 'example-news'?), 'wier' (did you mean 'wire'?), 'zzz' "
        "(known: example-news, wire)"
    )


def test_a_mistyped_store_folder_is_an_error_and_creates_nothing(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("hello")
    for args in (
        ["run", "--input", "in", "--store", "dta/wiredesk.db"],
        ["run", "--input", "in", "--store", "dta/wiredesk.db", "--dry-run"],
        ["export", "--store", "dta/wiredesk.db"],
        ["stats", "--store", "dta/wiredesk.db"],
    ):
        line = _error(wiredesk(*args, cwd=tmp_path))
        assert line == f"--store dta/wiredesk.db: no folder {tmp_path / 'dta'} (create it first, or check the spelling)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # no dta/, no data/


@pytest.fixture()
def shared_store(tmp_path: Path) -> Path:
    """A store with two stories: one of three copies whose representative is not the article
    its cluster is named after (a later page credited as the original), and one alone."""
    path = tmp_path / "store" / "wiredesk.db"
    first, original, copy, alone = (make_article(i) for i in range(4))
    with open_store(str(path)) as store:
        store.write_batch(run_id="r1", articles=[first], assignments=[new(first)])
        store.write_batch(
            run_id="r2",
            articles=[original, copy, alone],
            assignments=[
                Assignment(article_id=original.id, cluster_id=first.id, kind="near"),  # the new representative
                Assignment(
                    article_id=copy.id, cluster_id=first.id, kind="exact", duplicate_of=original.id, similarity=1.0
                ),
                new(alone),
            ],
            # the first page becomes a copy of the original; its cluster keeps its name
            updates=[
                Assignment(
                    article_id=first.id, cluster_id=first.id, kind="near", duplicate_of=original.id, similarity=0.9
                )
            ],
        )
    return path


def test_clusters_accepts_the_representatives_id(shared_store: Path, tmp_path: Path) -> None:
    listed = json.loads(wiredesk("clusters", "--json", "--store", str(shared_store), cwd=tmp_path).stdout)
    assert len(listed) == 1
    cluster = listed[0]
    assert cluster["representative"] != cluster["cluster_id"]  # the case that failed
    by_cluster = json.loads(
        wiredesk("clusters", cluster["cluster_id"], "--json", "--store", str(shared_store), cwd=tmp_path).stdout
    )
    by_rep = wiredesk("clusters", cluster["representative"], "--json", "--store", str(shared_store), cwd=tmp_path)
    assert by_rep.returncode == 0, by_rep.stderr
    assert json.loads(by_rep.stdout) == by_cluster and len(by_cluster["members"]) == 3
    line = _error(wiredesk("clusters", "0123456789abcdef", "--store", str(shared_store), cwd=tmp_path))
    assert line == "clusters: no cluster and no article '0123456789abcdef' in the store"


def test_stats_and_clusters_count_alike(shared_store: Path, tmp_path: Path) -> None:
    stats = json.loads(wiredesk("stats", "--json", "--store", str(shared_store), cwd=tmp_path).stdout)
    listed = json.loads(wiredesk("clusters", "--json", "--store", str(shared_store), cwd=tmp_path).stdout)
    assert stats["clusters"] == len(listed) == 1  # stats counted every story as a cluster (2)
    assert stats["articles_in_clusters"] == sum(c["size"] for c in listed) == 3
    assert stats["stories"] == stats["representatives"] == 2
    assert stats["duplicates"] == sum(c["size"] - 1 for c in listed)
    table = wiredesk("clusters", "--limit", "1", "--min-size", "1", "--store", str(shared_store), cwd=tmp_path)
    assert "1 of 2 clusters" in table.stdout  # a cut list says so


def test_exit_statuses(shared_store: Path, tmp_path: Path) -> None:
    # 2: what was typed is wrong, the store included
    _error(wiredesk("stats", "--store", str(tmp_path / "nothing.db"), cwd=tmp_path), status=2)
    # 1: the store is there but cannot be used
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database" * 100)
    assert "cannot open store" in _error(wiredesk("stats", "--store", str(broken), cwd=tmp_path), status=1)
    assert wiredesk("stats", "--store", str(shared_store), cwd=tmp_path).returncode == 0


def test_csv_export_is_real_csv(shared_store: Path, tmp_path: Path) -> None:
    with open_store(str(shared_store)) as store:
        odd = make_article(9, text='Line one, with a comma.\nLine "two" with quotes.\r\nLine three.')
        store.write_batch(run_id="r3", articles=[odd], assignments=[new(odd)])
    out = tmp_path / "corpus.csv"
    done = wiredesk("export", "--all", "--out", str(out), "--store", str(shared_store), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    raw = out.read_bytes()
    assert raw.startswith(",".join(EXPORT_FIELDS).encode() + b"\r\n") and not raw.startswith(b"{")
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 5 and tuple(rows[0]) == EXPORT_FIELDS
    text = next(r["text"] for r in rows if r["id"] == odd.id)
    assert text == odd.text  # commas, quotes and both newlines survive
    import duckdb
    import pandas as pd

    frame = pd.read_csv(out)
    assert len(frame) == 5 and frame.loc[frame["id"] == odd.id, "text"].item() == odd.text
    n, nulls, sims = (
        duckdb.connect()
        .execute(f"SELECT count(*), count(*) - count(author), sum(similarity) FROM read_csv('{out}')")
        .fetchone()
    )
    assert (n, nulls) == (5, sum(1 for r in rows if r["author"] == "")) and sims == pytest.approx(1.9)
    manifest = json.loads((tmp_path / "corpus.csv.manifest.json").read_text())
    assert manifest["fmt"] == "csv" and manifest["records"] == 5
