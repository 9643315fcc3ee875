"""Model servers' KV-cache events, followed per owned endpoint and republished.

* :mod:`~.addresses`: where an endpoint's PUB and replay sockets are (labels, else ports;
  malformed ones left out);
* :class:`KvTracker` (``tracker``): the pure state of one endpoint (server run, last
  sequence, server hash -> gie key map) turning batches into ``Kv*`` events;
* :class:`KvSubscriber` (``subscriber``): one endpoint's SUB socket, gaps, replay,
  restarts, publishing;
* :class:`KvSupervisor` (``supervisor``): one follower task per owned endpoint, the same
  HA split as scraping.

Everything runs on the collector's event loop (pyzmq's asyncio sockets).
"""

from __future__ import annotations

from gie_metrics_collector.kv.addresses import KV_EVENTS_LABEL, KV_REPLAY_LABEL, kv_addresses
from gie_metrics_collector.kv.kv_metrics import KvMetrics
from gie_metrics_collector.kv.subscriber import KvSubscriber
from gie_metrics_collector.kv.supervisor import KvSupervisor
from gie_metrics_collector.kv.tracker import KvTracker

__all__ = [
    "KV_EVENTS_LABEL",
    "KV_REPLAY_LABEL",
    "KvMetrics",
    "KvSubscriber",
    "KvSupervisor",
    "KvTracker",
    "kv_addresses",
]
