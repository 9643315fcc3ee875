"""A scheduling profile: filters, then weighted scorers, then one picker."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from gie.view import EndpointState
from gie_picker.scheduling.contracts import (
    Filter,
    Picker,
    ProfileRunResult,
    SchedulingRequest,
    ScoredEndpoint,
    Scorer,
)
from gie_picker.scheduling.errors import NoEndpointError
from gie_picker.scheduling.metrics import FILTER, PICKER, SCORER, SchedulerMetrics


@dataclass(frozen=True, slots=True)
class WeightedScorer:
    scorer: Scorer
    weight: int


def clamp(score: float) -> float:
    """A scorer's value forced into [0, 1], as upstream enforces."""
    return min(1.0, max(0.0, score))


class SchedulerProfile:
    """Runs filters in order (stopping when none is left), sums each candidate's
    clamped scores times their weights, and hands the sums to the picker."""

    def __init__(
        self,
        name: str,
        *,
        filters: Sequence[Filter] = (),
        scorers: Sequence[WeightedScorer] = (),
        picker: Picker,
        metrics: SchedulerMetrics,
    ) -> None:
        self.name = name
        self.filters = tuple(filters)
        self.scorers = tuple(scorers)
        self.picker = picker
        self._filter_timers = [metrics.for_plugin(FILTER, f) for f in self.filters]
        self._scorer_timers = [metrics.for_plugin(SCORER, s.scorer) for s in self.scorers]
        self._picker_timer = metrics.for_plugin(PICKER, picker)

    def run(
        self, request: SchedulingRequest, candidates: Sequence[EndpointState]
    ) -> ProfileRunResult:
        remaining = self._filter(request, candidates)
        if not remaining:
            raise NoEndpointError(f"profile {self.name!r}: no endpoint left after the filters")
        scored = self._score(request, remaining)
        started = time.perf_counter()
        result = self.picker.pick(scored)
        self._picker_timer.observe(time.perf_counter() - started)
        return result

    def _filter(
        self, request: SchedulingRequest, candidates: Sequence[EndpointState]
    ) -> list[EndpointState]:
        remaining = list(candidates)
        for plugin, timer in zip(self.filters, self._filter_timers, strict=True):
            if not remaining:
                break
            started = time.perf_counter()
            remaining = plugin.filter(request, remaining)
            timer.observe(time.perf_counter() - started)
        return remaining

    def _score(
        self, request: SchedulingRequest, endpoints: list[EndpointState]
    ) -> list[ScoredEndpoint]:
        addresses = [state.address for state in endpoints]
        totals = [0.0] * len(addresses)
        for weighted, timer in zip(self.scorers, self._scorer_timers, strict=True):
            started = time.perf_counter()
            scores = weighted.scorer.score(request, endpoints)
            timer.observe(time.perf_counter() - started)
            weight = weighted.weight
            for index, address in enumerate(addresses):
                value = scores.get(address, 0.0)
                if not 0.0 <= value <= 1.0:  # the common case needs no clamping call
                    value = clamp(value)
                totals[index] += value * weight
        return [
            ScoredEndpoint(state, total) for state, total in zip(endpoints, totals, strict=True)
        ]
