"""datasketch at the boundary: LeanMinHash from the public API, signatures in the export, and
the dedup/README.md example querying an exported corpus with datasketch's own MinHashLSH."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash, MinHashLSH

from tests.test_dedup_core import Store, art, run, story, syndicate
from wiredesk.dedup import Deduplicator, DedupSettings, Sketcher, article_minhash, open_index
from wiredesk.dedup.text import shingle_hashes

README = Path(__file__).resolve().parent.parent / "dedup" / "README.md"


def test_public_api_hands_out_leanminhash_equal_to_datasketch():
    rng = random.Random(5)
    text = story(rng)
    settings = DedupSettings()
    dedup = Deduplicator(settings, open_index("memory://", settings=settings), Store().lookup)
    ours = dedup.minhash(art("a", text))
    assert isinstance(ours, LeanMinHash)
    theirs = MinHash(num_perm=128, seed=1, hashfunc=Sketcher().signer.datasketch_hashfunc)
    theirs.update_batch([int(h) for h in shingle_hashes(text, settings.shingle_size)])
    assert np.array_equal(ours.hashvalues, theirs.hashvalues)
    assert np.array_equal(article_minhash(text).hashvalues, ours.hashvalues)
    sketcher = Sketcher(settings)
    sigs = sketcher.signatures([text, "", syndicate(text, rng)])
    assert sigs.shape == (3, 128) and np.array_equal(sigs[0], ours.hashvalues)
    assert (sigs[1] == 0xFFFFFFFF).all()  # empty text: datasketch's empty MinHash
    assert sketcher.minhashes([text])[0].jaccard(ours) == 1.0
    assert 0.2 < sketcher.minhash(syndicate(text, rng)).jaccard(ours) < 1.0
    lsh = MinHashLSH(num_perm=128, params=sketcher.lsh_params())
    lsh.insert("a", ours)
    assert lsh.query(sketcher.minhash(syndicate(text, rng))) == ["a"]


def _store_with_a_story(target: str) -> tuple[list, dict]:
    """A store holding a story, two syndicated copies and unrelated stories, as the pipeline
    stores them (the dedup stage's verdicts written by the real store)."""
    from wiredesk.storage import open_store

    rng = random.Random(11)
    text = story(rng)
    arts = [art("orig", text, url="https://o.example/1")]
    arts += [art(f"copy{i}", syndicate(text, rng), url=f"https://c{i}.example/1") for i in range(2)]
    arts += [art(f"other{i}", story(rng), url=f"https://x{i}.example/1") for i in range(4)]
    settings = DedupSettings()
    mem = Store()
    dedup = Deduplicator(settings, open_index("memory://", settings=settings), mem.lookup)
    result = run(dedup, mem, arts)
    with open_store(target) as st:
        st.write_batch(run_id="r", articles=arts, assignments=result.assignments)
    return arts, {a.article_id: a for a in result.assignments}


def _readme_example() -> str:
    section = README.read_text(encoding="utf-8").split("## datasketch at the boundary", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_export_signatures_then_the_readme_example_queries_them(tmp_path: Path, fmt: str):
    from wiredesk.storage import export_corpus, open_store

    target = str(tmp_path / "db" / "wiredesk.db")
    arts, verdicts = _store_with_a_story(target)
    assert verdicts["copy0"].cluster_id == verdicts["copy1"].cluster_id == "orig"
    out = tmp_path / "data" / f"corpus.{fmt}"
    with open_store(target) as st:
        res = export_corpus(st, str(out), fmt=fmt, include_duplicates=True, signing=Sketcher())
    manifest = json.loads(Path(res.manifest).read_text())
    assert manifest["signatures"] == DedupSettings().signature_params() and manifest["fields"][-1] == "signature"
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.read_table(out)
        assert table.schema.field("signature").type == pa.list_(pa.uint32())
        records = table.to_pylist()
        out = tmp_path / "data" / "corpus.jsonl"
        out.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    else:
        records = [json.loads(line) for line in out.read_text().splitlines()]
    by_id = {r["id"]: r for r in records}
    for a in arts:
        assert by_id[a.id]["signature"] == Sketcher().signature(a.text).tolist()

    namespace: dict = {}
    code = _readme_example().replace('"data/corpus.jsonl"', repr(str(out)))
    exec(compile(code, str(README), "exec"), namespace)  # the documented example, as written
    first = namespace["first"]["id"]
    assert set(namespace["candidates"]) >= {
        a for a, v in verdicts.items() if v.cluster_id == verdicts[first].cluster_id
    }
    assert namespace["similar"][first] == 1.0
    assert first in namespace["found"]


def test_export_without_signatures_is_unchanged(tmp_path: Path):
    from wiredesk.core.records import EXPORT_FIELDS
    from wiredesk.storage import export_corpus, open_store

    target = str(tmp_path / "db" / "wiredesk.db")
    _store_with_a_story(target)
    with open_store(target) as st:
        res = export_corpus(st, str(tmp_path / "c.jsonl"))
    records = [json.loads(line) for line in (tmp_path / "c.jsonl").read_text().splitlines()]
    assert all(tuple(r) == EXPORT_FIELDS for r in records)
    assert json.loads(Path(res.manifest).read_text())["signatures"] is None


def test_cli_export_signatures(tmp_path: Path):
    from tests.test_cli import wiredesk

    target = str(tmp_path / "db" / "wiredesk.db")
    arts, _ = _store_with_a_story(target)
    proc = wiredesk("export", "--store", target, "--all", "--signatures", "--out", "c.jsonl", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    records = {json.loads(line)["id"]: json.loads(line) for line in (tmp_path / "c.jsonl").read_text().splitlines()}
    assert {a.id: Sketcher().signature(a.text).tolist() for a in arts} == {
        i: r["signature"] for i, r in records.items()
    }


@pytest.mark.prefect
def test_cli_run_signatures(samples_dir: Path, tmp_path: Path, prefect_api: str):
    from tests.test_cli import wiredesk

    seeds = samples_dir / "seeds"
    proc = wiredesk(
        "run", "--input", str(seeds), "--signatures", "--out", "corpus.jsonl", cwd=tmp_path,
        env={"PREFECT_API_URL": prefect_api},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in (tmp_path / "corpus.jsonl").read_text().splitlines()]
    assert len(records) == 5
    assert all(r["signature"] == Sketcher().signature(r["text"]).tolist() for r in records)
