"""After waiting in flow control, a request is scheduled on the endpoints as they are now."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from gie.events import (
    Endpoint,
    EndpointMetrics,
    EndpointMetricsObserved,
    EndpointRemoved,
    EndpointUpserted,
)
from gie.saturation import SaturationConfig
from gie.view import EndpointState, PoolView
from gie_picker.admission.flow_gate import FlowGate
from gie_picker.requestcontrol.director import Director
from gie_picker.requestcontrol.request import (
    InferenceRequest,
    RequestError,
    parse_inference_request,
)
from gie_picker.telemetry.metrics import PickerMetrics

POOL = "test/flow-wait"
A, B = "10.0.0.1:8000", "10.0.0.2:8000"


def now() -> datetime:
    return datetime.now(UTC)


def observe(view: PoolView, address: str, waiting: int) -> None:
    metrics = EndpointMetrics(waiting_queue_size=waiting, running_requests=1, kv_cache_usage=0.1)
    view.apply(
        EndpointMetricsObserved(
            source="t", pool=POOL, address=address, scraped_at=now(), metrics=metrics
        )
    )


class RecordingScheduler:
    def __init__(self) -> None:
        self.seen: list[dict[str, int]] = []

    def schedule(
        self, request: InferenceRequest, candidates: Sequence[EndpointState], *, priority: int
    ) -> tuple[str, ...]:
        queues = {s.address: s.metrics.waiting_queue_size if s.metrics else 0 for s in candidates}
        self.seen.append(queues)
        return (min(queues, key=queues.__getitem__),)


class WaitingGate(FlowGate):
    """Queues every request; while it waits, ``meanwhile`` changes the pool."""

    def __init__(self, meanwhile: object) -> None:
        self._meanwhile = meanwhile
        self.waited = False

    async def admit(
        self,
        request: InferenceRequest,
        candidates: Sequence[EndpointState],
        *,
        priority: int,
        fairness_id: str,
        objective: str,
    ) -> bool:
        assert callable(self._meanwhile)
        self._meanwhile()
        self.waited = True
        return True


def director(view: PoolView, scheduler: RecordingScheduler, gate: FlowGate) -> Director:
    return Director(
        view=view,
        scheduler=scheduler,
        saturation=SaturationConfig(),
        publisher=None,
        metrics=PickerMetrics(CollectorRegistry()),
        source="picker-test",
        now=now,
        flow_gate=gate,
    )


def pool() -> PoolView:
    view = PoolView(POOL)
    for address in (A, B):
        view.apply(EndpointUpserted(source="t", pool=POOL, endpoint=Endpoint(address=address)))
    observe(view, A, waiting=0)
    observe(view, B, waiting=9)
    return view


def request() -> InferenceRequest:
    body = b'{"model": "m", "prompt": "hello"}'
    return parse_inference_request(request_id="r1", path="/v1/completions", body=body)


async def test_the_endpoints_fresh_metrics_decide_after_a_wait() -> None:
    view = pool()
    scheduler = RecordingScheduler()

    def meanwhile() -> None:  # A filled up while the request was queued; B drained
        observe(view, A, waiting=12)
        observe(view, B, waiting=0)

    decision = await director(view, scheduler, WaitingGate(meanwhile)).route(
        request(), subset=None, objective=""
    )
    assert scheduler.seen == [{A: 12, B: 0}]
    assert decision.endpoints == (B,)


async def test_an_endpoint_removed_while_queued_is_not_chosen() -> None:
    view = pool()
    scheduler = RecordingScheduler()

    def meanwhile() -> None:
        view.apply(EndpointRemoved(source="t", pool=POOL, address=A))

    decision = await director(view, scheduler, WaitingGate(meanwhile)).route(
        request(), subset=None, objective=""
    )
    assert decision.endpoints == (B,)


async def test_every_candidate_gone_while_queued_is_a_503() -> None:
    view = pool()

    def meanwhile() -> None:
        for address in (A, B):
            view.apply(EndpointRemoved(source="t", pool=POOL, address=address))

    with pytest.raises(RequestError) as raised:
        await director(view, RecordingScheduler(), WaitingGate(meanwhile)).route(
            request(), subset=None, objective=""
        )
    assert raised.value.status == 503
    assert "left the pool" in raised.value.message
