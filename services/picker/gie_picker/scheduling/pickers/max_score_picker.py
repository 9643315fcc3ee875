"""``max-score-picker``: the highest weighted scores, ties broken at random."""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import ClassVar

from gie_picker.scheduling.contracts import ProfileRunResult, ScoredEndpoint
from gie_picker.scheduling.pickers.randomized import RandomizedPicker

_score_of = attrgetter("score")


class MaxScorePicker(RandomizedPicker):
    """Shuffle, stable-sort by score (highest first), keep ``maxNumOfEndpoints``.

    The shuffle spreads requests evenly over endpoints with equal scores.
    """

    TYPE: ClassVar[str] = "max-score-picker"
    _last: tuple[tuple[ScoredEndpoint, ...], list[ScoredEndpoint]] | None = None

    def pick(self, scored: Sequence[ScoredEndpoint]) -> ProfileRunResult:
        if self.max_num_of_endpoints == 1:
            # Same outcome as shuffle-then-sort for one endpoint: a uniformly random
            # one among the best, without shuffling the whole list.
            return ProfileRunResult((self._rng.choice(self._best_of(scored)).endpoint,))
        ordered = list(scored)
        self._rng.shuffle(ordered)
        ordered.sort(key=lambda candidate: candidate.score, reverse=True)
        chosen = ordered[: self.max_num_of_endpoints]
        return ProfileRunResult(tuple(candidate.endpoint for candidate in chosen))

    def _best_of(self, scored: Sequence[ScoredEndpoint]) -> list[ScoredEndpoint]:
        """The candidates with the highest score. A profile hands over the same tuple
        while no per-request scorer added anything (see ``SchedulerProfile``): its
        best are then the ones found last time (a tuple cannot have changed)."""
        last = self._last
        if last is not None and last[0] is scored:
            return last[1]
        best = max(map(_score_of, scored))
        ties = [candidate for candidate in scored if candidate.score == best]
        if type(scored) is tuple:
            self._last = (scored, ties)
        return ties
