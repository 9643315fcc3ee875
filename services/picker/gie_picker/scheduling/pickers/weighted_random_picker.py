"""``weighted-random-picker``: random endpoints, each as likely as its score."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import ClassVar

from gie_picker.scheduling.contracts import PluginContext, ProfileRunResult, ScoredEndpoint
from gie_picker.scheduling.parameters import DEFAULT_MAX_NUM_OF_ENDPOINTS, PickerParameters
from gie_picker.scheduling.pickers.random_picker import RandomPicker

_TINY = 1e-10


class WeightedRandomPicker:
    """Weighted sampling without replacement (A-Res: key ``u ** (1 / score)``,
    largest keys win), so the primary is chosen with probability score / sum.

    Endpoints scoring 0 come last, in no particular order; when every score is
    0 the choice is uniform, as the random picker's.
    """

    TYPE: ClassVar[str] = "weighted-random-picker"

    def __init__(
        self,
        rng: random.Random,
        *,
        name: str = TYPE,
        max_num_of_endpoints: int = DEFAULT_MAX_NUM_OF_ENDPOINTS,
    ) -> None:
        self.name = name
        self._rng = rng
        self.max_num_of_endpoints = max_num_of_endpoints
        self._uniform = RandomPicker(rng, name=name, max_num_of_endpoints=max_num_of_endpoints)

    @classmethod
    def create(
        cls, name: str, params: PickerParameters, context: PluginContext
    ) -> WeightedRandomPicker:
        return cls(context.rng, name=name, max_num_of_endpoints=params.max_num_of_endpoints)

    def pick(self, scored: Sequence[ScoredEndpoint]) -> ProfileRunResult:
        if all(candidate.score <= 0 for candidate in scored):
            return self._uniform.pick(scored)
        keyed = [(self._key(candidate.score), candidate) for candidate in scored]
        keyed.sort(key=lambda pair: pair[0], reverse=True)
        chosen = keyed[: self.max_num_of_endpoints]
        return ProfileRunResult(tuple(candidate.endpoint for _, candidate in chosen))

    def _key(self, score: float) -> float:
        if score <= 0:
            return 0.0
        u = self._rng.random() or _TINY
        return float(u ** (1.0 / score))
