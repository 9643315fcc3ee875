"""What the picker folds from the event stream, and how it reads the stream.

:class:`Projections` (:mod:`~gie_picker.projections.state`) holds the pool
view, the requests in flight, the routing history, the prefix cache and the
flow-control backlog, and subscribes them to the bus (pool state: last event
per subject; routing events: from the prefix snapshot's sequence or the last
in-flight TTL). :class:`RoutingMemory` is the routing history as scorers and
the director use it (recency, sessions). :class:`EventReading` reads the stream
in bursts once caught up, settling it before a routing decision.

Concurrency: all are fed by bus callbacks on the service's event loop and read
from it; nothing here is thread-safe.
"""

from __future__ import annotations

from gie_picker.projections.event_reading import EventReading
from gie_picker.projections.routing_memory import RoutingMemory
from gie_picker.projections.state import Projections

__all__ = ["EventReading", "Projections", "RoutingMemory"]
