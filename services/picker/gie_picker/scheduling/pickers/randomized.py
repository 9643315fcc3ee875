"""What every built-in picker shares: a name, a random source, ``maxNumOfEndpoints``."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import ClassVar, Self

from gie_picker.scheduling.contracts import PluginContext, ProfileRunResult, ScoredEndpoint
from gie_picker.scheduling.parameters import DEFAULT_MAX_NUM_OF_ENDPOINTS, PickerParameters


class RandomizedPicker:
    """Base of the built-in pickers; subclasses set ``TYPE`` and implement ``pick``."""

    TYPE: ClassVar[str] = ""

    def __init__(
        self,
        rng: random.Random,
        *,
        name: str = "",
        max_num_of_endpoints: int = DEFAULT_MAX_NUM_OF_ENDPOINTS,
    ) -> None:
        self.name = name or self.TYPE
        self._rng = rng
        self.max_num_of_endpoints = max_num_of_endpoints

    def _uniform(self, scored: Sequence[ScoredEndpoint]) -> ProfileRunResult:
        """``maxNumOfEndpoints`` distinct endpoints, uniformly at random."""
        count = min(self.max_num_of_endpoints, len(scored))
        chosen = self._rng.sample(list(scored), count)
        return ProfileRunResult(tuple(candidate.endpoint for candidate in chosen))

    @classmethod
    def create(cls, name: str, params: PickerParameters, context: PluginContext) -> Self:
        return cls(context.rng, name=name, max_num_of_endpoints=params.max_num_of_endpoints)
