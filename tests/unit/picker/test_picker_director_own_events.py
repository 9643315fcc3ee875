"""The picker counts its own requests in flight the moment it routes them, even while
its routing events are still held for a batch; the stream's copies change nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from gie.bus import EVENTS, BackgroundPublisher, BusMetrics, MemoryEventBus
from gie.events import Endpoint, EndpointUpserted
from gie.saturation import SaturationConfig
from gie.view import EndpointState
from gie_picker.director import Director
from gie_picker.projections import Projections
from gie_picker.request import InferenceRequest, parse_inference_request
from gie_picker.settings import PickerSettings
from gie_picker.telemetry import PickerMetrics

POOL = "test/own-events"
A = "10.0.0.1:8000"


def now() -> datetime:
    return datetime.now(UTC)


class FirstEndpoint:
    def schedule(
        self, request: InferenceRequest, candidates: Sequence[EndpointState], *, priority: int
    ) -> tuple[str, ...]:
        return (candidates[0].address,)


def request(n: int) -> InferenceRequest:
    return parse_inference_request(
        request_id=f"r{n}",
        path="/v1/completions",
        body=b'{"model": "m", "prompt": "hello"}',
        headers={},
        model_rewrite="",
    )


async def test_own_requests_count_in_flight_before_their_batch_goes_out() -> None:
    registry = CollectorRegistry()
    state = Projections.create(PickerSettings(pool=POOL), registry)
    state.view.apply(EndpointUpserted(source="t", pool=POOL, endpoint=Endpoint(address=A)))
    bus = MemoryEventBus(metrics=BusMetrics(registry))
    publisher = BackgroundPublisher(
        bus, metrics=BusMetrics(CollectorRegistry()), confirm=False, batch_s=60.0
    )
    publisher.start()
    director = Director(
        view=state.view,
        scheduler=FirstEndpoint(),
        saturation=SaturationConfig(),
        publisher=publisher,
        metrics=PickerMetrics(registry),
        source="picker-test",
        now=now,
        inflight=state.inflight,
        fold_own=state.fold_own,
    )
    first = await director.route(request(1), subset=None, objective="")
    await director.route(request(2), subset=None, objective="")
    assert bus.messages(EVENTS) == []  # both events still held for a batch
    assert state.inflight.count(A) == 2
    director.completed(first, served=A, status=200, usage=None, duration_s=0.01)
    assert state.inflight.count(A) == 1

    await publisher.close()  # the batches go out: what every other replica folds
    stored = bus.stored(EVENTS)
    assert [e.type for e in stored] == ["RequestRouted", "RequestRouted", "RequestCompleted"]
    assert len(bus.messages(EVENTS)) == 2  # one batch per subject
    assert not any(state.inflight.apply(event) for event in stored)  # already counted
    assert state.inflight.count(A) == 1
