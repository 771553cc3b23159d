"""Reaching the real PostgreSQL and Redis on 127.0.0.1, or skipping with a reason.

With WIREDESK_REQUIRE_SERVICES=1 (CI sets it) an unreachable service fails the test
instead of skipping it, so a skip can never hide a break.
"""

from __future__ import annotations

import os
import socket

import pytest

POSTGRES_URL = os.environ.get("WIREDESK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("WIREDESK_TEST_REDIS", "redis://127.0.0.1:6379/15")


def services_required() -> bool:
    return os.environ.get("WIREDESK_REQUIRE_SERVICES", "") not in ("", "0", "false", "no")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip (or, when services are required, fail) unless host:port accepts connections."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if services_required():
        pytest.fail(f"{message} and WIREDESK_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(message)


def require_postgres() -> str:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    return POSTGRES_URL


def require_redis() -> str:
    require_service("Redis", "127.0.0.1", 6379)
    return REDIS_URL
