"""``random-picker``: endpoints uniformly at random, scores ignored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from gie_picker.scheduling.contracts import ProfileRunResult, ScoredEndpoint
from gie_picker.scheduling.pickers.randomized import RandomizedPicker


class RandomPicker(RandomizedPicker):
    """``maxNumOfEndpoints`` distinct endpoints in random order."""

    TYPE: ClassVar[str] = "random-picker"

    def pick(self, scored: Sequence[ScoredEndpoint]) -> ProfileRunResult:
        return self._uniform(scored)
