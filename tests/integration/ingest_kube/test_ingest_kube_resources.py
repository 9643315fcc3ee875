"""InferenceObjectives and InferenceModelRewrites naming the pool become
ObjectiveUpserted/Removed and ModelRewriteUpserted/Removed events."""

from __future__ import annotations

from datetime import datetime

import pytest

from gie.events import ModelRewriteRemoved, RewriteRule, RewriteTarget
from tests.support.kube_ingest import LLM_D, POOL_GROUP, objective, pool, rewrite

from .conftest import Scene, running

pytestmark = pytest.mark.integration

MERGE = "application/merge-patch+json"
SPLIT = [
    {
        "matches": [{"model": {"type": "Exact", "value": "food-review"}}],
        "targets": [
            {"modelRewrite": "food-review-1", "weight": 90},
            {"modelRewrite": "food-review-2", "weight": 10},
        ],
    },
    {"targets": [{"modelRewrite": "base"}]},
]


async def test_objectives_of_the_pool_are_published_updated_and_removed(scene: Scene) -> None:
    ns = scene.namespace
    async with running(scene.settings):
        await scene.create(POOL_GROUP, "inferencepools", pool(scene.pool, {"app": "x"}))
        await scene.create(LLM_D, "inferenceobjectives", objective("critical", scene.pool, 10))
        await scene.create(LLM_D, "inferenceobjectives", objective("plain", scene.pool, None))
        await scene.create(LLM_D, "inferenceobjectives", objective("theirs", "other-pool", 5))
        view = scene.recorder.view
        await scene.recorder.wait_for(
            lambda: view.objectives() == {"critical": 10, "plain": 0}, "two objectives"
        )
        await scene.custom.patch_namespaced_custom_object(
            LLM_D, "v1alpha2", ns, "inferenceobjectives", "critical",
            {"spec": {"priority": 20}}, _content_type=MERGE,
        )  # fmt: skip
        await scene.recorder.wait_for(lambda: view.objectives()["critical"] == 20, "priority 20")
        await scene.custom.delete_namespaced_custom_object(
            LLM_D, "v1alpha2", ns, "inferenceobjectives", "plain"
        )
        await scene.recorder.wait_for(lambda: view.objectives() == {"critical": 20}, "removal")


async def test_rewrites_of_the_pool_are_published_updated_and_removed(scene: Scene) -> None:
    ns = scene.namespace
    view = scene.recorder.view
    async with running(scene.settings):
        await scene.create(POOL_GROUP, "inferencepools", pool(scene.pool, {"app": "x"}))
        await scene.create(LLM_D, "inferencemodelrewrites", rewrite("food", scene.pool, SPLIT))
        await scene.recorder.wait_for(lambda: len(view.rewrites()) == 1, "a rewrite")
        published = view.rewrites()[0]
        stored = await scene.custom.get_namespaced_custom_object(
            LLM_D, "v1alpha2", ns, "inferencemodelrewrites", "food"
        )
        created = datetime.fromisoformat(stored["metadata"]["creationTimestamp"])
        assert (published.name, published.created) == ("food", created)
        assert published.rules == (
            RewriteRule(
                matches=("food-review",),
                targets=(
                    RewriteTarget(model="food-review-1", weight=90),
                    RewriteTarget(model="food-review-2", weight=10),
                ),
            ),
            RewriteRule(targets=(RewriteTarget(model="base"),)),
        )

        update = {"spec": {"rules": [{"targets": [{"modelRewrite": "other"}]}]}}
        await scene.custom.patch_namespaced_custom_object(
            LLM_D, "v1alpha2", ns, "inferencemodelrewrites", "food", update, _content_type=MERGE
        )
        await scene.recorder.wait_for(
            lambda: [r.rules[0].targets[0].model for r in view.rewrites()] == ["other"], "update"
        )
        await scene.custom.delete_namespaced_custom_object(
            LLM_D, "v1alpha2", ns, "inferencemodelrewrites", "food"
        )
        await scene.recorder.wait_for(lambda: view.rewrites() == [], "removal")
    assert isinstance(scene.recorder.events[-1], ModelRewriteRemoved)


async def test_a_rewrite_turned_invalid_is_removed_logged_and_counted(scene: Scene) -> None:
    ns = scene.namespace
    view = scene.recorder.view
    async with running(scene.settings):
        await scene.create(POOL_GROUP, "inferencepools", pool(scene.pool, {"app": "x"}))
        await scene.create(LLM_D, "inferencemodelrewrites", rewrite("food", scene.pool, SPLIT))
        await scene.recorder.wait_for(lambda: len(view.rewrites()) == 1, "a rewrite")
        # Weights on one target only: the API accepts it, the rule means nothing.
        broken = [{"targets": [{"modelRewrite": "a", "weight": 5}, {"modelRewrite": "b"}]}]
        await scene.custom.patch_namespaced_custom_object(
            LLM_D, "v1alpha2", ns, "inferencemodelrewrites", "food",
            {"spec": {"rules": broken}}, _content_type=MERGE,
        )  # fmt: skip
        await scene.recorder.wait_for(lambda: view.rewrites() == [], "the broken rewrite removed")
        assert 'gie_ingest_invalid_objects_total{kind="InferenceModelRewrite"} 1.0' in (
            await scene.metrics()
        )
