"""Problem lines that say where they are, in the operator's terms.

A location ``("plugins", 2, "parameters", "blockSize")`` reads
``plugins[2] (name "prefix", type "prefix-cache-scorer"): parameters.blockSize``:
list entries are named from the raw document (name and type of a plugin, name
of a profile, pluginRef and type of a profile entry) so a problem can be found
without counting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ValidationError

from gie.config.errors import dotted
from gie_picker.config.document import known_fields

Loc = tuple[str | int, ...]


def _get(raw: object, *path: str | int) -> object:
    for key in path:
        if isinstance(key, int) and isinstance(raw, list) and 0 <= key < len(raw):
            raw = raw[key]
        elif isinstance(key, str) and isinstance(raw, Mapping):
            raw = raw.get(key)
        else:
            return None
    return raw


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _type_of(raw: object, name: str) -> str | None:
    plugins = _get(raw, "plugins")
    for entry in plugins if isinstance(plugins, list) else []:
        entry_type = _text(_get(entry, "type"))
        if (_text(_get(entry, "name")) or entry_type) == name:
            return entry_type
    return None


def _label(head: str, pairs: Sequence[tuple[str, str | None]]) -> str:
    shown = [f'{key} "{value}"' for key, value in pairs if value]
    return f"{head} ({', '.join(shown)})" if shown else head


def plugin_label(raw: object, index: int) -> str:
    """``plugins[i] (name "...", type "...")``; the name defaults to the type."""
    plugin_type = _text(_get(raw, "plugins", index, "type"))
    name = _text(_get(raw, "plugins", index, "name")) or plugin_type
    return _label(f"plugins[{index}]", [("name", name), ("type", plugin_type)])


def profile_label(raw: object, index: int) -> str:
    name = _text(_get(raw, "schedulingProfiles", index, "name"))
    return _label(f"schedulingProfiles[{index}]", [("name", name)])


def reference_label(raw: object, profile: int, index: int) -> str:
    """``schedulingProfiles[i] (name "..."): plugins[j] (pluginRef "...", type "...")``."""
    ref = _text(_get(raw, "schedulingProfiles", profile, "plugins", index, "pluginRef"))
    plugin_type = _type_of(raw, ref) if ref else None
    entry = _label(f"plugins[{index}]", [("pluginRef", ref), ("type", plugin_type)])
    return f"{profile_label(raw, profile)}: {entry}"


def where(raw: object, loc: Loc) -> str:
    """The readable location of ``loc`` in the raw document."""
    match loc:
        case ("plugins", int(index), *rest):
            head = plugin_label(raw, index)
        case ("schedulingProfiles", int(profile), "plugins", int(index), *rest):
            head = reference_label(raw, profile, index)
        case ("schedulingProfiles", int(profile), *rest):
            head = profile_label(raw, profile)
        case _:
            head, rest = "", list(loc)
    field = dotted(tuple(rest))
    return f"{head}: {field}" if head and field else head or field or "document"


def problem(raw: object, loc: Loc, message: str) -> str:
    return f"{where(raw, loc)}: {message}"


def _message(error: Mapping[str, object], known: list[str]) -> str:
    kind, msg = error["type"], str(error["msg"])
    if kind == "extra_forbidden":
        return f"unknown field; expected one of: {', '.join(known)}" if known else "unknown field"
    if kind == "missing":
        return "required field is missing"
    if kind == "literal_error":
        return f"{msg}, got {error['input']!r}"
    if kind == "model_type":
        return "must be a mapping"
    return msg.removeprefix("Value error, ")


def validation_problems(
    raw: object,
    exc: ValidationError,
    *,
    prefix: Loc = (),
    model_at: Mapping[tuple[str, ...], type[BaseModel]],
) -> list[str]:
    """One problem per pydantic error; ``model_at`` names the model validating the
    mapping at a location (indexes left out), to list the fields it accepts."""
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        shape = tuple(key for key in loc[:-1] if isinstance(key, str))
        model = model_at.get(shape)
        known = known_fields(model) if model is not None else []
        problems.append(problem(raw, prefix + loc, _message(error, known)))
    return problems
