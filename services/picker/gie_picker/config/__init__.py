"""The picker's EndpointPickerConfig: upstream's YAML API, loaded strictly.

``load_config`` reads a document (``apiVersion: inference.networking.x-k8s.io/v1alpha1``,
``kind: EndpointPickerConfig``) in phases (see :mod:`gie_picker.config.loader`)
and returns a frozen :class:`EffectiveConfig` with upstream's defaults filled in,
or raises :class:`ConfigError` listing every problem, each naming the plugin
(index, name, type) or profile and the field. ``default_config()`` is the
upstream Helm chart's default; ``render_effective`` writes any effective
configuration back as complete YAML, and ``log_effective`` logs it with its
warnings once at start-up. Loading does no I/O beyond reading the file, logs
nothing, and is safe to call from any thread.
"""

from __future__ import annotations

from gie_picker.config.document import API_VERSION, KIND
from gie_picker.config.effective import (
    KNOWN_FEATURE_GATES,
    EffectiveConfig,
    PluginSpec,
    ProfilePlugin,
    ProfileSpec,
)
from gie_picker.config.errors import ConfigError
from gie_picker.config.loader import default_config, default_config_text, load_config, load_text
from gie_picker.config.log import log_effective
from gie_picker.config.render import effective_document, render_effective

__all__ = [
    "API_VERSION",
    "KIND",
    "KNOWN_FEATURE_GATES",
    "ConfigError",
    "EffectiveConfig",
    "PluginSpec",
    "ProfilePlugin",
    "ProfileSpec",
    "default_config",
    "default_config_text",
    "effective_document",
    "load_config",
    "load_text",
    "log_effective",
    "render_effective",
]
