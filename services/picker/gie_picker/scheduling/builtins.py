"""The built-in plugins, registered explicitly (no import side effects)."""

from __future__ import annotations

from gie_picker.scheduling.filters import HeaderBasedTestingFilter
from gie_picker.scheduling.parameters import NoParameters, PickerParameters
from gie_picker.scheduling.pickers import MaxScorePicker, RandomPicker, WeightedRandomPicker
from gie_picker.scheduling.profiles import SingleProfileHandler
from gie_picker.scheduling.registry import PluginRegistry
from gie_picker.scheduling.scorers import (
    ActiveRequestParameters,
    ActiveRequestScorer,
    KVCacheUtilizationScorer,
    LoraAffinityScorer,
    NoHitLRUScorer,
    PrecisePrefixCacheParameters,
    PrecisePrefixCacheScorer,
    PrefixCacheParameters,
    PrefixCacheScorer,
    QueueScorer,
    SessionAffinityParameters,
    SessionAffinityScorer,
)


def register_builtins(registry: PluginRegistry) -> None:
    """Add every built-in plugin type to ``registry``."""
    registry.register(QueueScorer.TYPE, QueueScorer.create, NoParameters)
    registry.register(KVCacheUtilizationScorer.TYPE, KVCacheUtilizationScorer.create, NoParameters)
    registry.register(LoraAffinityScorer.TYPE, LoraAffinityScorer.create, NoParameters)
    registry.register(ActiveRequestScorer.TYPE, ActiveRequestScorer.create, ActiveRequestParameters)
    registry.register(PrefixCacheScorer.TYPE, PrefixCacheScorer.create, PrefixCacheParameters)
    registry.register(
        PrecisePrefixCacheScorer.TYPE,
        PrecisePrefixCacheScorer.create,
        PrecisePrefixCacheParameters,
    )
    registry.register(NoHitLRUScorer.TYPE, NoHitLRUScorer.create, NoParameters)
    registry.register(
        SessionAffinityScorer.TYPE, SessionAffinityScorer.create, SessionAffinityParameters
    )
    registry.register(MaxScorePicker.TYPE, MaxScorePicker.create, PickerParameters)
    registry.register(RandomPicker.TYPE, RandomPicker.create, PickerParameters)
    registry.register(WeightedRandomPicker.TYPE, WeightedRandomPicker.create, PickerParameters)
    registry.register(SingleProfileHandler.TYPE, SingleProfileHandler.create, NoParameters)
    registry.register(HeaderBasedTestingFilter.TYPE, HeaderBasedTestingFilter.create, NoParameters)


def builtin_registry() -> PluginRegistry:
    """A fresh registry holding the built-in plugins."""
    registry = PluginRegistry()
    register_builtins(registry)
    return registry
