"""``random-picker``: endpoints uniformly at random, scores ignored."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import ClassVar

from gie_picker.scheduling.contracts import PluginContext, ProfileRunResult, ScoredEndpoint
from gie_picker.scheduling.parameters import DEFAULT_MAX_NUM_OF_ENDPOINTS, PickerParameters


class RandomPicker:
    """``maxNumOfEndpoints`` distinct endpoints in random order."""

    TYPE: ClassVar[str] = "random-picker"

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

    @classmethod
    def create(cls, name: str, params: PickerParameters, context: PluginContext) -> RandomPicker:
        return cls(context.rng, name=name, max_num_of_endpoints=params.max_num_of_endpoints)

    def pick(self, scored: Sequence[ScoredEndpoint]) -> ProfileRunResult:
        count = min(self.max_num_of_endpoints, len(scored))
        chosen = self._rng.sample(list(scored), count)
        return ProfileRunResult(tuple(candidate.endpoint for candidate in chosen))
