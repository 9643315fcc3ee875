"""Numbered routing events for bus tests: request ``r<n>`` routed to one endpoint."""

from __future__ import annotations

from gie.events import RequestRouted


def routed(pool: str, n: int, model: str = "m") -> RequestRouted:
    return RequestRouted(
        source="t",
        pool=pool,
        correlation_id=f"r{n}",
        request_id=f"r{n}",
        model=model,
        target="10.0.0.1:8000",
        picker="t",
    )
