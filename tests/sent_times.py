"""When the fetcher's requests left, as the fetcher itself saw it: for pacing tests that must not
fail because a loaded machine stamps arrivals late on the server side.

A server (the test server's handler thread, nginx) stamps a request when it gets to run, which
on a loaded machine can be a fifth of a second after the request arrived; one late stamp makes
the gap before it longer and the gap after it shorter than what was sent. The fetcher's gates
count the interval from the moment a request's headers are out (``HostGate.note_sent``): that
moment, recorded here for every request, is what the fetcher promises to space. A pacing test
checks those client-side gaps, and the server's gaps with the tolerance the measured lags give
(each request's lag: the server's stamp minus the moment its headers left)."""

from __future__ import annotations

import time
from collections.abc import Hashable, Mapping

import pytest


def record_sends(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, float]]:
    """From now on (for the test), every request the fetchers send appends (its URL,
    ``time.monotonic()`` when its headers were out) to the returned list; the gate is told as before."""
    from wiredesk.fetching import http

    sends: list[tuple[str, float]] = []
    original = http._exchange

    async def exchange(client, url, headers, max_bytes, accept, on_sent):  # noqa: ANN001, ANN202 - as http's
        gate_note = on_sent

        def sent() -> None:
            sends.append((url, time.monotonic()))
            if gate_note is not None:
                gate_note()

        return await original(client, url, headers, max_bytes, accept, sent)

    monkeypatch.setattr(http, "_exchange", exchange)
    return sends


def by_occurrence(requests: list[tuple[str, float]]) -> dict[tuple[str, int], float]:
    """(path, n) -> time, n counting the path's earlier requests: the same key on both sides
    when a path is asked twice."""
    seen: dict[str, int] = {}
    out = {}
    for path, at in sorted(requests, key=lambda r: r[1]):
        out[(path, seen.get(path, 0))] = at
        seen[path] = seen.get(path, 0) + 1
    return out


def spacing_faults(
    server: Mapping[Hashable, float], client: Mapping[Hashable, float], interval: float, slack: float
) -> list[str]:
    """What breaks ``interval`` (less ``slack``) between consecutive requests to one host, given
    each request's server-side arrival stamp and client-side headers-out moment by the same key.
    Empty: kept. Checked: the server saw exactly the requests sent, and the gaps between them,
    in the order they were sent. The server's own gap between two requests, corrected by their
    measured lags (stamp minus headers-out; the two clocks may differ by a constant), is exactly
    the client's gap: that is the gap checked, and the raw server gap is only reported."""
    if set(server) != set(client):
        return [f"server and client disagree on the requests: {sorted(map(str, set(server) ^ set(client)))}"]
    faults = []
    order = sorted(client, key=lambda key: client[key])
    for before, after in zip(order, order[1:]):
        sent = client[after] - client[before]
        if sent < interval - slack:
            seen = server[after] - server[before]
            faults.append(f"sent {sent:.3f} s apart (the server stamped {seen:.3f} s): {before} -> {after}")
    return faults
