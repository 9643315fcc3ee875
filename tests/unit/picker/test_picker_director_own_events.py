"""The picker counts its own requests in flight the moment it routes them, even while
its routing events are still held for a batch; the stream's copies change nothing."""

from __future__ import annotations

from gie.bus import EVENTS
from gie_picker.requestcontrol.request import InferenceRequest, parse_inference_request
from tests.support.memory_director import memory_director

POOL = "test/own-events"
A = "10.0.0.1:8000"


def request(n: int) -> InferenceRequest:
    return parse_inference_request(
        request_id=f"r{n}",
        path="/v1/completions",
        body=b'{"model": "m", "prompt": "hello"}',
        headers={},
        model_rewrite="",
    )


async def test_own_requests_count_in_flight_before_their_batch_goes_out() -> None:
    parts = memory_director(POOL, A, batch_s=60.0)
    state, bus, publisher, director = parts.state, parts.bus, parts.publisher, parts.director
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
