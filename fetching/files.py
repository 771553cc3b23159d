"""Raw page files on disk as a source: expand inputs, read bytes safely, apply a manifest.

Kept apart from the HTTP fetcher: no network here, only the file system. Decoding bytes to
text is the extraction stage's job; this module only reads (and un-gzips, with a size cap).

A file's identity (its ``key``, from which its article id derives) is its source's name and
its path relative to the *input root* it was found under, that root's own name included:

- a directory ``data/crawl``: the root is the directory (``local:crawl/site/a.html``);
- a glob ``data/crawl/**/*.html``: the root is the part before the first wildcard
  (``data/crawl``), so the key is the same as for the directory;
- a file ``data/crawl/a.html`` named directly: the root is its folder (``local:crawl/a.html``).

Moving a data folder elsewhere keeps every key; renaming the folder named as the root (or
naming a different root) changes them. Two files of one source that would share a key
are a one-line error naming both.
"""

from __future__ import annotations

import glob
import itertools
import json
import os
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from wiredesk.core.errors import ConfigError, InputError
from wiredesk.core.records import PageKind, RawPage
from wiredesk.fetching.urls import canonicalize_url
from wiredesk.fetching.warc import is_archive

PAGE_SUFFIXES = {".html": "html", ".htm": "html", ".xhtml": "html", ".txt": "text", ".text": "text"}
DEFAULT_MAX_BYTES = 10_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class ManifestEntry:
    """Sidecar metadata for one file: where it was published and when."""

    file: str
    url: str | None = None
    published: str | None = None
    source: str | None = None


def page_kind(path: str | os.PathLike[str]) -> PageKind | None:
    """``html`` / ``text`` from the file name (``.gz`` looked through), None if not a page."""
    name = Path(path).name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return PAGE_SUFFIXES.get(Path(name).suffix)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class InputFile:
    """A page file to read: where it is, and the key that identifies it across runs."""

    path: Path  # absolute, symlinks resolved
    key: str  # "<source>:<root name>/<path below the root>" (see the module docstring)


def file_key(source: str, root: str | os.PathLike[str], path: str | os.PathLike[str]) -> str:
    """The identity of the file at ``path`` found under input root ``root``, both as the user
    named them (not symlink-resolved: a root that is a link keeps its own name)."""
    root_abs, path_abs = Path(os.path.abspath(root)), Path(os.path.abspath(path))
    return f"{source}:{root_abs.name}/{path_abs.relative_to(root_abs).as_posix()}"


def direct_file(path: str | os.PathLike[str], source: str) -> InputFile:
    """A file named directly: its folder is its input root."""
    return InputFile(Path(path).resolve(), file_key(source, Path(os.path.abspath(path)).parent, path))


def expand_inputs(patterns: Iterable[str], *, source: str = "local") -> list[InputFile]:
    """Files, directories (recursively) and globs -> page files sorted by path, each once.

    A pattern that names nothing is a one-line error (a typo must not become an empty run).
    Files of other types inside directories are passed over; an explicitly named file is
    always taken (``read_page`` records it as failed if it is not a page). A file reached by
    two patterns takes its key from the first.
    """
    found: dict[str, InputFile] = {}  # resolved path -> the file, its key from the first pattern
    for pattern in patterns:
        expanded = os.path.expanduser(pattern)
        if glob.has_magic(expanded):
            root = _glob_root(expanded)
            matches = [Path(m) for m in sorted(glob.glob(expanded, recursive=True))]
            hits = [(root, m) for m in matches if m.is_file() and (page_kind(m) or is_archive(m))]
            hits += [(root, f) for m in matches if m.is_dir() for f in _walk(m)]
            if not hits:
                raise InputError(
                    f"input {pattern!r}: no .html/.htm/.txt page files or .warc(.gz)/.arc.gz archives match",
                    reason="no-input",
                )
        elif os.path.isdir(expanded):
            below = _walk_below(expanded, source)
            if not below:
                raise InputError(
                    f"input {pattern!r}: no .html/.htm/.txt page files or .warc(.gz)/.arc.gz archives in this directory",
                    reason="no-input",
                )
            for resolved, key in below:
                if resolved not in found:
                    found[resolved] = InputFile(Path(resolved), key)
            continue
        else:
            path = Path(expanded)
            if not path.exists():
                raise InputError(f"input {pattern!r}: no such file or directory", reason="no-input")
            hits = [(Path(os.path.abspath(path)).parent, path)]
        for root, hit in hits:
            resolved = os.path.realpath(hit)  # what Path.resolve() gives, as a string
            if resolved not in found:
                found[resolved] = InputFile(Path(resolved), file_key(source, root, hit))
    # Sorted as the paths' parts compare (as sorting Path objects did): "a/x" before "a-b/x".
    files = [found[k] for k in sorted(found, key=lambda resolved: resolved.split(os.sep))]
    _refuse_shared_keys(files)
    return files


def _glob_root(pattern: str) -> Path:
    """The directory a glob searches: its path up to the first component with a wildcard."""
    parts = Path(pattern).parts
    fixed = [p for p in itertools.takewhile(lambda part: not glob.has_magic(part), parts)]
    return Path(*fixed) if fixed else Path(".")


def _refuse_shared_keys(files: list[InputFile]) -> None:
    seen: dict[str, Path] = {}
    for file in files:
        other = seen.setdefault(file.key, file.path)
        if other != file.path:
            raise InputError(
                f"inputs {other} and {file.path} would both be {file.key!r} (a file's identity is its path "
                "below the folder given as input, that folder's name included): give their common folder instead",
                reason="ambiguous-input",
            )


def _walk(directory: Path) -> list[Path]:
    out = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out.extend(Path(root, f) for f in sorted(files) if not f.startswith(".") and (page_kind(f) or is_archive(f)))
    return out


def _name_kind(name: str) -> PageKind | None:
    """``page_kind`` of a bare file name, without building paths."""
    name = name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return PAGE_SUFFIXES.get(os.path.splitext(name)[1])  # type: ignore[return-value]


def _walk_below(directory: str, source: str) -> list[tuple[str, str]]:
    """``(resolved path, key)`` of the page files and archives below ``directory``, in the order
    (and with the keys and resolved paths) that ``_walk``, ``file_key`` and ``Path.resolve`` give,
    from strings: a run of a 600-file folder expanded its inputs three times (the command's check,
    the run's check, the source's plan) with ~25 ``Path`` objects and a ``realpath`` per file.
    Folders are walked as ``os.walk`` walks them (hidden ones passed over, links to folders not
    followed), so a file that is not a link resolves to the resolved folder plus its path below it."""
    top = os.path.abspath(directory)
    real_top = os.path.realpath(directory)
    prefix = f"{source}:{os.path.basename(top)}/"
    out: list[tuple[str, str]] = []

    def visit(folder: str, below: str) -> None:
        try:
            with os.scandir(folder) as scan:
                entries = list(scan)
        except OSError:  # as os.walk: an unreadable folder is passed over
            return
        files, folders = [], []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            (folders if is_dir else files).append(entry)
        for entry in sorted(files, key=lambda e: e.name):
            name = entry.name
            if name.startswith(".") or not (_name_kind(name) or is_archive(name)):
                continue
            rel = below + name
            try:
                link = entry.is_symlink()
            except OSError:
                link = True
            resolved = os.path.realpath(entry.path) if link else os.path.join(real_top, rel)
            out.append((resolved, prefix + rel))
        for entry in sorted(folders, key=lambda e: e.name):
            try:
                link = entry.is_symlink()
            except OSError:
                link = True
            if not entry.name.startswith(".") and not link:
                visit(entry.path, f"{below}{entry.name}/")

    visit(directory, "")
    return out


def read_page(
    path: Path,
    *,
    source: str,
    manifest: Mapping[str, ManifestEntry] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    key: str | None = None,
) -> RawPage:
    """Read one page file into a RawPage. Raises InputError with a reason code.

    ``key`` is the file's identity from ``expand_inputs``; without one, the file counts as
    named directly (its folder is its input root)."""
    path = Path(path)
    kind = page_kind(path)
    if kind is None:
        raise InputError(f"{path}: not a page file (.html, .htm, .txt, optionally .gz)", reason="unsupported-type")
    try:
        size = path.stat().st_size
        if size > max_bytes and not path.name.lower().endswith(".gz"):
            raise InputError(f"{path}: {size} bytes, over the {max_bytes} byte limit", reason="oversized")
        with open(path, "rb") as handle:
            body = handle.read(max_bytes + 1)
    except InputError:
        raise
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})", reason="unreadable") from None
    if path.name.lower().endswith(".gz"):
        body = _gunzip_capped(body, path, max_bytes, compressed_size=size)
    elif len(body) > max_bytes:
        raise InputError(f"{path}: over the {max_bytes} byte limit", reason="oversized")
    entry = manifest_entry(manifest, path)
    return RawPage(
        source=(entry.source if entry and entry.source else source),
        body=body,
        kind=_sniff_kind(kind, body),
        path=str(path),
        key=key or direct_file(path, source).key,
        url=entry.url if entry else None,
        fetched_at=datetime.now(UTC),  # when wiredesk read it
        published=entry.published if entry else None,
    )


def _gunzip_capped(data: bytes, path: Path, max_bytes: int, *, compressed_size: int) -> bytes:
    if compressed_size > max_bytes:
        raise InputError(
            f"{path}: {compressed_size} bytes compressed, over the {max_bytes} byte limit", reason="oversized"
        )
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = decoder.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise InputError(f"{path}: not valid gzip ({exc})", reason="corrupt-gzip") from None
    if len(out) > max_bytes or decoder.unconsumed_tail:
        raise InputError(f"{path}: decompresses past the {max_bytes} byte limit", reason="oversized")
    if not decoder.eof:
        raise InputError(f"{path}: truncated gzip data", reason="corrupt-gzip")
    return out


def _sniff_kind(kind: PageKind, body: bytes) -> PageKind:
    """A .txt file that is really an HTML document is treated as HTML."""
    if kind == "text":
        head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if head.startswith((b"<!doctype html", b"<html")):
            return "html"
    return kind


def load_manifest(path: str | os.PathLike[str]) -> dict[str, ManifestEntry]:
    """A JSONL sidecar: one object per line with ``file`` and any of url, published, source.

    ``file`` is a path relative to the manifest's own folder, or absolute; entries are keyed
    by that full path (symlinks resolved), so two ``index.html`` in different folders each
    get their own row. A manifest none of whose files exists is an error: it is in the wrong
    place, or written for the old base-name matching.
    """
    manifest: dict[str, ManifestEntry] = {}
    folder = Path(path).expanduser().absolute().parent
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError(f"manifest {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"manifest {path}: cannot be read ({exc})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"manifest {path} line {number}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict) or not isinstance(row.get("file"), str) or not row["file"]:
            raise ConfigError(f'manifest {path} line {number}: needs a "file" string')
        for key in ("url", "published", "source"):
            if row.get(key) is not None and not isinstance(row[key], str):
                raise ConfigError(f"manifest {path} line {number}: {key!r} must be a string")
        url = row.get("url")
        if url is not None:
            if not url.lower().startswith(("http://", "https://")):
                raise ConfigError(f"manifest {path} line {number}: url {url!r} is not an http(s) URL")
            url = canonicalize_url(url)
        published = row.get("published")
        if published is not None:
            published = _iso(published)
            if published is None:
                raise ConfigError(f"manifest {path} line {number}: published {row['published']!r} is not ISO 8601")
        entry = ManifestEntry(file=row["file"], url=url, published=published, source=row.get("source"))
        manifest[str((folder / os.path.expanduser(entry.file)).resolve())] = entry
    if manifest and not any(Path(name).exists() for name in manifest):
        first = next(iter(manifest.values())).file
        raise ConfigError(
            f'manifest {path}: none of its {len(manifest)} files exists (a "file" is a path relative to the '
            f"manifest's folder {folder}, or absolute; e.g. {first!r} is {next(iter(manifest))})"
        )
    return manifest


def _iso(value: str) -> str | None:
    """An ISO 8601 date or datetime, normalised (``Z`` kept as +00:00); None if it is not one."""
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        return None


def manifest_entry(manifest: Mapping[str, ManifestEntry] | None, path: Path) -> ManifestEntry | None:
    """The manifest row of the file at ``path`` (matched by its full, resolved path)."""
    if not manifest:
        return None
    return manifest.get(str(Path(path).resolve()))
