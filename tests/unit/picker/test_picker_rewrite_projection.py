"""The picker's rewrite table follows the pool-state events it folds."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from gie.events import ModelRewriteRemoved, ModelRewriteUpserted, RewriteRule, RewriteTarget
from gie_picker.projections import Projections
from gie_picker.settings import PickerSettings

POOL = "test/rewrite-projection"


def upserted(pool: str, target: str) -> ModelRewriteUpserted:
    return ModelRewriteUpserted(
        source="t",
        pool=pool,
        name="canary",
        created=datetime(2026, 1, 1, tzinfo=UTC),
        rules=(RewriteRule(matches=("m",), targets=(RewriteTarget(model=target),)),),
    )


def projections() -> Projections:
    return Projections.create(PickerSettings(pool=POOL), CollectorRegistry())


def test_an_upsert_and_a_removal_change_the_next_requests_target() -> None:
    state = projections()
    assert state.rewrites.target_for("m") is None
    state.apply_state(upserted(POOL, "m-v2"))
    assert state.rewrites.target_for("m") == "m-v2"
    state.apply_state(upserted(POOL, "m-v3"))  # the same rewrite, edited
    assert state.rewrites.target_for("m") == "m-v3"
    state.apply_state(ModelRewriteRemoved(source="t", pool=POOL, name="canary"))
    assert state.rewrites.target_for("m") is None


def test_another_pools_rewrite_is_ignored() -> None:
    state = projections()
    state.apply_state(upserted("other/pool", "m-v2"))
    assert state.rewrites.target_for("m") is None


def test_a_repeated_event_does_not_rebuild_the_table() -> None:
    state = projections()
    state.apply_state(upserted(POOL, "m-v2"))
    table = state.rewrites.table
    state.apply_state(upserted(POOL, "m-v2"))  # replayed: nothing changed
    assert state.rewrites.table is table
