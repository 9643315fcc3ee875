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


@dataclass(frozen=True, slots=True)
class _BaseScores:
    """The weighted sums of the endpoint-only scorers for one list of candidates."""

    endpoints: list[EndpointState]
    positions: dict[str, int]
    scored: tuple[ScoredEndpoint, ...]  # the same object while nothing else scores


class SchedulerProfile:
    """Runs filters in order (stopping when none is left), sums each candidate's
    clamped scores times their weights, and hands the sums to the picker.

    Scorers that declare ``ENDPOINTS_ONLY`` run once per distinct list of
    candidates: their weighted sums are kept until the candidates (or their
    metrics) change, and only the other scorers run for every request.
    """

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
        timed = [(s, metrics.for_plugin(SCORER, s.scorer)) for s in self.scorers]
        self._endpoint_scorers = [(s, t) for s, t in timed if _endpoints_only(s.scorer)]
        self._request_scorers = [(s, t) for s, t in timed if not _endpoints_only(s.scorer)]
        self._picker_timer = metrics.for_plugin(PICKER, picker)
        self._base: _BaseScores | None = None

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
    ) -> Sequence[ScoredEndpoint]:
        base = self._base
        if base is None or base.endpoints != endpoints:  # identical states compare fast
            base = self._base = self._base_scores(request, endpoints)
        extra: dict[int, float] = {}
        for weighted, timer in self._request_scorers:
            started = time.perf_counter()
            scores = weighted.scorer.score(request, endpoints)
            timer.observe(time.perf_counter() - started)
            _add_weighted(extra, scores, weighted.weight, base.positions)
        if not extra:
            return base.scored
        scored = list(base.scored)
        for index, value in extra.items():
            item = scored[index]
            scored[index] = ScoredEndpoint(item.endpoint, item.score + value)
        return scored

    def _base_scores(
        self, request: SchedulingRequest, endpoints: list[EndpointState]
    ) -> _BaseScores:
        positions = {state.address: index for index, state in enumerate(endpoints)}
        totals: dict[int, float] = {}
        for weighted, timer in self._endpoint_scorers:
            started = time.perf_counter()
            scores = weighted.scorer.score(request, endpoints)
            timer.observe(time.perf_counter() - started)
            _add_weighted(totals, scores, weighted.weight, positions)
        scored = tuple(
            ScoredEndpoint(state, totals.get(index, 0.0)) for index, state in enumerate(endpoints)
        )
        return _BaseScores(list(endpoints), positions, scored)


def _endpoints_only(scorer: Scorer) -> bool:
    return bool(getattr(scorer, "ENDPOINTS_ONLY", False))


def _add_weighted(
    totals: dict[int, float], scores: dict[str, float], weight: int, positions: dict[str, int]
) -> None:
    """Add ``scores`` (clamped to [0, 1]) times ``weight`` into ``totals`` by position;
    zero, negative, NaN and unknown addresses add nothing."""
    for address, value in scores.items():
        if not value > 0.0:
            continue
        index = positions.get(address)
        if index is None:
            continue
        totals[index] = totals.get(index, 0.0) + min(value, 1.0) * weight
