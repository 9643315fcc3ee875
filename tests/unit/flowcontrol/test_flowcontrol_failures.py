"""Failures the flow-controller survives and reports: a cancel the flow state refuses,
long-lived tasks that end (restarted with backoff, reported while down), and a queued
request the flow state lost (its call fails instead of waiting forever)."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from gie.bus import BackgroundPublisher, BusMetrics, MemoryEventBus
from gie.clock import ManualClock
from gie.flowcontrol import AdmitRequest, FlowControlConfig, FlowKey
from gie_flow_controller.admission import Admitter, OutcomeWaiters
from gie_flow_controller.errors import RequestLostError, StoreError
from gie_flow_controller.model import BandTable, Finished, Limits, Ticket
from gie_flow_controller.state import MemoryFlowStore
from gie_flow_controller.tasks import Supervised
from gie_flow_controller.telemetry import FlowControlMetrics, FlowEvents
from tests.support.logs import captured_logs

POOL = "ns/pool"


class UnreachableOnCancel(MemoryFlowStore):
    """The in-memory flow state, except that cancelling fails as an unreachable Redis
    would."""

    async def cancel(self, request_id: str, *, now_ms: int) -> Finished | None:
        raise StoreError("cancelling failed: connection refused")


async def test_a_cancel_the_flow_state_refuses_is_logged_and_counted() -> None:
    config = FlowControlConfig.model_validate({"shardCount": 1})
    store = UnreachableOnCancel()
    registry = CollectorRegistry()
    metrics = FlowControlMetrics(registry)
    publisher = BackgroundPublisher(MemoryEventBus(), metrics=BusMetrics(CollectorRegistry()))
    publisher.start()
    queued = asyncio.Event()
    admitter = Admitter(
        store=store,
        config=config,
        bands=BandTable(config),
        waiters=OutcomeWaiters(store, poll_s=60.0),
        events=FlowEvents(publisher, pool=POOL, source="me", metrics=metrics),
        metrics=metrics,
        clock=ManualClock(1_800_000_000_000),
        replica="me",
        wake=lambda shard: queued.set(),
    )
    try:
        with captured_logs("gie.flow_controller.admission") as logs:
            call = asyncio.create_task(admitter.admit(AdmitRequest("r1", FlowKey("t", 0))))
            await asyncio.wait_for(queued.wait(), 2)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
    finally:
        await publisher.close()
    (entry,) = [e for e in logs if e["event"] == "cancelling a request failed"]
    assert entry["level"] == "warning"
    assert entry["request_id"] == "r1" and entry["fairness_id"] == "t" and entry["priority"] == 0
    assert "connection refused" in entry["error"]
    assert registry.get_sample_value("gie_flow_control_cancel_failures_total") == 1.0


@pytest.mark.parametrize(
    "ending",
    [RuntimeError("boom"), None],
    ids=["raises", "returns"],
)
async def test_a_supervised_loop_that_ends_is_reported_while_down_and_started_again(
    ending: Exception | None,
) -> None:
    starts: list[int] = []
    restarts: list[str] = []
    running = asyncio.Event()

    async def loop() -> None:
        starts.append(len(starts))
        if len(starts) < 3:  # the first two runs end at once
            if ending is not None:
                raise ending
            return
        running.set()
        await asyncio.Event().wait()

    supervised = Supervised("notices", loop, on_restart=restarts.append, backoff_s=0.2)
    with captured_logs("gie.flow_controller") as logs:
        task = asyncio.create_task(supervised.run())
        try:
            await asyncio.sleep(0.05)  # in the first backoff
            assert supervised.problem is not None
            assert ("boom" if ending else "returned") in supervised.problem
            await asyncio.wait_for(running.wait(), 5)
            assert supervised.problem is None
            assert restarts == ["notices", "notices"]
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    ended = [e for e in logs if e["event"] == "task ended; restarting"]
    assert [(e["task"], e["restart_in_s"]) for e in ended] == [("notices", 0.2), ("notices", 0.4)]
    assert len(starts) == 3  # cancelled: not started again


async def test_a_queued_request_the_state_lost_fails_its_call_and_one_being_admitted_waits() -> (
    None
):
    store = MemoryFlowStore()
    lost: list[bool] = []
    waiters = OutcomeWaiters(store, poll_s=60.0, on_lost=lambda: lost.append(True))
    open_limits = Limits(10**9, 10**6)
    await store.admit(Ticket("r1", FlowKey("t", 0)), open_limits, shards=1, now_ms=1_000)
    queued = waiters.expect("r1")
    waiters.queued("r1")
    being_admitted = waiters.expect("r2")  # its admission script has not run yet
    await waiters.poll_once()
    assert not queued.done() and not being_admitted.done()  # r1 is queued: known

    store.state.requests.clear()  # Redis came back without the flow state
    await waiters.poll_once()
    with pytest.raises(RequestLostError, match="lost request r1"):
        queued.result()
    assert not being_admitted.done()
    assert lost == [True]
