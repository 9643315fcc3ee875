"""Events about InferenceModelRewrites: which model a request's ``model`` becomes."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gie.events.base import Event

MAX_WEIGHT = 1_000_000


class RewriteTarget(BaseModel):
    """One model a matching request may be rewritten to.

    ``weight`` is the target's share of the rule's requests; ``None`` when the
    rule's targets are unweighted (equal shares).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field(min_length=1)
    weight: int | None = Field(default=None, ge=1, le=MAX_WEIGHT)


class RewriteRule(BaseModel):
    """Requests whose model is one of ``matches`` (every request when empty) go to
    one of ``targets``, chosen at random in proportion to the weights."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    matches: tuple[str, ...] = ()
    targets: tuple[RewriteTarget, ...] = Field(min_length=1)

    @field_validator("matches")
    @classmethod
    def _non_empty_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not name for name in value):
            raise ValueError("a match names a model (empty string given)")
        return value

    @field_validator("targets")
    @classmethod
    def _all_or_none_weighted(cls, value: tuple[RewriteTarget, ...]) -> tuple[RewriteTarget, ...]:
        weighted = [target.weight is not None for target in value]
        if any(weighted) and not all(weighted):
            raise ValueError("weights are set on every target or on none")
        return value


class ModelRewriteUpserted(Event):
    """An InferenceModelRewrite of the pool exists with these ordered rules.

    ``created`` is the object's creation time: across rewrites, the oldest
    breaks ties between rules that match a request equally well.
    """

    TYPE: ClassVar[str] = "ModelRewriteUpserted"

    name: str = Field(min_length=1)
    created: datetime
    rules: tuple[RewriteRule, ...] = ()


class ModelRewriteRemoved(Event):
    """An InferenceModelRewrite was deleted; its rules no longer apply."""

    TYPE: ClassVar[str] = "ModelRewriteRemoved"

    name: str = Field(min_length=1)
