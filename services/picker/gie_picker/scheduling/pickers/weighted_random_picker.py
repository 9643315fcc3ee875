"""``weighted-random-picker``: random endpoints, each as likely as its score."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from gie_picker.scheduling.contracts import ProfileRunResult, ScoredEndpoint
from gie_picker.scheduling.pickers.randomized import RandomizedPicker

_TINY = 1e-10


class WeightedRandomPicker(RandomizedPicker):
    """Weighted sampling without replacement (A-Res: key ``u ** (1 / score)``,
    largest keys win), so the primary is chosen with probability score / sum.

    Endpoints scoring 0 come last, in no particular order; when every score is
    0 the choice is uniform, as the random picker's.
    """

    TYPE: ClassVar[str] = "weighted-random-picker"

    def pick(self, scored: Sequence[ScoredEndpoint]) -> ProfileRunResult:
        if all(candidate.score <= 0 for candidate in scored):
            return self._uniform(scored)
        keyed = [(self._key(candidate.score), candidate) for candidate in scored]
        keyed.sort(key=lambda pair: pair[0], reverse=True)
        chosen = keyed[: self.max_num_of_endpoints]
        return ProfileRunResult(tuple(candidate.endpoint for _, candidate in chosen))

    def _key(self, score: float) -> float:
        if score <= 0:
            return 0.0
        u = self._rng.random() or _TINY
        return float(u ** (1.0 / score))
