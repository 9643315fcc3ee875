"""Which model a request's ``model`` becomes under the pool's InferenceModelRewrites.

Selection, as upstream defines it:

* a rule whose ``matches`` name the request's model exactly beats a generic rule
  (empty ``matches``, which matches every request);
* among rules of the same kind, the first matching rule of the oldest rewrite wins
  (rewrites ordered by ``created``, then name; rules in their declared order);
* the winning rule's target is drawn at random in proportion to the weights
  (unweighted targets have equal shares).

:class:`RewriteTable` is built once per change of the rewrites (a dict from model
name to its rule's targets, plus the generic rule), so a request costs one dict
lookup, and a draw only when a rule matches. :class:`ModelRewrites` holds the
current table and the random source. Both are used on the event loop only.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterable
from dataclasses import dataclass

from gie.events import ModelRewriteUpserted, RewriteRule

__all__ = ["ModelRewrites", "RewriteTable", "TargetChoice"]


@dataclass(frozen=True, slots=True)
class TargetChoice:
    """The targets of one rule and their cumulative weights (the last is the total)."""

    models: tuple[str, ...]
    cumulative: tuple[int, ...]

    @classmethod
    def of(cls, rule: RewriteRule) -> TargetChoice:
        weights = [target.weight or 1 for target in rule.targets]  # unweighted: equal shares
        return cls(
            models=tuple(target.model for target in rule.targets),
            cumulative=tuple(itertools.accumulate(weights)),
        )

    def pick(self, rng: random.Random) -> str:
        if len(self.models) == 1:
            return self.models[0]
        point = rng.random() * self.cumulative[-1]
        return self.models[bisect.bisect_right(self.cumulative, point)]


@dataclass(frozen=True, slots=True)
class RewriteTable:
    """The rule that applies to each model, precomputed from the rewrites."""

    exact: dict[str, TargetChoice]
    generic: TargetChoice | None = None

    @classmethod
    def build(cls, rewrites: Iterable[ModelRewriteUpserted]) -> RewriteTable:
        """``rewrites`` oldest first (as ``PoolView.rewrites()`` gives them)."""
        exact: dict[str, TargetChoice] = {}
        generic: TargetChoice | None = None
        for rewrite in rewrites:
            for rule in rewrite.rules:
                if not rule.matches:
                    generic = generic or TargetChoice.of(rule)
                    continue
                choice = TargetChoice.of(rule)
                for model in rule.matches:
                    exact.setdefault(model, choice)  # an older or earlier rule keeps it
        return cls(exact, generic)

    def __len__(self) -> int:
        """How many rules can apply (exact model names, plus one for a generic rule)."""
        return len(self.exact) + (self.generic is not None)

    def choice_for(self, model: str) -> TargetChoice | None:
        return self.exact.get(model, self.generic)


_EMPTY = RewriteTable({})


class ModelRewrites:
    """The current rewrite table of a pool and the random source of its draws."""

    def __init__(self, *, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()
        self.table = _EMPTY

    def update(self, rewrites: Iterable[ModelRewriteUpserted]) -> None:
        """Rebuild the table (call when the pool's rewrites changed)."""
        self.table = RewriteTable.build(rewrites)

    def target_for(self, model: str) -> str | None:
        """The model to send ``model``'s request to; None when no rule applies."""
        choice = self.table.exact.get(model, self.table.generic)
        return None if choice is None else choice.pick(self._rng)
