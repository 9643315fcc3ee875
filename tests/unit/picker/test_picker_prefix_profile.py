"""The recommended prefix-aware profile: affinity first, but a saturated endpoint
hands its hot prefix to another one."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

import gie_picker.config
from gie.events import Endpoint, EndpointMetrics, EndpointMetricsObserved, EndpointUpserted
from gie.view import InFlightView, PoolView, RoutingHistory
from gie_picker.config import load_config
from gie_picker.prefixcache.state import PrefixCacheState
from gie_picker.projections.routing_memory import RoutingMemory
from gie_picker.requestcontrol.request import InferenceRequest
from gie_picker.wiring import configured_scheduler

POOL = "default/p"
HOT, OTHER = "10.0.0.1:80", "10.0.0.2:80"
PROFILE = Path(gie_picker.config.__file__).parent / "profiles" / "prefix-aware.yaml"
PROMPT = "You are a helpful assistant. " * 50


def view_with(hot_waiting: int, hot_kv: float) -> PoolView:
    view = PoolView(POOL)
    for address, waiting, kv in ((HOT, hot_waiting, hot_kv), (OTHER, 0, 0.1)):
        view.apply(EndpointUpserted(source="t", pool=POOL, endpoint=Endpoint(address=address)))
        view.apply(
            EndpointMetricsObserved(
                source="t",
                pool=POOL,
                address=address,
                scraped_at=datetime.now(UTC),
                metrics=EndpointMetrics(
                    waiting_queue_size=waiting,
                    running_requests=4,
                    kv_cache_usage=kv,
                    kv_block_size=16,
                    kv_num_blocks=1000,
                ),
            )
        )
    return view


@pytest.mark.parametrize(
    ("hot_waiting", "hot_kv", "expected"),
    [(0, 0.3, HOT), (12, 0.95, OTHER)],
    ids=["hot-has-room: affinity wins", "hot-saturated: prefix spreads"],
)
def test_hot_prefix_stays_until_its_endpoint_is_saturated(
    hot_waiting: int, hot_kv: float, expected: str
) -> None:
    view = view_with(hot_waiting, hot_kv)
    cache = PrefixCacheState(view)
    memory = RoutingMemory(RoutingHistory(POOL))
    scheduler = configured_scheduler(
        load_config(PROFILE),
        registry=CollectorRegistry(),
        inflight=InFlightView(POOL),
        prefix_cache=cache,
        routing=memory,
        rng=random.Random(3),
    )

    def route(request_id: str) -> str:
        request = InferenceRequest(request_id, "/v1/completions", "m", "m", b"{}", prompt=PROMPT)
        target = scheduler.schedule(request, view.endpoints(), priority=0)[0]
        cache.routed(request_id, target)
        memory.routed(request_id, target)
        return target

    # The prefix is first seen on HOT (it was the only one we route the seed to).
    seed = InferenceRequest("seed", "/v1/completions", "m", "m", b"{}", prompt=PROMPT)
    scheduler.schedule(seed, [s for s in view.endpoints() if s.address == HOT], priority=0)
    cache.routed("seed", HOT)
    assert route("r1") == expected
