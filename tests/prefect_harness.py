"""pytest plugin: ONE Prefect test harness (a temporary API server and database) per session.

Listed in ``tests/conftest.py`` as ``pytest_plugins = ["tests.prefect_harness"]``. The harness
starts lazily, the first time a test marked ``@pytest.mark.prefect`` (or asking for the
``prefect_api`` fixture) runs, so test runs without Prefect tests never pay for a server.
Analytics are off and the flow-run heartbeat is disabled: a heartbeat from a run that ends
as the session shuts the server down only makes noise.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# Before prefect is imported anywhere: the server subprocess reads it from the environment.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """The API URL of the session's Prefect test server (every Prefect call in the session uses it)."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_SERVER_ANALYTICS_ENABLED,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    with temporary_settings(updates={PREFECT_SERVER_ANALYTICS_ENABLED: False, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        # A new database is migrated at start: 16-27 s measured on a busy 2-core machine, near the 30 s default.
        with prefect_test_harness(server_startup_timeout=120):
            yield str(PREFECT_API_URL.value())


@pytest.fixture(autouse=True)
def _prefect_harness_for_marked(request: pytest.FixtureRequest) -> None:
    """Tests marked ``prefect`` run under the session harness without asking for it by name."""
    if request.node.get_closest_marker("prefect") is not None:
        request.getfixturevalue("prefect_api")
