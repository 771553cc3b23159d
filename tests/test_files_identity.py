"""Local inputs: the manifest is matched by full path, and a file's identity is its path
below the input root, so a moved data folder is not ingested again."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from wiredesk.config import load_config
from wiredesk.core.errors import ConfigError, InputError
from wiredesk.fetching.files import expand_inputs, load_manifest, read_page
from wiredesk.pipeline import batch as pipeline
from wiredesk.pipeline.report import SourceTally
from wiredesk.storage import open_store


def _two_index_pages(root: Path) -> None:
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        (root / name / "index.html").write_text(f"<html><body><p>page {name}</p></body></html>")


def test_manifest_rows_match_full_paths_not_base_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    news = tmp_path / "news"
    _two_index_pages(news)
    (news / "meta.jsonl").write_text(
        '{"file": "a/index.html", "url": "https://a.example/story"}\n'
        '{"file": "b/index.html", "url": "https://b.example/story", "source": "bee"}\n'
    )
    monkeypatch.chdir(tmp_path)  # relative to the manifest's folder, not to the working directory
    entries = load_manifest(news / "meta.jsonl")
    a = read_page(news / "a" / "index.html", source="local", manifest=entries)
    b = read_page(news / "b" / "index.html", source="local", manifest=entries)
    assert (a.url, a.source) == ("https://a.example/story", "local")
    assert (b.url, b.source) == ("https://b.example/story", "bee")


def test_manifest_paths_may_be_absolute_or_climb_out_of_its_folder(tmp_path: Path) -> None:
    _two_index_pages(tmp_path / "news")
    (tmp_path / "meta").mkdir()
    manifest = tmp_path / "meta" / "m.jsonl"
    manifest.write_text(
        f'{{"file": "{tmp_path / "news" / "a" / "index.html"}", "url": "https://a.example/x"}}\n'
        '{"file": "../news/b/index.html", "url": "https://b.example/x"}\n'
    )
    entries = load_manifest(manifest)
    assert read_page(tmp_path / "news" / "a" / "index.html", source="s", manifest=entries).url == "https://a.example/x"
    assert read_page(tmp_path / "news" / "b" / "index.html", source="s", manifest=entries).url == "https://b.example/x"


def test_a_row_for_one_folder_does_not_reach_a_namesake_in_another(tmp_path: Path) -> None:
    news = tmp_path / "news"
    _two_index_pages(news)
    (news / "index.html").write_text("<p>front page</p>")
    (news / "meta.jsonl").write_text('{"file": "index.html", "url": "https://front.example/"}\n')
    entries = load_manifest(news / "meta.jsonl")
    assert read_page(news / "index.html", source="s", manifest=entries).url == "https://front.example/"
    assert read_page(news / "a" / "index.html", source="s", manifest=entries).url is None


def test_a_manifest_naming_no_existing_file_is_one_line_error(tmp_path: Path) -> None:
    _two_index_pages(tmp_path / "news")
    manifest = tmp_path / "m.jsonl"  # beside the folder, written with base names only
    manifest.write_text('{"file": "index.html", "url": "https://a.example/"}\n')
    with pytest.raises(ConfigError) as info:
        load_manifest(manifest)
    assert (
        "none of its 1 files exists" in info.value.message and "relative to the manifest's folder" in info.value.message
    )
    assert "\n" not in info.value.message


def test_keys_are_paths_below_the_input_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    crawl = tmp_path / "data" / "crawl"
    _two_index_pages(crawl)
    expected = ["web:crawl/a/index.html", "web:crawl/b/index.html"]
    assert [f.key for f in expand_inputs([str(crawl)], source="web")] == expected
    assert [f.key for f in expand_inputs([str(crawl / "**" / "*.html")], source="web")] == expected
    assert [f.key for f in expand_inputs([str(crawl / "*")], source="web")] == expected  # matched folders walked
    assert [f.key for f in expand_inputs([str(crawl / "a" / "index.html")], source="web")] == ["web:a/index.html"]
    monkeypatch.chdir(crawl)
    assert [f.key for f in expand_inputs(["*/index.html"], source="web")] == expected  # root: the working folder
    assert [f.key for f in expand_inputs(["a"], source="web")] == ["web:a/index.html"]
    # The same folder under two sources: two identities.
    assert expand_inputs(["a"], source="one")[0].key != expand_inputs(["a"], source="two")[0].key


def test_two_inputs_that_would_share_keys_are_refused(tmp_path: Path) -> None:
    for side in ("left", "right"):
        _two_index_pages(tmp_path / side / "crawl")
    with pytest.raises(InputError) as info:
        expand_inputs([str(tmp_path / "left" / "crawl"), str(tmp_path / "right" / "crawl")])
    assert info.value.reason == "ambiguous-input" and "give their common folder" in info.value.message
    assert "\n" not in info.value.message
    assert len(expand_inputs([str(tmp_path)])) == 4  # their common folder tells them apart


def _config(store: str):
    return load_config(environ={}).with_overrides(store={"url": store}, run={"workers": 1})


def _ingest(store: str, files: list, run_id: str, *, strip_keys: bool = False) -> SourceTally:
    tally = SourceTally(source="local")
    with pipeline.open_stages(_config(store), run_id=run_id) as stages:
        pages, failures = pipeline.read_files(files, source="local", manifest=None, max_bytes=10**7, tally=tally)
        if strip_keys:  # as the code before keys read them: identified by absolute path
            pages = [replace(page, key=None) for page in pages]
        pipeline.ingest_pages(stages, pages, tally=tally, failures=failures)
    return tally


def _ids(store: str) -> dict[str, str]:
    with open_store(store) as st:
        return {s.article.location: s.id for s in st.iter_since(0)}


@pytest.fixture()
def crawl(samples_dir: Path, tmp_path: Path) -> Path:
    """The five seed pages in two sub-folders of a data folder called crawl."""
    root = tmp_path / "disk1" / "crawl"
    for i, seed in enumerate(sorted((samples_dir / "seeds").glob("*.txt"))):
        (root / f"part{i % 2}").mkdir(parents=True, exist_ok=True)
        shutil.copy(seed, root / f"part{i % 2}" / seed.name)
    return root


def test_moving_the_data_folder_does_not_ingest_it_again(crawl: Path, store_path: str, tmp_path: Path) -> None:
    first = _ingest(store_path, expand_inputs([str(crawl)]), "r1")
    assert first.stored == 5
    before = _ids(store_path)
    moved = tmp_path / "disk2" / "archive" / "crawl"
    moved.parent.mkdir(parents=True)
    shutil.move(crawl, moved)
    again = _ingest(store_path, expand_inputs([str(moved)]), "r2")
    assert (again.stored, again.exact, again.near, again.changed, again.already_seen) == (0, 0, 0, 0, 5)
    assert _ids(store_path) == before
    assert all(location.startswith("local:crawl/part") for location in before)
    with open_store(store_path) as st:  # the stored paths follow the files
        assert {Path(s.article.path).parent.parent for s in st.iter_since(0)} == {moved.resolve()}


def test_a_store_written_before_keys_is_not_ingested_again(crawl: Path, store_path: str) -> None:
    old = _ingest(store_path, expand_inputs([str(crawl)]), "r1", strip_keys=True)
    assert old.stored == 5
    before = _ids(store_path)
    assert all(location.startswith(str(crawl)) for location in before)  # absolute paths
    again = _ingest(store_path, expand_inputs([str(crawl)]), "r2")
    assert (again.stored, again.exact, again.near, again.already_seen) == (0, 0, 0, 5)
    assert _ids(store_path) == before
    # A new file in the same folder gets a key, next to the old path-identified ones.
    (crawl / "part0" / "new.txt").write_text(
        "Harbour cranes stood still on Tuesday as dock workers began a strike over night-shift pay.\n\n"
        "The port authority said ships would be diverted to two smaller terminals up the coast, and that "
        "talks with the union would resume on Thursday morning with a mediator from the labour ministry.\n\n"
        "Shipping agents warned that perishable cargo could spoil within days if the stoppage went on, "
        "while the union's spokeswoman said members had waited three years for the promised review.\n"
    )
    newer = _ingest(store_path, expand_inputs([str(crawl)]), "r3")
    assert (newer.stored, newer.already_seen) == (1, 5), (newer.failed, newer.exact, newer.near)
    assert "local:crawl/part0/new.txt" in _ids(store_path)


def test_a_root_reached_through_a_symlink_keeps_the_links_name(tmp_path: Path) -> None:
    """``data -> /disk1/crawl`` re-pointed at ``/disk2/crawl`` after a move: same keys."""
    _two_index_pages(tmp_path / "disk1" / "crawl")
    link = tmp_path / "data"
    link.symlink_to(tmp_path / "disk1" / "crawl")
    before = expand_inputs([str(link)])
    assert [f.key for f in before] == ["local:data/a/index.html", "local:data/b/index.html"]
    assert before[0].path == (tmp_path / "disk1" / "crawl" / "a" / "index.html").resolve()
    shutil.move(tmp_path / "disk1", tmp_path / "disk2")
    link.unlink()
    link.symlink_to(tmp_path / "disk2" / "crawl")
    assert [f.key for f in expand_inputs([str(link)])] == [f.key for f in before]


def _expand_with_paths(pattern: str, source: str = "local") -> list[tuple[Path, str]]:
    """A folder's expansion as ``expand_inputs`` made it with ``Path`` objects before it worked on
    strings: ``os.walk`` (hidden folders and files passed over), ``Path.resolve`` per file, the
    first key of each resolved file, sorted by path."""
    import os

    from wiredesk.fetching.files import file_key, page_kind
    from wiredesk.fetching.warc import is_archive

    root, found = Path(pattern), {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if not name.startswith(".") and (page_kind(name) or is_archive(name)):
                hit = Path(folder, name)
                found.setdefault(hit.resolve(), file_key(source, root, hit))
    return [(path, found[path]) for path in sorted(found)]


def test_a_folder_expands_as_it_did_with_path_objects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    for rel in ["a/x.html", "a-b/x.html", "a.b/y.HTM", "A/z.txt", "b/c/d/e.html.gz", "b/c/w.warc.gz", "z.xhtml",
                "skip.json", ".hidden.html", ".dot/in.html", "b/c/.h.txt", "ü/é.html", "10.html", "9.html"]:  # fmt: skip
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_bytes(b"<p>x</p>")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "far.html").write_bytes(b"<p>far</p>")
    (data / "link-to-file.html").symlink_to(outside / "far.html")
    (data / "a" / "again.html").symlink_to(data / "z.xhtml")  # one file twice: the first key stands
    (data / "link-to-folder").symlink_to(outside, target_is_directory=True)  # not followed, as os.walk
    (data / "broken.html").symlink_to(tmp_path / "nowhere.html")
    (tmp_path / "via").symlink_to(data, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    for pattern in ["data", str(data), "data/", "./data/../data", "via", str(data / "b")]:
        got = [(f.path, f.key) for f in expand_inputs([pattern])]
        assert got == _expand_with_paths(pattern), pattern
        assert all(isinstance(f.path, Path) for f in expand_inputs([pattern]))
    keys = [key for _, key in _expand_with_paths("data")]
    assert "local:data/a/again.html" not in keys and "local:data/z.xhtml" in keys
