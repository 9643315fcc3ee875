"""The plugin registry: explicit registration, duplicates refused."""

from __future__ import annotations

import pytest

from gie_picker.config import load_text
from gie_picker.scheduling import (
    DuplicatePluginTypeError,
    NoParameters,
    PluginRegistry,
    builtin_registry,
    register_builtins,
)
from gie_picker.scheduling.scorers import QueueScorer

BUILTIN_TYPES = [
    "active-request-scorer",
    "header-based-testing-filter",
    "kv-cache-utilization-scorer",
    "lora-affinity-scorer",
    "max-score-picker",
    "no-hit-lru-scorer",
    "precise-prefix-cache-scorer",
    "prefix-cache-scorer",
    "queue-scorer",
    "random-picker",
    "session-affinity-scorer",
    "single-profile-handler",
    "weighted-random-picker",
]


def test_a_new_registry_is_empty_until_builtins_are_registered() -> None:
    registry = PluginRegistry()
    assert registry.types() == []
    register_builtins(registry)
    assert registry.types() == BUILTIN_TYPES == builtin_registry().types()


def test_registering_a_type_twice_is_refused() -> None:
    registry = builtin_registry()
    with pytest.raises(DuplicatePluginTypeError, match="'queue-scorer' is already registered"):
        registry.register(QueueScorer.TYPE, QueueScorer.create, NoParameters)


def test_an_out_of_tree_plugin_type_becomes_loadable() -> None:
    registry = builtin_registry()
    registry.register("my-queue-scorer", QueueScorer.create, NoParameters)
    config = load_text(
        "apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\n"
        "plugins:\n- type: my-queue-scorer\n",
        plugins=registry,
    )
    assert config.plugin("my-queue-scorer").kinds == frozenset({"scorer"})
