"""Outcome notices (Redis pub/sub) against a real Redis: what a bad payload or a broken
subscription does to one in-process flow-controller replica.

Waiting calls learn their outcome from the notice, or else from polling; the replicas
here poll once a minute, so a call answered within seconds was answered by a notice.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from gie.bus import NatsEventBus
from gie.flowcontrol import AdmitRequest, FlowControlClient, FlowControlConfig, FlowKey, Outcome
from gie.saturation import SaturationConfig
from gie_flow_controller.app import run
from gie_flow_controller.config_file import FlowControllerConfig
from gie_flow_controller.settings import FlowControllerSettings
from gie_flow_controller.state import PoolKeys
from tests.support.flow_replicas import eventually, feed_capacity, in_process_settings
from tests.support.logs import captured_logs
from tests.support.running import wait_ready

pytestmark = pytest.mark.integration

ENDPOINT = "10.7.1.1:8000"
POLL_S = 60.0  # outcome polling: far slower than any wait below


@dataclass
class Replica:
    pool: str
    settings: FlowControllerSettings
    bus: NatsEventBus
    redis: Redis

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.settings.grpc_port}"

    async def get(self, path: str) -> httpx.Response:
        async with httpx.AsyncClient(trust_env=False) as http:
            return await http.get(f"http://127.0.0.1:{self.settings.admin_port}{path}")

    async def metric(self, name: str, **labels: str) -> float:
        """The value of one sample on /metrics (0.0 when absent)."""
        text = (await self.get("/metrics")).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and sample.labels == labels:
                    return float(sample.value)
        return 0.0


@pytest.fixture
async def replica(nats_url: str, redis_url: str) -> AsyncIterator[Replica]:
    pool = f"notices-{uuid.uuid4().hex[:8]}/pool"
    settings = in_process_settings(nats_url, redis_url, pool, "fc-notices").model_copy(
        update={"outcome_poll_s": POLL_S}
    )
    config = FlowControllerConfig(
        FlowControlConfig.model_validate({"shardCount": 1}),
        SaturationConfig(metrics_staleness_s=2.0),
    )
    stop = asyncio.Event()
    redis = Redis.from_url(redis_url)
    async with NatsEventBus(nats_url, name="notices-test") as bus:
        await bus.ensure_streams()
        task = asyncio.create_task(run(settings, stop, config=config))
        try:
            await wait_ready(settings.admin_port)
            yield Replica(pool, settings, bus, redis)
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
    await redis.aclose()


@pytest.mark.parametrize(
    ("channel", "payload"),
    [
        ("outcomes", b"not json at all"),
        ("outcomes", b'{"rid": "r0"}'),
        ("outcomes", b"[1, 2]"),
        ("wake", b"shard-one"),
    ],
    ids=["outcome-not-json", "outcome-missing-fields", "outcome-not-an-object", "wake-not-int"],
)
async def test_a_malformed_notice_is_skipped_and_counted_and_later_notices_still_act(
    replica: Replica, channel: str, payload: bytes
) -> None:
    keys = PoolKeys(replica.pool)
    subject = getattr(keys, channel)

    async def subscribed() -> bool:  # readiness may come just before the subscription
        return bool((await replica.redis.pubsub_numsub(subject))[0][1])

    await eventually(subscribed, timeout_s=5, what="the flow-controller's notice subscription")
    with captured_logs("gie.flow_controller.notifications") as logs:
        assert await replica.redis.publish(subject, payload) == 1  # subscribed
        feeder = asyncio.create_task(feed_capacity(replica.bus, replica.pool, [ENDPOINT]))
        try:
            async with FlowControlClient([replica.target]) as client:
                request = AdmitRequest("r1", FlowKey("t", 0), byte_size=10, candidates=(ENDPOINT,))
                result = await asyncio.wait_for(client.admit(request), 10)
        finally:
            feeder.cancel()
    assert result.outcome is Outcome.DISPATCHED  # told by a notice: polling is 60 s away
    assert await replica.metric("gie_flow_control_notices_malformed_total", channel=channel) == 1
    (entry,) = [e for e in logs if e["event"] == "malformed notice skipped"]
    assert entry["level"] == "warning"
    assert entry["channel"] == channel and entry["pool"] == replica.pool
    assert entry["error"] and entry["payload"] == payload.decode()
    assert (await replica.get("/readyz")).status_code == 200


@pytest.fixture
def broken_listen(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bool]]:
    """While ``broken["now"]``, redis-py's pub/sub ``listen`` fails with an error the
    notice loop does not expect (a stand-in for any bug that ends it)."""
    broken = {"now": False}
    listen = PubSub.listen

    async def failing_listen(self: PubSub) -> AsyncIterator[dict[str, Any]]:
        if broken["now"]:
            raise RuntimeError("listen broke")
        async for message in listen(self):
            yield message

    monkeypatch.setattr(PubSub, "listen", failing_listen)
    yield broken


async def readyz(replica: Replica) -> tuple[int, dict[str, Any]]:
    response = await replica.get("/readyz")
    body: dict[str, Any] = response.json()
    return response.status_code, body


async def test_readiness_is_false_while_the_notice_task_is_down_and_it_is_restarted(
    broken_listen: dict[str, bool], replica: Replica
) -> None:
    assert (await readyz(replica))[0] == 200
    broken_listen["now"] = True
    await replica.redis.client_kill_filter(_type="pubsub")  # it resubscribes

    async def down() -> bool:
        status, body = await readyz(replica)
        return status == 503 and "listen broke" in str(body["failing"].get("task:notices"))

    await eventually(down, timeout_s=5, what="/readyz naming the dead notice task")
    assert await replica.metric("gie_flow_control_task_restarts_total", task="notices") >= 1

    broken_listen["now"] = False

    async def back() -> bool:
        return (await readyz(replica)) == (200, {"ready": True, "failing": {}})

    await eventually(back, timeout_s=15, what="the notice task restarted and subscribed")
    keys = PoolKeys(replica.pool)
    assert await replica.redis.publish(keys.wake, b"0") == 1  # subscribed again
