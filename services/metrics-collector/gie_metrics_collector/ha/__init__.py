"""High availability: collector replicas split a pool's endpoints between them.

Membership (:class:`KvMembership`, NATS KV with TTL heartbeats) says who is alive;
:class:`Ownership` (rendezvous hashing) says who scrapes what, and who publishes the
pool's saturation; :class:`PeerMetricsFeed` follows peers' metrics while there are peers.
Each endpoint is scraped by exactly one live replica once membership has settled; during
a change two replicas may briefly scrape the same endpoint, which is harmless (consumers
keep the newest scrape).
"""

from __future__ import annotations

from gie_metrics_collector.ha.contracts import Membership, MembershipListener
from gie_metrics_collector.ha.kv_membership import KvMembership
from gie_metrics_collector.ha.peer_feed import PeerMetricsFeed
from gie_metrics_collector.ha.rendezvous import SATURATION_KEY, Ownership, rendezvous_owner
from gie_metrics_collector.ha.static_membership import StaticMembership

__all__ = [
    "SATURATION_KEY",
    "KvMembership",
    "Membership",
    "MembershipListener",
    "Ownership",
    "PeerMetricsFeed",
    "StaticMembership",
    "rendezvous_owner",
]
