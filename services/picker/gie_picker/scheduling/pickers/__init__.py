"""Built-in pickers: choose the primary and fallback endpoints from scored candidates."""

from __future__ import annotations

from gie_picker.scheduling.pickers.max_score_picker import MaxScorePicker
from gie_picker.scheduling.pickers.random_picker import RandomPicker
from gie_picker.scheduling.pickers.weighted_random_picker import WeightedRandomPicker

__all__ = ["MaxScorePicker", "RandomPicker", "WeightedRandomPicker"]
