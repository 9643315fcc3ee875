"""``/debug/view``'s prefix-index summary: copied a slice at a time, digested in a
worker thread, equal to the index's own digest."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

from gie.events import Endpoint, EndpointMetrics, EndpointMetricsObserved, EndpointUpserted
from gie.prefix import PrefixIndex
from gie.saturation import SaturationConfig
from gie.view import PoolView
from gie_picker.telemetry.debug_view import render_view


async def test_the_prefix_summary_is_the_indexs_digest_and_size() -> None:
    rng = random.Random(2)
    index = PrefixIndex()
    for n in range(1, 6):
        index.add([rng.getrandbits(64) for _ in range(20_000)], f"10.0.0.{n}:8000", capacity=9_000)
    page = await render_view(
        PoolView("test/debug"), SaturationConfig(), lambda: datetime.now(UTC), None, index
    )
    assert page["prefix_index"] == {"blocks": 45_000, "endpoints": 5, "digest": index.digest()}


async def test_the_page_names_the_position_of_each_following() -> None:
    page = await render_view(
        PoolView("test/debug"),
        SaturationConfig(),
        lambda: datetime.now(UTC),
        positions=lambda: {"pool state": 41, "routing": 7},
    )
    assert page["positions"] == {"pool state": 41, "routing": 7}
    without = await render_view(
        PoolView("test/debug"), SaturationConfig(), lambda: datetime.now(UTC)
    )
    assert without["positions"] == {}


def _metrics(pool: str, n: int) -> EndpointMetricsObserved:
    return EndpointMetricsObserved(
        source="t",
        pool=pool,
        address="10.0.0.1:8000",
        scraped_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n),
        metrics=EndpointMetrics(waiting_queue_size=n, running_requests=1, kv_cache_usage=0.5),
    )


async def test_the_position_is_the_one_of_the_digest_while_events_arrive() -> None:
    """Events folded while the page copies the prefix index count in both or neither:
    the digest is the one of a view folded up to the position the page names."""
    pool = "test/debug"
    upserted = EndpointUpserted(source="t", pool=pool, endpoint=Endpoint(address="10.0.0.1:8000"))
    view = PoolView(pool)
    view.apply(upserted)
    index = PrefixIndex()
    rng = random.Random(3)
    for n in range(1, 6):
        index.add([rng.getrandbits(64) for _ in range(20_000)], f"10.0.0.{n}:8000", capacity=9_000)

    async def feed() -> None:
        n = 0
        while True:
            n += 1
            view.apply(_metrics(pool, n))
            await asyncio.sleep(0)

    feeding = asyncio.create_task(feed())
    page = await render_view(
        view,
        SaturationConfig(),
        lambda: datetime.now(UTC),
        None,
        index,
        positions=lambda: {"pool state": view.applied_events},
    )
    feeding.cancel()
    applied = page["positions"]["pool state"]
    assert applied > 2  # events arrived while the page was rendered
    replay = PoolView(pool)
    replay.apply_all([upserted, *(_metrics(pool, n) for n in range(1, applied))])
    assert page["digest"] == replay.digest()
