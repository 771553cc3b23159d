"""Raw page files: inputs expanded, bytes read safely, manifest applied."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from wiredesk.core.errors import ConfigError, InputError
from wiredesk.fetching.files import expand_inputs, load_manifest, read_page


def _tree(root: Path) -> None:
    (root / "a").mkdir(parents=True)
    (root / "a" / "one.html").write_text("<html><body><p>x</p></body></html>")
    (root / "a" / "two.txt").write_text("hello")
    (root / "a" / "skip.pdf").write_bytes(b"%PDF-1.4")
    (root / "a" / ".hidden.txt").write_text("no")
    (root / "three.htm.gz").write_bytes(gzip.compress(b"<p>three</p>"))


def test_expand_files_dirs_globs(tmp_path: Path) -> None:
    _tree(tmp_path)
    names = [f.path.name for f in expand_inputs([str(tmp_path)])]
    assert names == ["one.html", "two.txt", "three.htm.gz"]
    assert [f.path.name for f in expand_inputs([str(tmp_path / "**" / "*.txt")])] == ["two.txt"]
    # the same file named twice is read once
    assert len(expand_inputs([str(tmp_path / "a"), str(tmp_path / "a" / "one.html")])) == 2


@pytest.mark.parametrize("pattern", ["missing-dir", "*.nothing"])
def test_expand_nothing_is_an_error(tmp_path: Path, pattern: str) -> None:
    with pytest.raises(InputError, match="input"):
        expand_inputs([str(tmp_path / pattern)])


def test_read_gzip_and_kinds(tmp_path: Path) -> None:
    _tree(tmp_path)
    page = read_page(tmp_path / "three.htm.gz", source="s")
    assert page.kind == "html" and page.body == b"<p>three</p>"
    disguised = tmp_path / "page.txt"
    disguised.write_text("<!DOCTYPE html><html><body>x</body></html>")
    assert read_page(disguised, source="s").kind == "html"


def test_read_failures_have_reasons(tmp_path: Path) -> None:
    big = tmp_path / "big.html"
    big.write_bytes(b"x" * 2000)
    with pytest.raises(InputError) as info:
        read_page(big, source="s", max_bytes=1000)
    assert info.value.reason == "oversized"
    bomb = tmp_path / "bomb.html.gz"
    bomb.write_bytes(gzip.compress(b"\0" * 5_000_000))
    with pytest.raises(InputError) as info:
        read_page(bomb, source="s", max_bytes=100_000)
    assert info.value.reason == "oversized"
    broken = tmp_path / "broken.txt.gz"
    broken.write_bytes(gzip.compress(b"hello world" * 100)[:30])
    with pytest.raises(InputError) as info:
        read_page(broken, source="s")
    assert info.value.reason == "corrupt-gzip"
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(b"%PDF")
    with pytest.raises(InputError) as info:
        read_page(pdf, source="s")
    assert info.value.reason == "unsupported-type"


def test_unreadable_file(tmp_path: Path) -> None:
    import os

    locked = tmp_path / "locked.html"
    locked.write_text("<p>x</p>")
    locked.chmod(0)
    if os.access(locked, os.R_OK):  # root reads anything: use a directory named like a page
        locked.chmod(0o644)
        locked = tmp_path / "dir.html"
        locked.mkdir()
    with pytest.raises(InputError) as info:
        read_page(locked, source="s")
    assert info.value.reason == "unreadable"


def test_manifest(tmp_path: Path) -> None:
    _tree(tmp_path)
    manifest = tmp_path / "meta.jsonl"
    manifest.write_text(
        '{"file": "a/one.html", "url": "https://x.example/one", "published": "2024-01-02T03:04:05Z"}\n\n'
        '{"file": "a/two.txt", "source": "wire"}\n'
    )
    entries = load_manifest(manifest)
    page = read_page(tmp_path / "a" / "one.html", source="local", manifest=entries)
    assert page.url == "https://x.example/one" and page.published == "2024-01-02T03:04:05+00:00"
    assert read_page(tmp_path / "a" / "two.txt", source="local", manifest=entries).source == "wire"


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("{not json", "line 1: not JSON"),
        ('{"url": "x"}', 'needs a "file"'),
        ('{"file": "a", "url": 3}', "'url' must be a string"),
        ('{"file": "a", "url": "not a url"}', "is not an http"),
        ('{"file": "a", "published": "19/11/2019"}', "is not ISO 8601"),
        ('{"file": "a", "published": "2019-02-30"}', "is not ISO 8601"),
    ],
)
def test_bad_manifest_lines(tmp_path: Path, line: str, needle: str) -> None:
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(line + "\n")
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(")):
        load_manifest(manifest)


def test_manifest_urls_are_canonical(tmp_path: Path) -> None:
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(
        '{"file": "a.html", "url": "HTTPS://Same.Example/story/?utm_source=x#a", "published": "2019-11-19"}\n'
    )
    (tmp_path / "a.html").write_text("<p>a</p>")
    entry = load_manifest(manifest)[str((tmp_path / "a.html").resolve())]
    assert entry.url == "https://same.example/story" and entry.published == "2019-11-19"
