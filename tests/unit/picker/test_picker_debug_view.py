"""``/debug/view``'s prefix-index summary: copied a slice at a time, digested in a
worker thread, equal to the index's own digest."""

from __future__ import annotations

import random
from datetime import UTC, datetime

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
        positions={"pool state": 41, "routing": 7},
    )
    assert page["positions"] == {"pool state": 41, "routing": 7}
    without = await render_view(
        PoolView("test/debug"), SaturationConfig(), lambda: datetime.now(UTC)
    )
    assert without["positions"] == {}
