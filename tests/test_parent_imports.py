"""What a `wiredesk run` of a folder loads in its own process.

Its pages go to the extraction pool, whose workers fork from the warm zygote: the command's own
process feeds them, deduplicates and stores, and never needs the extraction libraries
(trafilatura, dateparser, htmldate, justext), the fetcher (httpx, feedparser) or courlan. The
stage packages import their names on first use, so checking the config or importing the
pipeline does not load them either. Checked in fresh interpreters: a test session has loaded
everything already.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = [
    "trafilatura",
    "dateparser",
    "htmldate",
    "justext",
    "readability",
    "courlan",
    "httpx",
    "feedparser",
    "wiredesk.extractors.core",
    "wiredesk.extractors.furniture",
    "wiredesk.fetching.fetcher",
    "rich",  # printed only when not --quiet or --json (cli/console.py)
]

# Runs `wiredesk run` in this process (as the console script does) and, at exit, writes which of
# the modules named in argv[1] (JSON) this process holds, and its pid, to the file argv[2].
_WRAPPER = """
import atexit, json, os, sys
names, report = json.loads(sys.argv[1]), sys.argv[2]
me = os.getpid()

def write():
    if os.getpid() == me:  # not the zygote or a worker, which exit through here too
        with open(report, "w") as f:
            json.dump({"pid": me, "loaded": [n for n in names if n in sys.modules]}, f)

atexit.register(write)
from wiredesk.cli.main import main
sys.exit(main(sys.argv[3:]))
"""


def _page(i: int) -> str:
    words = " ".join(f"word{i}x{j}" for j in range(60))
    return (
        f"<html><head><title>Story number {i}</title></head><body><article><h1>Story number {i}</h1>"
        f"<p>The council met on Tuesday to discuss item {i}. {words}.</p>"
        f"<p>Residents said the plan for district {i} was long overdue, and officials agreed.</p>"
        "</article></body></html>"
    )


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
    home = tmp_path / "prefect-home"
    home.mkdir(exist_ok=True)
    env.update(PREFECT_HOME=str(home), PREFECT_PROFILES_PATH=str(home / "profiles.toml"))
    return env


def test_a_folder_run_keeps_the_extraction_libraries_and_the_fetcher_out_of_its_process(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    for i in range(12):  # more than extract.pool_min_batch: the pool (and so the zygote) is used
        (pages / f"{i:02d}.html").write_text(_page(i), encoding="utf-8")
    report = tmp_path / "report.json"
    store, out = tmp_path / "store.db", tmp_path / "corpus.jsonl"
    args = ["run", "--input", str(pages), "--store", str(store), "--out", str(out), "--workers", "2", "--json"]
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, json.dumps(HEAVY), str(report), *args],
        cwd=tmp_path,
        env=_env(tmp_path),
        text=True,
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert (summary["pages_read"], summary["stored"], summary["failed"]) == (12, 12, 0), summary
    assert summary["startup"]["children_cpu_seconds"] > 0  # the pages went through the pool
    loaded = json.loads(report.read_text())["loaded"]
    assert loaded == [], f"the command's own process loaded {loaded}"


def test_checking_a_config_and_importing_the_pipeline_load_no_stage_libraries() -> None:
    code = (
        "import json, sys\n"
        "from wiredesk.config import load_config\n"
        "load_config(stages=True)\n"
        "numpy_after_config = 'numpy' in sys.modules\n"
        "import wiredesk.pipeline.run, wiredesk.pipeline.sources\n"
        f"print(json.dumps([numpy_after_config, [n for n in {HEAVY!r} if n in sys.modules]]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], text=True, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    numpy_after_config, loaded = json.loads(proc.stdout)
    assert not numpy_after_config  # the dedup section is checked without loading the index
    assert loaded == []


def test_the_stage_packages_still_give_every_public_name() -> None:
    import wiredesk.dedup as dedup
    import wiredesk.extractors as extractors
    import wiredesk.fetching as fetching

    for package in (dedup, extractors, fetching):
        for name in package.__all__:
            assert getattr(package, name) is not None, f"{package.__name__}.{name}"
        assert set(package.__all__) <= set(dir(package))
    try:
        extractors.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("an unknown name must raise AttributeError")
