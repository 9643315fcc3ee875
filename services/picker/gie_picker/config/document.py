"""The EndpointPickerConfig document as written (upstream's v1alpha1 API), before defaults.

Strict: unknown fields are errors, and values must have the right YAML type
(``weight: "2"`` is not a weight).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

API_VERSION = "inference.networking.x-k8s.io/v1alpha1"
KIND = "EndpointPickerConfig"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


MAX_WEIGHT = 1_000_000


class PluginDoc(_Strict):
    """``plugins[]``: a plugin instance. The name defaults to the type."""

    name: str = ""
    type: str = Field(min_length=1)
    parameters: dict[str, object] | None = None


class ProfilePluginDoc(_Strict):
    """``schedulingProfiles[].plugins[]``: a reference to a plugin, with a scorer's weight."""

    plugin_ref: str = Field(min_length=1, alias="pluginRef")
    # Bounded so that weight x score stays an exact, finite float.
    weight: int | None = Field(default=None, ge=0, le=MAX_WEIGHT)


class ProfileDoc(_Strict):
    """``schedulingProfiles[]``: a named profile."""

    name: str = Field(min_length=1)
    plugins: list[ProfilePluginDoc] | None = None


class ConfigDoc(_Strict):
    """The whole document."""

    api_version: Literal["inference.networking.x-k8s.io/v1alpha1"] = Field(alias="apiVersion")
    kind: Literal["EndpointPickerConfig"]
    plugins: list[PluginDoc] | None = None
    scheduling_profiles: list[ProfileDoc] | None = Field(default=None, alias="schedulingProfiles")
    feature_gates: list[str] | None = Field(default=None, alias="featureGates")
    saturation_detector: dict[str, object] | None = Field(default=None, alias="saturationDetector")
    flow_control: dict[str, object] | None = Field(default=None, alias="flowControl")


def known_fields(model: type[BaseModel]) -> list[str]:
    """The names a document may use for ``model``'s fields."""
    return [field.alias or name for name, field in model.model_fields.items()]


# Which model validates the mapping at a location (list indexes left out).
MODEL_AT: dict[tuple[str, ...], type[BaseModel]] = {
    (): ConfigDoc,
    ("plugins",): PluginDoc,
    ("schedulingProfiles",): ProfileDoc,
    ("schedulingProfiles", "plugins"): ProfilePluginDoc,
}
