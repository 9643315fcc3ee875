"""Loading an EndpointPickerConfig, in phases; each phase reports every problem it finds.

1. parse: the text is one YAML mapping;
2. validate the document: apiVersion/kind, field names and types, weights; the
   ``saturationDetector`` and ``featureGates`` sections (``sections``);
3. instantiate: plugin types, names and parameters (``instantiate``);
4. default: upstream's defaulting (``defaults``);
5. validate references between profiles and plugins (``validation``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from gie.config.strict_yaml import safe_load_strict
from gie_picker.config.defaults import apply_defaults
from gie_picker.config.document import MODEL_AT, ConfigDoc
from gie_picker.config.effective import EffectiveConfig, ProfilePlugin, ProfileSpec
from gie_picker.config.errors import ConfigError
from gie_picker.config.instantiate import instantiate_plugins
from gie_picker.config.problems import validation_problems
from gie_picker.config.sections import feature_gates, flow_control_config, saturation_config
from gie_picker.config.validation import handler_name, profile_warnings, reference_problems
from gie_picker.scheduling.builtins import builtin_registry
from gie_picker.scheduling.registry import PluginRegistry

DEFAULT_CONFIG_FILE = "default-plugins.yaml"


def parse_yaml(text: str) -> dict[str, object]:
    """Phase 1: the document as a mapping."""
    try:
        raw = safe_load_strict(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigError([f"not valid YAML{at}: {exc.problem or exc}"]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError([f"not valid YAML: {exc}"]) from exc
    if raw is None:
        raise ConfigError(["the configuration is empty"])
    if not isinstance(raw, dict):
        shown = f" {raw!r}" if isinstance(raw, str) else ""
        raise ConfigError(
            [f"the configuration must be a YAML mapping, not {type(raw).__name__}{shown}"]
        )
    return raw


def validate_document(raw: dict[str, object]) -> ConfigDoc:
    """Phase 2: the document's shape and types."""
    try:
        return ConfigDoc.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(validation_problems(raw, exc, model_at=MODEL_AT)) from exc


def _profiles(doc: ConfigDoc) -> list[ProfileSpec]:
    return [
        ProfileSpec(
            profile.name,
            tuple(ProfilePlugin(ref.plugin_ref, ref.weight) for ref in profile.plugins or []),
        )
        for profile in doc.scheduling_profiles or []
    ]


def load_text(text: str, *, plugins: PluginRegistry | None = None) -> EffectiveConfig:
    """Load a configuration from YAML text; ConfigError lists every problem.

    Warnings (ignored feature gates, deprecated parameters) are returned in
    ``EffectiveConfig.warnings``; ``log_effective`` logs them at start-up."""
    registry = plugins if plugins is not None else builtin_registry()
    raw = parse_yaml(text)
    doc = validate_document(raw)
    saturation, problems = saturation_config(raw, doc.saturation_detector)
    flow_control, flow_problems = flow_control_config(raw, doc.flow_control)
    problems += flow_problems
    gates, warnings = feature_gates(doc.feature_gates or [])
    specs, plugin_problems, plugin_warnings = instantiate_plugins(raw, doc.plugins or [], registry)
    if problems or plugin_problems:
        raise ConfigError(problems + plugin_problems)
    specs, profiles = apply_defaults(specs, _profiles(doc), registry)
    problems = reference_problems(specs, profiles)
    if problems:
        raise ConfigError(problems)
    return EffectiveConfig(
        plugins=tuple(specs),
        profiles=tuple(profiles),
        profile_handler=handler_name(specs),
        saturation=saturation,
        flow_control=flow_control,
        feature_gates=gates,
        warnings=(*warnings, *plugin_warnings, *profile_warnings(profiles)),
    )


def _names_file(text: str) -> bool:
    if "\n" in text:
        return False
    try:
        return Path(text).is_file()
    except (OSError, ValueError):  # a name too long, or a NUL: YAML text
        return False


def load_config(source: str | Path, *, plugins: PluginRegistry | None = None) -> EffectiveConfig:
    """Load a configuration from a file (a ``Path``, or a one-line ``str`` naming an
    existing file) or from YAML text (any other ``str``)."""
    if isinstance(source, str) and not _names_file(source):
        return load_text(source, plugins=plugins)
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"cannot read {path}: {exc}"]) from exc
    return load_text(text, plugins=plugins)


def default_config_text() -> str:
    """The upstream Helm chart's default configuration, as shipped."""
    return resources.files("gie_picker.config").joinpath(DEFAULT_CONFIG_FILE).read_text()


def default_config() -> EffectiveConfig:
    """The effective configuration of the upstream chart's default."""
    return load_text(default_config_text())
