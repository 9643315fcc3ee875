"""Which model a request becomes under the pool's InferenceModelRewrites."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from gie.events import ModelRewriteUpserted, RewriteRule, RewriteTarget
from gie_picker.requestcontrol.model_rewrite import ModelRewrites, RewriteTable

POOL = "test/rewrites"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def rule(matches: tuple[str, ...], *targets: str | tuple[str, int]) -> RewriteRule:
    return RewriteRule(
        matches=matches,
        targets=tuple(
            RewriteTarget(model=t) if isinstance(t, str) else RewriteTarget(model=t[0], weight=t[1])
            for t in targets
        ),
    )


def rewrite(name: str, age_s: int, *rules: RewriteRule) -> ModelRewriteUpserted:
    """A rewrite created ``age_s`` seconds before the newest (larger = older)."""
    return ModelRewriteUpserted(
        source="t", pool=POOL, name=name, created=T0 - timedelta(seconds=age_s), rules=rules
    )


def oldest_first(*rewrites: ModelRewriteUpserted) -> list[ModelRewriteUpserted]:
    return sorted(rewrites, key=lambda r: (r.created, r.name))  # as PoolView.rewrites()


def target(rewrites: list[ModelRewriteUpserted], model: str) -> str | None:
    table = ModelRewrites(rng=random.Random(7))
    table.update(rewrites)
    return table.target_for(model)


@pytest.mark.parametrize(
    ("rewrites", "model", "expected"),
    [
        # An exact match beats a generic rule, even one of an older rewrite.
        (
            [rewrite("old", 60, rule((), "generic")), rewrite("new", 0, rule(("a",), "exact"))],
            "a",
            "exact",
        ),
        # ... and within one rewrite, whatever the rule order.
        ([rewrite("one", 0, rule((), "generic"), rule(("a",), "exact"))], "a", "exact"),
        # A model no exact rule names gets the generic rule.
        (
            [rewrite("old", 60, rule((), "generic")), rewrite("new", 0, rule(("a",), "exact"))],
            "b",
            "generic",
        ),
        # Two exact rules: the older rewrite's wins, whatever the names.
        (
            [rewrite("a-new", 0, rule(("a",), "new")), rewrite("z-old", 60, rule(("a",), "old"))],
            "a",
            "old",
        ),
        # Two generic rules: the older rewrite's wins.
        (
            [rewrite("a-new", 0, rule((), "new")), rewrite("z-old", 60, rule((), "old"))],
            "x",
            "old",
        ),
        # Same creation time: the name breaks the tie.
        ([rewrite("b", 0, rule(("a",), "b")), rewrite("a", 0, rule(("a",), "a"))], "a", "a"),
        # Within one rewrite, the first matching rule wins.
        (
            [rewrite("r", 0, rule(("x", "a"), "first"), rule(("a",), "second"))],
            "a",
            "first",
        ),
        # A rule with several matches applies to each of them.
        ([rewrite("r", 0, rule(("x", "a"), "both"))], "x", "both"),
        # Names match exactly: no prefix, no case folding.
        ([rewrite("r", 0, rule(("llama",), "t"))], "llama-3", None),
        ([rewrite("r", 0, rule(("llama",), "t"))], "Llama", None),
        # No rewrites at all.
        ([], "a", None),
    ],
    ids=[
        "exact-beats-older-generic",
        "exact-beats-earlier-generic-rule",
        "generic-for-the-rest",
        "older-exact-wins",
        "older-generic-wins",
        "name-breaks-a-creation-tie",
        "first-rule-of-a-rewrite",
        "every-match-of-a-rule",
        "no-prefix-match",
        "case-sensitive",
        "no-rewrites",
    ],
)
def test_rule_selection(
    rewrites: list[ModelRewriteUpserted], model: str, expected: str | None
) -> None:
    assert target(oldest_first(*rewrites), model) == expected


def test_weighted_targets_get_their_share_of_requests() -> None:
    rewrites = [rewrite("canary", 0, rule(("m",), ("m-v1", 80), ("m-v2", 15), ("m-v3", 5)))]
    table = ModelRewrites(rng=random.Random(2026))
    table.update(rewrites)
    draws = Counter(table.target_for("m") for _ in range(10_000))
    # Binomial standard deviations: 40, 36 and 22 requests; four of them allowed.
    assert abs(draws["m-v1"] - 8_000) <= 160
    assert abs(draws["m-v2"] - 1_500) <= 144
    assert abs(draws["m-v3"] - 500) <= 88
    assert set(draws) == {"m-v1", "m-v2", "m-v3"}


def test_unweighted_targets_share_equally() -> None:
    table = ModelRewrites(rng=random.Random(11))
    table.update([rewrite("spread", 0, rule((), "a", "b", "c", "d"))])
    draws = Counter(table.target_for("anything") for _ in range(10_000))
    assert set(draws) == {"a", "b", "c", "d"}
    assert all(abs(count - 2_500) <= 175 for count in draws.values())  # 4 sigma


def test_a_tiny_weight_is_still_drawn_and_a_huge_one_dominates() -> None:
    table = ModelRewrites(rng=random.Random(3))
    table.update([rewrite("r", 0, rule(("m",), ("big", 1_000_000), ("small", 1)))])
    draws = Counter(table.target_for("m") for _ in range(10_000))
    assert draws["big"] >= 9_990


def test_the_same_seed_draws_the_same_sequence() -> None:
    rewrites = [rewrite("r", 0, rule(("m",), ("a", 1), ("b", 1)))]
    first, second = ModelRewrites(rng=random.Random(5)), ModelRewrites(rng=random.Random(5))
    first.update(rewrites)
    second.update(rewrites)
    assert [first.target_for("m") for _ in range(50)] == [second.target_for("m") for _ in range(50)]


def test_update_replaces_the_table() -> None:
    table = ModelRewrites()
    table.update([rewrite("r", 0, rule(("m",), "m-v2"))])
    assert table.target_for("m") == "m-v2"
    table.update([])  # the rewrite was removed
    assert table.target_for("m") is None


def test_the_table_holds_one_entry_per_matched_model_and_the_generic_rule() -> None:
    table = RewriteTable.build(
        oldest_first(
            rewrite("old", 60, rule(("a", "b"), "x"), rule((), "g")),
            rewrite("new", 0, rule(("b", "c"), "y"), rule((), "h")),
        )
    )
    assert sorted(table.exact) == ["a", "b", "c"]
    assert table.exact["b"].models == ("x",)  # the older rewrite's
    assert table.generic is not None and table.generic.models == ("g",)
    assert len(table) == 4
