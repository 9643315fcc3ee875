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

    def pick(self, scored: Sequence[ScoredEndpoint]) -> ProfileRunResult:
        if self.max_num_of_endpoints == 1:
            # Same outcome as shuffle-then-sort for one endpoint: a uniformly random
            # one among the best, without shuffling the whole list.
            best = max(map(_score_of, scored))
            ties = [candidate for candidate in scored if candidate.score == best]
            return ProfileRunResult((self._rng.choice(ties).endpoint,))
        ordered = list(scored)
        self._rng.shuffle(ordered)
        ordered.sort(key=lambda candidate: candidate.score, reverse=True)
        chosen = ordered[: self.max_num_of_endpoints]
        return ProfileRunResult(tuple(candidate.endpoint for candidate in chosen))
