"""Loading phase 3: each plugin entry becomes a checked :class:`PluginSpec`.

The plugin's type must be registered and its parameters must validate against
the type's model. The plugin is then created once, with inert dependencies, to
learn its roles (filter, scorer, picker, profile handler); the scheduler
creates the real instances later (``build_scheduler``).
"""

from __future__ import annotations

import random

from pydantic import ValidationError

from gie_picker.config.document import PluginDoc
from gie_picker.config.effective import PluginSpec
from gie_picker.config.problems import plugin_label, problem, validation_problems
from gie_picker.scheduling.contracts import PluginContext, plugin_kinds
from gie_picker.scheduling.parameters import PluginParameters
from gie_picker.scheduling.registry import PluginEntry, PluginRegistry


class _NoneInFlight:
    def count(self, address: str) -> int:
        return 0


_PROBE = PluginContext(inflight=_NoneInFlight(), rng=random.Random(0))


def make_spec(entry: PluginEntry, name: str, params: PluginParameters) -> PluginSpec:
    """A spec for a plugin of ``entry``'s type, its roles learnt from an instance."""
    return PluginSpec(
        name, entry.type_name, params, plugin_kinds(entry.create(name, params, _PROBE))
    )


def instantiate_plugins(
    raw: object, plugins: list[PluginDoc], registry: PluginRegistry
) -> tuple[list[PluginSpec], list[str], list[str]]:
    """Specs for the plugin entries, with the problems and warnings found."""
    specs: list[PluginSpec] = []
    problems: list[str] = []
    warnings: list[str] = []
    first_index: dict[str, int] = {}
    for index, doc in enumerate(plugins):
        name = doc.name or doc.type
        if name in first_index:
            problems.append(
                problem(
                    raw,
                    ("plugins", index, "name"),
                    f'"{name}" is already the name of plugins[{first_index[name]}]',
                )
            )
            continue
        first_index[name] = index
        entry = registry.get(doc.type)
        if entry is None:
            known = ", ".join(registry.types())
            problems.append(
                problem(
                    raw,
                    ("plugins", index, "type"),
                    f'unknown plugin type "{doc.type}"; known types: {known}',
                )
            )
            continue
        try:
            params = entry.params_model.model_validate(doc.parameters or {})
        except ValidationError as exc:
            problems.extend(
                validation_problems(
                    raw,
                    exc,
                    prefix=("plugins", index, "parameters"),
                    model_at={(): entry.params_model},
                )
            )
            continue
        spec = make_spec(entry, name, params)
        if not spec.kinds:
            problems.append(
                problem(
                    raw, ("plugins", index), "is not a filter, scorer, picker or profile handler"
                )
            )
            continue
        specs.append(spec)
        warnings.extend(f"{plugin_label(raw, index)}: {text}" for text in params.warnings())
    return specs, problems, warnings
