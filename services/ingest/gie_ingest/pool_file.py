"""The static pool file: a pool name and its endpoints, in YAML.

```yaml
pool: default/sim-pool        # namespace/name of the InferencePool
endpoints:                    # ip:port of every model server
  - 127.0.0.1:8001
  - address: 127.0.0.1:8002   # or a mapping with optional name and labels
    name: sim-1
    labels: {zone: a}
objectives:                   # optional: InferenceObjectives (priority classes)
  - {name: critical, priority: 10}
  - {name: batch, priority: -1}   # negative: sheddable under saturation
```
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gie.config.strict_yaml import safe_load_strict
from gie.events import Endpoint


class PoolFileError(Exception):
    """The pool file cannot be read or is invalid; the message names the field."""


class Objective(BaseModel):
    """An InferenceObjective: requests naming it get its priority (unset = 0)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    # An int32, as the InferenceObjective CRD has it (flow control keys flows by it).
    priority: int = Field(default=0, ge=-(2**31), le=2**31 - 1)


class PoolFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    pool: str
    endpoints: tuple[Endpoint, ...]
    objectives: tuple[Objective, ...] = ()

    @field_validator("pool")
    @classmethod
    def _check_pool(cls, value: str) -> str:
        namespace, sep, name = value.partition("/")
        if not sep or not namespace or not name or "/" in name:
            raise ValueError(f"must be namespace/name, got {value!r}")
        return value

    @field_validator("endpoints", mode="before")
    @classmethod
    def _expand_strings(cls, value: object) -> object:
        if isinstance(value, list):
            return [{"address": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("endpoints")
    @classmethod
    def _unique(cls, value: tuple[Endpoint, ...]) -> tuple[Endpoint, ...]:
        seen: set[str] = set()
        for endpoint in value:
            if endpoint.address in seen:
                raise ValueError(f"endpoint {endpoint.address} is listed twice")
            seen.add(endpoint.address)
        return value

    @field_validator("objectives")
    @classmethod
    def _unique_objectives(cls, value: tuple[Objective, ...]) -> tuple[Objective, ...]:
        names = [objective.name for objective in value]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"objective {name!r} is listed twice")
        return value


def load_pool_file(path: Path) -> tuple[PoolFile, str]:
    """Parse and validate the pool file; return it with a digest of its content."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise PoolFileError(f"cannot read pool file {path}: {exc.strerror}") from exc
    try:
        raw = safe_load_strict(text)
    except yaml.YAMLError as exc:
        raise PoolFileError(f"pool file {path} is not valid YAML: {exc}") from exc
    try:
        parsed = PoolFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise PoolFileError(f"pool file {path} is invalid: {problems}") from exc
    return parsed, hashlib.sha256(text).hexdigest()[:16]
