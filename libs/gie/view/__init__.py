"""Projections folded from the event stream.

:class:`PoolView` is a pure fold of endpoint and metrics events for one pool.
It does no I/O and is not thread-safe: one task feeds it (the bus callback),
readers on the same event loop see a consistent state between awaits.
"""

from __future__ import annotations

from gie.view.pool_view import EndpointState, PoolView

__all__ = ["EndpointState", "PoolView"]
