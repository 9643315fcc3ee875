"""Choosing the next request of a shard: the decision shared by the shard workers and
the in-memory model the property tests drive.

Strict priority: only the shard's highest backlogged band is considered, and nothing is
chosen while a higher band has queued requests anywhere in the pool. Within the band the
fairness policy picks the flow, and the ordering policy the request.
"""

from __future__ import annotations

from dataclasses import dataclass

from gie_flow_controller.model import BandTable, QueuedRequest, ShardSnapshot
from gie_flow_controller.policies.contracts import FairnessPolicy, OrderingPolicy
from gie_flow_controller.policies.registry import Policies


@dataclass(frozen=True, slots=True)
class BandPolicies:
    fairness: FairnessPolicy
    ordering: OrderingPolicy


class PolicySet:
    """Each band's policies, instantiated once per priority from the band settings."""

    def __init__(self, bands: BandTable, policies: Policies) -> None:
        self._bands = bands
        self._policies = policies
        self._cache: dict[int, BandPolicies] = {}

    def for_band(self, priority: int) -> BandPolicies:
        cached = self._cache.get(priority)
        if cached is None:
            band = self._bands.band(priority)
            cached = BandPolicies(
                fairness=self._policies.fairness.create(
                    band.fairness_policy, band.fairness_parameters
                ),
                ordering=self._policies.ordering.create(
                    band.ordering_policy, band.ordering_parameters
                ),
            )
            self._cache[priority] = cached
        return cached

    def validate(self) -> None:
        """Instantiate the policies of every configured band (UnknownPolicyError early)."""
        for band in self._bands.config.priority_bands:
            self.for_band(band.priority)
        self.for_band(0)

    @property
    def window(self) -> int:
        """The largest ordering window of the bands seen so far (at least 1)."""
        return max((p.ordering.window for p in self._cache.values()), default=1)


def choose(snapshot: ShardSnapshot, policies: PolicySet) -> QueuedRequest | None:
    """The request to dispatch next from ``snapshot``, or None (nothing, or must wait)."""
    band = snapshot.band
    if band is None or snapshot.blocked_by_higher_band:
        return None
    chosen = policies.for_band(band.priority)
    flow = chosen.fairness.pick_flow(band)
    return None if flow is None else chosen.ordering.pick_request(flow)
