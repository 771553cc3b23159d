"""The installed package is one namespace, ``wiredesk``: it sits beside users' own top-level
packages named like our stage folders (``config``, ``storage``, ``flows``...) without either
shadowing the other."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import REPO

STAGE_FOLDERS = ("config", "storage", "flows", "dedup", "extractors", "fetching")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """wiredesk installed (not editable) into a scratch folder, as a wheel would be."""
    target = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return target


def test_the_wheel_installs_one_top_level_package(installed: Path) -> None:
    tops = sorted(p.name for p in installed.iterdir() if p.is_dir() and not p.name.endswith(".dist-info"))
    assert [t for t in tops if t != "bin"] == ["wiredesk"]
    for folder in STAGE_FOLDERS:
        assert (installed / "wiredesk" / folder / "__init__.py").is_file()
    assert (installed / "wiredesk" / "config" / "wiredesk.yaml").is_file()  # package data travels


def test_users_packages_named_like_our_folders_still_import(installed: Path, tmp_path: Path) -> None:
    users = tmp_path / "users"
    for name in STAGE_FOLDERS:
        (users / name).mkdir(parents=True)
        (users / name / "__init__.py").write_text(f"WHO = 'the user\\'s own {name}'\n")
    code = (
        "import config, storage, flows, dedup, extractors, fetching\n"
        "assert all(m.WHO.startswith('the user') for m in (config, storage, flows, dedup, extractors, fetching))\n"
        "import wiredesk.config, wiredesk.storage, wiredesk.pipeline, wiredesk.dedup, wiredesk.extractors\n"
        "from wiredesk.config import load_config\n"
        "assert load_config(environ={}).store.url\n"
        "import wiredesk.flows.ingest\n"
        "print('ok', wiredesk.__file__)\n"
    )
    site = sysconfig.get_paths()["purelib"]
    # The user's packages first, then the scratch install, then the dependencies; not the repo.
    env = {"PYTHONPATH": f"{users}:{installed}:{site}", "PATH": "/usr/bin:/bin", "PYTHONNOUSERSITE": "1"}
    proc = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith("ok ") and str(installed) in proc.stdout
