"""The effective configuration as YAML: a complete EndpointPickerConfig.

Every default is written out (plugin names, parameters, weights, the added
profile handler and picker, saturation thresholds), and loading the output
gives the same effective configuration.
"""

from __future__ import annotations

import yaml

from gie_picker.config.document import API_VERSION, KIND
from gie_picker.config.effective import EffectiveConfig, PluginSpec, ProfilePlugin


def _plugin(spec: PluginSpec) -> dict[str, object]:
    entry: dict[str, object] = {"name": spec.name, "type": spec.type}
    parameters = spec.parameters.model_dump(by_alias=True, mode="json", exclude_none=True)
    if parameters:
        entry["parameters"] = parameters
    return entry


def _reference(ref: ProfilePlugin) -> dict[str, object]:
    entry: dict[str, object] = {"pluginRef": ref.plugin_ref}
    if ref.weight is not None:
        entry["weight"] = ref.weight
    return entry


def effective_document(config: EffectiveConfig) -> dict[str, object]:
    """The effective configuration as an EndpointPickerConfig mapping."""
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "featureGates": sorted(config.feature_gates),
        "saturationDetector": config.saturation.model_dump(by_alias=True, mode="json"),
        "flowControl": config.flow_control.model_dump(by_alias=True, mode="json"),
        "plugins": [_plugin(spec) for spec in config.plugins],
        "schedulingProfiles": [
            {"name": profile.name, "plugins": [_reference(ref) for ref in profile.plugins]}
            for profile in config.profiles
        ],
    }


def render_effective(config: EffectiveConfig) -> str:
    """YAML of :func:`effective_document`, keys in the document's usual order."""
    return yaml.safe_dump(effective_document(config), sort_keys=False, default_flow_style=False)
