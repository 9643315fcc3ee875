"""The effective configuration: the document with every default filled in, checked."""

from __future__ import annotations

from dataclasses import dataclass, field

from gie.flowcontrol import FlowControlConfig
from gie.saturation import SaturationConfig
from gie_picker.scheduling.contracts import PluginKind
from gie_picker.scheduling.parameters import PluginParameters

KNOWN_FEATURE_GATES = frozenset({"flowControl"})


@dataclass(frozen=True, slots=True)
class PluginSpec:
    """One plugin instance: its name, type, validated parameters and roles."""

    name: str
    type: str
    parameters: PluginParameters
    kinds: frozenset[PluginKind]


@dataclass(frozen=True, slots=True)
class ProfilePlugin:
    """A profile's reference to a plugin; ``weight`` is set for scorers only."""

    plugin_ref: str
    weight: int | None = None


@dataclass(frozen=True, slots=True)
class ProfileSpec:
    name: str
    plugins: tuple[ProfilePlugin, ...]


@dataclass(frozen=True, slots=True)
class EffectiveConfig:
    """What the picker runs with. Every profile has exactly one picker, every
    scorer reference a weight, and ``profile_handler`` names the one handler."""

    plugins: tuple[PluginSpec, ...]
    profiles: tuple[ProfileSpec, ...]
    profile_handler: str
    saturation: SaturationConfig
    feature_gates: frozenset[str] = frozenset()
    flow_control: FlowControlConfig = field(default_factory=FlowControlConfig)
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def plugin(self, name: str) -> PluginSpec:
        """The plugin named ``name``; KeyError when there is none."""
        for spec in self.plugins:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def feature_enabled(self, gate: str) -> bool:
        """True when ``featureGates`` lists ``gate`` (e.g. ``flowControl``)."""
        return gate in self.feature_gates
