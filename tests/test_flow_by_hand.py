"""Runs started by hand: no heartbeat, and time for a first ephemeral API start."""

from wiredesk.flows.ingest import run_by_hand


def _settings_seen():
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

    return PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value(), PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()


def test_run_by_hand_turns_heartbeat_off_and_allows_a_slow_first_start(monkeypatch):
    monkeypatch.delenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", raising=False)
    heartbeat, timeout = run_by_hand(_settings_seen)
    assert heartbeat is None
    assert timeout >= 120  # Prefect's default of 20 s timed out on a busy machine's first start


def test_run_by_hand_keeps_a_timeout_the_user_chose(monkeypatch):
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "45")
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, temporary_settings

    with temporary_settings(updates={PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: 45}):
        _, timeout = run_by_hand(_settings_seen)
    assert timeout == 45
