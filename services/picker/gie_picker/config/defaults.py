"""Loading phase 4: upstream's defaulting, once the plugins' roles are known.

1. No ``schedulingProfiles``: one profile ``default`` referencing every filter,
   scorer and picker, in the order the plugins are listed.
2. No profile handler and exactly one profile: a ``single-profile-handler``.
3. The default picker is the first picker listed; with none, a
   ``max-score-picker`` (``maxNumOfEndpoints: 1``) is added.
4. A scorer referenced without a weight gets weight 1.
5. A profile without a picker gets the default picker.

Plugin names default to their types earlier, when the entries are read.
References that resolve to nothing are left for phase 5 to report.
"""

from __future__ import annotations

from gie_picker.config.effective import PluginSpec, ProfilePlugin, ProfileSpec
from gie_picker.config.errors import ConfigError
from gie_picker.config.instantiate import make_spec
from gie_picker.scheduling.contracts import PluginKind
from gie_picker.scheduling.registry import PluginRegistry

DEFAULT_PROFILE = "default"
DEFAULT_HANDLER_TYPE = "single-profile-handler"
DEFAULT_PICKER_TYPE = "max-score-picker"
DEFAULT_WEIGHT = 1

_SCHEDULING_KINDS: frozenset[PluginKind] = frozenset({"filter", "scorer", "picker"})


def _builtin(registry: PluginRegistry, type_name: str, plugins: list[PluginSpec]) -> PluginSpec:
    entry = registry.get(type_name)
    if entry is None:
        raise ConfigError([f'the default plugin type "{type_name}" is not registered'])
    for index, spec in enumerate(plugins):
        if spec.name == type_name:
            raise ConfigError(
                [
                    f'plugins[{index}] (name "{spec.name}", type "{spec.type}"): name: '
                    f'"{type_name}" is the name of a plugin gie adds by default; rename this one'
                ]
            )
    return make_spec(entry, type_name, entry.params_model())


def _with_kind(plugins: list[PluginSpec], kind: PluginKind) -> list[PluginSpec]:
    return [spec for spec in plugins if kind in spec.kinds]


def _default_profile(plugins: list[PluginSpec]) -> ProfileSpec:
    refs = tuple(ProfilePlugin(spec.name) for spec in plugins if spec.kinds & _SCHEDULING_KINDS)
    return ProfileSpec(DEFAULT_PROFILE, refs)


def _complete(profile: ProfileSpec, by_name: dict[str, PluginSpec], picker: str) -> ProfileSpec:
    refs: list[ProfilePlugin] = []
    has_picker = False
    for ref in profile.plugins:
        spec = by_name.get(ref.plugin_ref)
        kinds = spec.kinds if spec is not None else frozenset()
        has_picker = has_picker or "picker" in kinds
        weighted = "scorer" in kinds and ref.weight is None
        refs.append(ProfilePlugin(ref.plugin_ref, DEFAULT_WEIGHT) if weighted else ref)
    if not has_picker:
        refs.append(ProfilePlugin(picker))
    return ProfileSpec(profile.name, tuple(refs))


def apply_defaults(
    plugins: list[PluginSpec], profiles: list[ProfileSpec], registry: PluginRegistry
) -> tuple[list[PluginSpec], list[ProfileSpec]]:
    """The plugins and profiles with upstream's defaults applied (see the module doc)."""
    plugins = list(plugins)
    profiles = list(profiles) or [_default_profile(plugins)]
    if len(profiles) == 1 and not _with_kind(plugins, "profile-handler"):
        plugins.append(_builtin(registry, DEFAULT_HANDLER_TYPE, plugins))
    pickers = _with_kind(plugins, "picker")
    if not pickers:
        pickers = [_builtin(registry, DEFAULT_PICKER_TYPE, plugins)]
        plugins.append(pickers[0])
    by_name = {spec.name: spec for spec in plugins}
    return plugins, [_complete(profile, by_name, pickers[0].name) for profile in profiles]
