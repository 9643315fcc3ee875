from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gie.bus import STATE, MemoryEventBus
from gie.events import (
    Endpoint,
    EndpointRemoved,
    EndpointUpserted,
    ModelRewriteRemoved,
    RewriteRule,
    RewriteTarget,
)
from gie.view import PoolView
from gie_ingest.kube.pool_refs import Rewrite
from gie_ingest.pool_file import PoolFileError, load_pool_file
from gie_ingest.reconciler import Reconciler

POOL = "default/sim-pool"


def endpoints(*addresses: str) -> tuple[Endpoint, ...]:
    return tuple(Endpoint(address=a) for a in addresses)


async def test_reconcile_publishes_only_the_difference() -> None:
    bus = MemoryEventBus()
    view = PoolView(POOL)
    reconciler = Reconciler(bus, view, source="ingest-0")

    assert await reconciler.reconcile(endpoints("10.0.0.1:80", "10.0.0.2:80")) == 2
    assert await reconciler.reconcile(endpoints("10.0.0.1:80", "10.0.0.2:80")) == 0
    assert await reconciler.reconcile(endpoints("10.0.0.2:80", "10.0.0.3:80")) == 2

    stored = bus.stored(STATE)
    assert [type(e).__name__ for e in stored] == [
        "EndpointUpserted",
        "EndpointUpserted",
        "EndpointUpserted",
        "EndpointRemoved",
    ]
    assert isinstance(stored[-1], EndpointRemoved) and stored[-1].address == "10.0.0.1:80"
    assert [s.address for s in view.endpoints()] == ["10.0.0.2:80", "10.0.0.3:80"]


async def test_two_replicas_reconciling_the_same_file_store_each_fact_once() -> None:
    bus = MemoryEventBus()
    desired = endpoints("10.0.0.1:80")
    for replica in ("ingest-0", "ingest-1"):
        await Reconciler(bus, PoolView(POOL), source=replica).reconcile(desired)
    assert len([e for e in bus.stored(STATE) if isinstance(e, EndpointUpserted)]) == 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("pool: [unclosed", "not valid YAML"),
        ("endpoints: []", "pool: Field required"),
        ("pool: nopool\nendpoints: []", "pool: Value error, must be namespace/name"),
        ("pool: a/b\nendpoints: [not-an-address]", "endpoints.0.address"),
        ("pool: a/b\nendpoints: [1.2.3.4:80, 1.2.3.4:80]", "listed twice"),
        ("pool: a/b\nendpoints: []\nextra: 1", "extra: Extra inputs are not permitted"),
        (
            "pool: a/b\nendpoints: []\nobjectives: [{name: x, priority: 2147483648}]",
            "objectives.0.priority",
        ),
    ],
    ids=["yaml", "no-pool", "bad-pool", "bad-address", "duplicate", "unknown-field", "int32"],
)
def test_invalid_pool_files_name_the_problem(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "pool.yaml"
    path.write_text(text)
    with pytest.raises(PoolFileError, match=problem):
        load_pool_file(path)


def test_missing_pool_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PoolFileError, match="cannot read pool file"):
        load_pool_file(tmp_path / "absent.yaml")


def test_endpoints_may_be_strings_or_mappings(tmp_path: Path) -> None:
    path = tmp_path / "pool.yaml"
    path.write_text("pool: a/b\nendpoints:\n  - 1.2.3.4:80\n  - {address: 1.2.3.5:80, name: x}\n")
    parsed, revision = load_pool_file(path)
    assert parsed.endpoints == (
        Endpoint(address="1.2.3.4:80"),
        Endpoint(address="1.2.3.5:80", name="x"),
    )
    assert revision


async def test_objectives_are_reconciled_like_endpoints() -> None:
    bus = MemoryEventBus()
    view = PoolView(POOL)
    reconciler = Reconciler(bus, view, source="ingest-0")
    await reconciler.reconcile((), objectives={"batch": -1, "chat": 5})
    assert view.objectives() == {"batch": -1, "chat": 5}
    await reconciler.reconcile((), objectives={"chat": 7})
    assert view.objectives() == {"chat": 7}
    kinds = [type(e).__name__ for e in bus.stored(STATE)]
    assert kinds == [
        "ObjectiveUpserted",
        "ObjectiveUpserted",
        "ObjectiveUpserted",
        "ObjectiveRemoved",
    ]


def test_pool_file_objectives_parse_and_duplicates_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "pool.yaml"
    path.write_text("pool: a/b\nendpoints: []\nobjectives: [{name: batch, priority: -1}]\n")
    parsed, _ = load_pool_file(path)
    assert [(o.name, o.priority) for o in parsed.objectives] == [("batch", -1)]
    path.write_text("pool: a/b\nendpoints: []\nobjectives: [{name: x}, {name: x}]\n")
    with pytest.raises(PoolFileError, match="objective 'x' is listed twice"):
        load_pool_file(path)


async def test_an_endpoint_removed_then_added_back_is_stored_again() -> None:
    # Within the duplicate window: the re-add follows the removal, so its id is new.
    bus = MemoryEventBus()
    reconciler = Reconciler(bus, PoolView(POOL), source="ingest-0")
    for desired in (endpoints("10.0.0.1:80"), (), endpoints("10.0.0.1:80")):
        await reconciler.reconcile(desired)
    kinds = [type(e).__name__ for e in bus.stored(STATE)]
    assert kinds == ["EndpointUpserted", "EndpointRemoved", "EndpointUpserted"]


async def test_a_lagging_replica_repeats_a_transition_that_is_stored_once() -> None:
    bus = MemoryEventBus()
    first, lagging = PoolView(POOL), PoolView(POOL)
    ahead = Reconciler(bus, first, source="ingest-0")
    behind = Reconciler(bus, lagging, source="ingest-1")
    await ahead.reconcile(endpoints("10.0.0.1:80"))
    for event in bus.stored(STATE):
        behind.observe(event)
    await ahead.reconcile(())  # the removal, not yet folded by the other replica
    await behind.reconcile(())  # the same transition from the same last event
    assert [type(e).__name__ for e in bus.stored(STATE)] == ["EndpointUpserted", "EndpointRemoved"]


async def test_rewrites_are_reconciled_by_name_and_content() -> None:
    bus = MemoryEventBus()
    view = PoolView(POOL)
    reconciler = Reconciler(bus, view, source="ingest-0")
    created = datetime(2026, 1, 1, tzinfo=UTC)
    rule = RewriteRule(targets=(RewriteTarget(model="base"),))
    other = RewriteRule(targets=(RewriteTarget(model="other"),))
    await reconciler.reconcile((), rewrites={"a": Rewrite(created, (rule,))})
    assert await reconciler.reconcile((), rewrites={"a": Rewrite(created, (rule,))}) == 0
    await reconciler.reconcile((), rewrites={"a": Rewrite(created, (other,))})
    assert [r.rules for r in view.rewrites()] == [(other,)]
    await reconciler.reconcile((), rewrites={})
    assert [type(e).__name__ for e in bus.stored(STATE)] == [
        "ModelRewriteUpserted",
        "ModelRewriteUpserted",
        "ModelRewriteRemoved",
    ]
    assert isinstance(bus.stored(STATE)[-1], ModelRewriteRemoved)
