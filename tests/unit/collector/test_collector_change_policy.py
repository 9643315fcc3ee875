"""Which scrapes become events: changes, threshold crossings, heartbeats."""

from __future__ import annotations

import pytest

from gie.events import EndpointMetrics
from gie.saturation import SaturationConfig
from gie_metrics_collector.publish import ChangePolicy, PublishReason

BASE = EndpointMetrics(waiting_queue_size=2, running_requests=3, kv_cache_usage=0.5)
POLICY = ChangePolicy(heartbeat_s=0.1, kv_delta=0.02, count_delta=2, saturation=SaturationConfig())


def m(**changes: object) -> EndpointMetrics:
    return BASE.model_copy(update=changes)


@pytest.mark.parametrize(
    ("last", "current", "since_s", "expected"),
    [
        (None, BASE, 0.0, PublishReason.FIRST),
        (BASE, BASE, 0.05, None),
        (BASE, BASE, 0.1, PublishReason.HEARTBEAT),
        (BASE, m(waiting_queue_size=3), 0.0, None),  # below the count delta
        (BASE, m(waiting_queue_size=4), 0.0, PublishReason.CHANGED),
        (BASE, m(running_requests=1), 0.0, PublishReason.CHANGED),
        (BASE, m(kv_cache_usage=0.51), 0.0, None),  # below the KV delta
        (BASE, m(kv_cache_usage=0.53), 0.0, PublishReason.CHANGED),
        (m(kv_cache_usage=0.795), m(kv_cache_usage=0.805), 0.0, PublishReason.THRESHOLD),
        (m(waiting_queue_size=5), m(waiting_queue_size=6), 0.0, PublishReason.THRESHOLD),
        (BASE, m(lora_running=("a",)), 0.0, PublishReason.CHANGED),
        (BASE, m(kv_num_blocks=100), 0.0, PublishReason.CHANGED),
        (BASE, m(prefix_cache_hits=500.0), 0.0, None),  # counters ride along only
    ],
    ids=[
        "first",
        "unchanged",
        "heartbeat",
        "small-queue-change",
        "queue-change",
        "running-change",
        "small-kv-change",
        "kv-change",
        "kv-threshold",
        "queue-threshold",
        "lora",
        "cache-config",
        "prefix-counters",
    ],
)
def test_decide(
    last: EndpointMetrics | None,
    current: EndpointMetrics,
    since_s: float,
    expected: PublishReason | None,
) -> None:
    assert POLICY.decide(last, current, since_s=since_s) is expected
