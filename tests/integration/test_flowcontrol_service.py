"""One flow-controller replica, in process, against real NATS and Redis.

What a picker sees through ``FlowControlClient``: a request waits while its endpoints
have no capacity and is dispatched when they do; limits reject, deadlines evict, a
cancelled call cancels its request; every outcome is on the event stream, and a retried
call gets the same answer. A replica that shuts down hands waiting calls back without
cancelling their requests.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import pytest
from redis.asyncio import Redis

from gie.bus import EVENTS, Deliver, NatsEventBus
from gie.events import Event, RequestDispatched, RequestEvicted, RequestQueued, RequestRejected
from gie.events.subjects import pool_prefix
from gie.flowcontrol import (
    AdmitRequest,
    FlowControlCallError,
    FlowControlClient,
    FlowControlConfig,
    FlowControlUnavailableError,
    FlowKey,
    Outcome,
)
from gie.flowcontrol.v1 import flow_control_pb2 as pb
from gie.flowcontrol.v1 import flow_control_pb2_grpc as pb_grpc
from gie.saturation import SaturationConfig
from gie_flow_controller.app import run
from gie_flow_controller.config_file import FlowControllerConfig
from gie_flow_controller.settings import FlowControllerSettings
from gie_flow_controller.state import PoolKeys
from tests.support.flow_replicas import eventually, feed_capacity, in_process_settings
from tests.support.running import wait_ready

pytestmark = pytest.mark.integration

ENDPOINT = "10.7.0.1:8000"


@dataclass
class Running:
    pool: str
    settings: FlowControllerSettings
    bus: NatsEventBus
    redis: Redis
    events: list[Event]
    stop: asyncio.Event
    task: asyncio.Task[None]

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.settings.grpc_port}"

    def of(self, kind: type[Event]) -> list[Event]:
        return [e for e in self.events if isinstance(e, kind)]

    async def outcome_in_redis(self, request_id: str) -> str | None:
        raw = await self.redis.hget(PoolKeys(self.pool).request(request_id), "outcome")
        return raw.decode() if raw else None


@pytest.fixture
async def flow_controller(nats_url: str, redis_url: str) -> AsyncIterator[Running]:
    pool = f"svc-{uuid.uuid4().hex[:8]}/pool"
    settings = in_process_settings(nats_url, redis_url, pool, "fc-test")
    config = FlowControllerConfig(
        FlowControlConfig.model_validate(
            {"shardCount": 2, "defaultPriorityBand": {"maxRequests": 2}}
        ),
        SaturationConfig(metrics_staleness_s=2.0),
    )
    events: list[Event] = []
    stop = asyncio.Event()
    redis = Redis.from_url(redis_url)
    async with NatsEventBus(nats_url, name="svc-test") as bus:
        await bus.ensure_streams()
        following = await bus.follow(
            EVENTS, f"{pool_prefix(pool)}.flow.>", events.append, deliver=Deliver.ALL
        )
        task = asyncio.create_task(run(settings, stop, config=config))
        try:
            await wait_ready(settings.admin_port)
            yield Running(pool, settings, bus, redis, events, stop, task)
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
            await following.stop()
    await redis.aclose()


def request(rid: str, tenant: str = "t", **fields: object) -> AdmitRequest:
    return AdmitRequest(rid, FlowKey(tenant, 0), byte_size=10, candidates=(ENDPOINT,), **fields)  # type: ignore[arg-type]


async def test_a_request_waits_for_capacity_and_a_retry_gets_the_same_answer(
    flow_controller: Running,
) -> None:
    fc = flow_controller
    async with FlowControlClient([fc.target]) as client:
        waiting = asyncio.create_task(client.admit(request("r1", input_tokens=5)))
        await asyncio.sleep(0.5)
        assert not waiting.done()  # the endpoint has no fresh metrics: no capacity
        feeder = asyncio.create_task(feed_capacity(fc.bus, fc.pool, [ENDPOINT]))
        try:
            result = await asyncio.wait_for(waiting, 10)
        finally:
            feeder.cancel()
        assert result.outcome is Outcome.DISPATCHED and result.served_by == "fc-test"
        assert 0.4 < result.queued_s < 10
        again = await client.admit(request("r1"))
        assert (again.outcome, again.queued_s) == (Outcome.DISPATCHED, result.queued_s)

    async def seen() -> bool:
        return bool(fc.of(RequestDispatched))

    await eventually(seen, timeout_s=5, what="RequestDispatched")
    (queued,) = fc.of(RequestQueued)
    (dispatched,) = fc.of(RequestDispatched)
    assert isinstance(queued, RequestQueued) and isinstance(dispatched, RequestDispatched)
    assert queued.correlation_id == dispatched.request_id == "r1"
    assert dispatched.charge == 5.0 and dispatched.queued_s == pytest.approx(result.queued_s)
    async with httpx.AsyncClient(trust_env=False) as http:
        text = (await http.get(f"http://127.0.0.1:{fc.settings.admin_port}/metrics")).text
    assert (
        'inference_extension_flow_control_request_queue_duration_seconds_count{fairness_id="t",'
        'outcome="Dispatched",priority="0"} 2.0' in text
    )


async def test_limits_reject_deadlines_evict_and_cancelled_calls_cancel(
    flow_controller: Running,
) -> None:
    fc = flow_controller
    async with FlowControlClient([fc.target]) as client:
        soon = datetime.now(UTC) + timedelta(seconds=1.5)
        expiring = asyncio.create_task(client.admit(request("ttl", deadline=soon)))
        cancelled = asyncio.create_task(client.admit(request("gone")))

        async def both_queued() -> bool:
            return len(fc.of(RequestQueued)) == 2

        await eventually(both_queued, timeout_s=5, what="two queued")
        rejected = await client.admit(request("full"))  # the band holds 2 requests
        assert (rejected.outcome, rejected.reason) == (Outcome.REJECTED_CAPACITY, "band-requests")
        evicted = await asyncio.wait_for(expiring, 5)
        assert (evicted.outcome, evicted.reason) == (Outcome.EVICTED_TTL, "ttl")
        cancelled.cancel()

        async def recorded() -> bool:
            return await fc.outcome_in_redis("gone") == Outcome.CANCELLED.value

        await eventually(recorded, timeout_s=5, what="the cancelled request's outcome")
        async with grpc.aio.insecure_channel(fc.target) as channel:
            stub = pb_grpc.FlowControlStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as malformed:
                await stub.Admit(pb.AdmitRequest(request_id=""))
        assert malformed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "request id must not be empty" in (malformed.value.details() or "")

    async def all_seen() -> bool:
        return len(fc.of(RequestEvicted)) == 2 and len(fc.of(RequestRejected)) == 1

    await eventually(all_seen, timeout_s=5, what="eviction and rejection events")
    reasons = {e.request_id: e.reason for e in fc.of(RequestEvicted)}  # type: ignore[attr-defined]
    assert reasons == {"ttl": "ttl", "gone": "cancelled"}


async def test_a_stopping_replica_hands_calls_back_without_cancelling(
    flow_controller: Running,
) -> None:
    fc = flow_controller
    async with FlowControlClient([fc.target], max_rounds=2, backoff_s=0.01) as client:
        waiting = asyncio.create_task(client.admit(request("kept")))

        async def queued() -> bool:
            return bool(fc.of(RequestQueued))

        await eventually(queued, timeout_s=5, what="queued")
        fc.stop.set()
        with pytest.raises(FlowControlUnavailableError):
            await asyncio.wait_for(waiting, 10)
    await asyncio.wait_for(fc.task, 15)
    assert await fc.outcome_in_redis("kept") is None  # still queued for another replica
    keys = PoolKeys(fc.pool)
    assert not [k async for k in fc.redis.scan_iter(match=f"{keys.prefix}lease:*")]


async def test_a_request_for_another_pool_is_a_fault_of_the_deployment_not_of_the_request(
    flow_controller: Running,
) -> None:
    # A picker pointed at the flow-controller of another pool is misconfigured: its
    # requests are not malformed, so the answer must not read as the client's fault
    # (the picker turns INVALID_ARGUMENT into a 400, other codes into a 503).
    async with grpc.aio.insecure_channel(flow_controller.target) as channel:
        stub = pb_grpc.FlowControlStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as elsewhere:
            await stub.Admit(
                pb.AdmitRequest(
                    request_id="r1",
                    flow=pb.FlowKey(fairness_id="t", priority=0),
                    byte_size=10,
                    candidate_endpoints=[ENDPOINT],
                    pool="other/pool",
                )
            )
    assert elsewhere.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"serves pool {flow_controller.pool}, not other/pool" in (
        elsewhere.value.details() or ""
    )
    async with FlowControlClient([flow_controller.target]) as client:
        with pytest.raises(FlowControlCallError, match="FAILED_PRECONDITION"):
            await client.admit(request("r2", pool="other/pool"))
