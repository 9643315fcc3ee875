"""InferenceObjectives and InferenceModelRewrites of a pool, as facts.

Both name their pool with ``spec.poolRef`` (``name``; ``kind`` InferencePool by
default). Objects of other pools are not ours (``None``); an object of our pool that
cannot be read raises :class:`InvalidObject` naming the field.

An invalid InferenceModelRewrite is *removed* from the published set even when an
earlier version of it was valid: a rewrite that no longer says what it means must
not keep routing requests by its old rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from gie.events import RewriteRule
from gie_ingest.kube.errors import InvalidObject


@dataclass(frozen=True, slots=True)
class Rewrite:
    """The content of one InferenceModelRewrite, as its ModelRewriteUpserted carries it."""

    created: datetime
    rules: tuple[RewriteRule, ...]


def _spec_for_pool(obj: dict[str, Any], pool_name: str) -> dict[str, Any] | None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return None
    ref = spec.get("poolRef")
    if not isinstance(ref, dict) or ref.get("name") != pool_name:
        return None
    if ref.get("kind", "InferencePool") != "InferencePool":
        return None
    return spec


def objective_priority(obj: dict[str, Any], pool_name: str) -> int | None:
    """The priority of an InferenceObjective of the pool (unset = 0), else None."""
    spec = _spec_for_pool(obj, pool_name)
    if spec is None:
        return None
    priority = spec.get("priority", 0)
    if priority is None:
        return 0
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise InvalidObject(f"spec.priority: {priority!r} is not an integer")
    return priority


def _created(obj: dict[str, Any]) -> datetime:
    stamp = (obj.get("metadata") or {}).get("creationTimestamp")
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidObject(f"metadata.creationTimestamp: {stamp!r} is not a time") from exc


def _rule(raw: Any, index: int) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidObject(f"spec.rules[{index}]: must be an object")
    matches = []
    for m, match in enumerate(raw.get("matches") or ()):
        model = match.get("model") if isinstance(match, dict) else None
        if not isinstance(model, dict) or model.get("type", "Exact") != "Exact":
            raise InvalidObject(f"spec.rules[{index}].matches[{m}].model: only Exact is known")
        matches.append(model.get("value"))
    targets = [
        {"model": target.get("modelRewrite"), "weight": target.get("weight")}
        if isinstance(target, dict)
        else {}
        for target in raw.get("targets") or ()
    ]
    return {"matches": matches, "targets": targets}


def rewrite_of(obj: dict[str, Any], pool_name: str) -> Rewrite | None:
    """The rules of an InferenceModelRewrite of the pool, else None."""
    spec = _spec_for_pool(obj, pool_name)
    if spec is None:
        return None
    raw_rules = spec.get("rules") or []
    if not isinstance(raw_rules, list):
        raise InvalidObject("spec.rules: must be a list")
    rules: list[RewriteRule] = []
    for index, raw in enumerate(raw_rules):
        try:
            rules.append(RewriteRule.model_validate(_rule(raw, index)))
        except ValidationError as exc:
            problems = "; ".join(
                f"spec.rules[{index}].{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                for e in exc.errors()
            )
            raise InvalidObject(problems) from exc
    return Rewrite(created=_created(obj), rules=tuple(rules))
