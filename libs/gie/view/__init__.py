"""Projections folded from the event stream.

:class:`PoolView` is a pure fold of endpoint and metrics events for one pool;
:class:`InFlightView` folds routing events into requests in flight per endpoint;
:class:`RoutingHistory` into endpoint recency and session stickiness.
They do no I/O and are not thread-safe: one task feeds each (the bus callback),
readers on the same event loop see a consistent state between awaits.
"""

from __future__ import annotations

from gie.view.inflight import InFlightView
from gie.view.pool_view import EndpointState, PoolView
from gie.view.routing_history import RoutingHistory

__all__ = ["EndpointState", "InFlightView", "PoolView", "RoutingHistory"]
