"""Shared fixtures: the test data in tests/data, the ../shared data folders, bundled samples,
temporary stores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# $WIREDESK_SHARED_DIR moves (or, set to a missing folder, hides) ../shared: run the tests as on
# a fresh clone with WIREDESK_SHARED_DIR=/nonexistent.
SHARED = Path(os.environ.get("WIREDESK_SHARED_DIR") or REPO.parent / "shared")
SAMPLES = REPO / "samples"
TEST_DATA = REPO / "tests" / "data"  # small fixtures in the repository: always there

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests that need it skip when the project runs without it."""
    data = SHARED / "data"
    if not data.is_dir():
        pytest.skip("../shared/data is not present")
    return data


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The five seed pages and their line labels (tests/data/seeds)."""
    return TEST_DATA / "seeds"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES


@pytest.fixture()
def store_path(tmp_path: Path) -> str:
    return str(tmp_path / "store" / "wiredesk.db")


pytest_plugins = ["tests.prefect_harness"]
