"""Loading phase 5: the defaulted profiles and plugins must fit together.

Profile names are unique; every ``pluginRef`` names a plugin that is a filter,
scorer or picker; only scorers take a weight; a profile has one picker; there
is exactly one profile handler, and ``single-profile-handler`` has one profile.
"""

from __future__ import annotations

from gie_picker.config.effective import PluginSpec, ProfilePlugin, ProfileSpec
from gie_picker.scheduling.profiles import SingleProfileHandler


def _plugin(index: int, spec: PluginSpec) -> str:
    return f'plugins[{index}] (name "{spec.name}", type "{spec.type}")'


def _reference(profile: int, spec: ProfileSpec, index: int, target: PluginSpec | None) -> str:
    ref = spec.plugins[index].plugin_ref
    typed = f', type "{target.type}"' if target is not None else ""
    return (
        f'schedulingProfiles[{profile}] (name "{spec.name}"): '
        f'plugins[{index}] (pluginRef "{ref}"{typed})'
    )


def _reference_problem(ref: ProfilePlugin, target: PluginSpec | None, known: str) -> str | None:
    if target is None:
        return f'pluginRef: no plugin is named "{ref.plugin_ref}"; plugins are: {known}'
    if "profile-handler" in target.kinds:
        return "a profile handler cannot be part of a profile"
    if ref.weight is not None and "scorer" not in target.kinds:
        return "weight: only scorers take a weight"
    return None


def _profile_problems(
    number: int, profile: ProfileSpec, plugins: dict[str, PluginSpec]
) -> list[str]:
    problems = []
    picker: str | None = None
    known = ", ".join(plugins)
    for index, ref in enumerate(profile.plugins):
        target = plugins.get(ref.plugin_ref)
        where = _reference(number, profile, index, target)
        message = _reference_problem(ref, target, known)
        if message is None and target is not None and "picker" in target.kinds:
            if picker is not None:
                message = f'a profile has one picker, and "{picker}" is this one\'s'
            picker = picker or target.name
        if message is not None:
            problems.append(f"{where}: {message}")
    return problems


def _name_problems(profiles: list[ProfileSpec]) -> list[str]:
    first: dict[str, int] = {}
    problems = []
    for number, profile in enumerate(profiles):
        if profile.name in first:
            problems.append(
                f'schedulingProfiles[{number}] (name "{profile.name}"): name: already the '
                f"name of schedulingProfiles[{first[profile.name]}]"
            )
        first.setdefault(profile.name, number)
    return problems


def _handler_problems(plugins: list[PluginSpec], profiles: list[ProfileSpec]) -> list[str]:
    handlers = [(i, spec) for i, spec in enumerate(plugins) if "profile-handler" in spec.kinds]
    if not handlers:
        return [f"plugins: {len(profiles)} scheduling profiles need a profile handler plugin"]
    problems = [
        f'{_plugin(i, spec)}: only one profile handler is allowed, and "{handlers[0][1].name}" '
        "is one already"
        for i, spec in handlers[1:]
    ]
    index, spec = handlers[0]
    if spec.type == SingleProfileHandler.TYPE and len(profiles) != 1:
        problems.append(
            f"{_plugin(index, spec)}: runs exactly one scheduling profile, "
            f"but {len(profiles)} are defined"
        )
    return problems


def reference_problems(plugins: list[PluginSpec], profiles: list[ProfileSpec]) -> list[str]:
    """Every problem in how the profiles use the plugins (empty when all is well)."""
    by_name = {spec.name: spec for spec in plugins}
    problems = _name_problems(profiles)
    for number, profile in enumerate(profiles):
        problems.extend(_profile_problems(number, profile, by_name))
    return problems + _handler_problems(plugins, profiles)


def profile_warnings(profiles: list[ProfileSpec]) -> list[str]:
    """Profiles that load but probably do not say what was meant."""
    warnings = []
    for number, profile in enumerate(profiles):
        first: dict[str, int] = {}
        for index, ref in enumerate(profile.plugins):
            if ref.plugin_ref in first:
                warnings.append(
                    f'schedulingProfiles[{number}] (name "{profile.name}"): plugins[{index}] '
                    f'(pluginRef "{ref.plugin_ref}"): repeats plugins[{first[ref.plugin_ref]}]; '
                    "a scorer listed twice counts twice"
                )
            first.setdefault(ref.plugin_ref, index)
    return warnings


def handler_name(plugins: list[PluginSpec]) -> str:
    """The profile handler's name (call after ``reference_problems`` found none)."""
    return next(spec.name for spec in plugins if "profile-handler" in spec.kinds)
