"""The picker numbers its routing events 1, 2, 3, ... per type (``publisher_seq``,
with ``picker`` naming the publisher) and hands each request's trace context to the bus."""

from __future__ import annotations

from collections.abc import Mapping

from gie.bus import EVENTS
from gie.events import Event, RequestCompleted, RequestRouted
from gie_picker.requestcontrol.request import InferenceRequest, parse_inference_request
from tests.support.memory_director import memory_director

POOL = "test/sequence"
A = "10.0.0.1:8000"
TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def request(n: int, headers: Mapping[str, str] | None = None) -> InferenceRequest:
    return parse_inference_request(
        request_id=f"r{n}",
        path="/v1/completions",
        body=b'{"model": "m", "prompt": "hello"}',
        headers=dict(headers or {}),
        model_rewrite="",
    )


async def test_routing_events_are_numbered_per_publisher_without_gaps() -> None:
    parts = memory_director(POOL, A, batch_s=0.0)
    director = parts.director
    first = await director.route(request(1), subset=None, objective="")
    second = await director.route(request(2), subset=None, objective="")
    director.completed(second, served=A, status=200, usage=None, duration_s=0.01)
    director.completed(first, served=A, status=200, usage=None, duration_s=0.02)
    await parts.publisher.close()
    stored: list[Event] = parts.bus.stored(EVENTS)
    assert [(type(e).__name__, getattr(e, "publisher_seq", None)) for e in stored] == [
        ("RequestRouted", 1),
        ("RequestRouted", 2),
        ("RequestCompleted", 1),
        ("RequestCompleted", 2),
    ]
    assert all(isinstance(e, RequestRouted | RequestCompleted) for e in stored)
    assert {e.picker for e in stored if isinstance(e, RequestRouted | RequestCompleted)} == {
        "picker-test"
    }


async def test_the_request_trace_context_goes_to_the_publisher() -> None:
    parts = memory_director(POOL, A, batch_s=0.0)
    traces: list[str | None] = []
    submit = parts.publisher.submit

    def recording(subject: str, event: Event, *, traceparent: str | None = None) -> None:
        traces.append(traceparent)
        submit(subject, event, traceparent=traceparent)

    parts.publisher.submit = recording  # type: ignore[method-assign]
    decision = await parts.director.route(
        request(1, {"traceparent": TRACE}), subset=None, objective=""
    )
    parts.director.completed(decision, served=A, status=200, usage=None, duration_s=0.01)
    await parts.director.route(request(2), subset=None, objective="")
    await parts.publisher.close()
    assert traces == [TRACE, TRACE, None]
