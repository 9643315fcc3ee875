"""What a client sees through the real gateway: Envoy → picker → simulated servers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
import pytest_asyncio

from gie.bus import EVENTS, Deliver, NatsEventBus
from gie.events import Event, RequestCompleted, RequestRouted
from gie.events.subjects import pool_filter
from tests.e2e.conftest import E2E_MAX_BODY_BYTES, E2EStack

pytestmark = pytest.mark.e2e


class Observer:
    """Collects routing events published by the stack's picker."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def wait_for(self, request_id: str, kind: type[Event], timeout_s: float = 10.0) -> Event:
        for _ in range(int(timeout_s / 0.05)):
            for event in self.events:
                if isinstance(event, kind) and event.correlation_id == request_id:
                    return event
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {kind.__name__} for {request_id}")


@pytest_asyncio.fixture(loop_scope="session")
async def observer(e2e_stack: E2EStack) -> AsyncIterator[Observer]:
    nats_url = e2e_stack.part("nats").addresses["client"]
    watcher = Observer()
    async with NatsEventBus(nats_url, name="e2e-observer") as bus:
        following = await bus.follow(
            EVENTS, pool_filter(e2e_stack.state.pool), watcher.events.append, deliver=Deliver.NEW
        )
        await following.caught_up.wait()
        yield watcher


async def post(gateway: str, body: dict[str, object], **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=gateway, timeout=30.0, trust_env=False) as client:
        return await client.post("/v1/completions", json=body, headers=headers)


@pytest.mark.asyncio(loop_scope="session")
async def test_request_lands_on_the_endpoint_the_picker_chose(
    e2e_stack: E2EStack, observer: Observer
) -> None:
    request_id = uuid.uuid4().hex
    response = await post(
        e2e_stack.gateway,
        {"model": "sim-llama", "prompt": "hello", "max_tokens": 5},
        **{"x-request-id": request_id},
    )
    assert response.status_code == 200
    assert response.json()["usage"]["completion_tokens"] == 5
    routed = await observer.wait_for(request_id, RequestRouted)
    assert isinstance(routed, RequestRouted)
    assert response.headers["x-served-by"] == routed.target
    assert routed.target in e2e_stack.sims
    completed = await observer.wait_for(request_id, RequestCompleted)
    assert isinstance(completed, RequestCompleted)
    assert (completed.status, completed.target) == (200, routed.target)
    assert completed.completion_tokens == 5  # usage read from the response body


@pytest.mark.asyncio(loop_scope="session")
async def test_streamed_completion_passes_through_with_usage_read(
    e2e_stack: E2EStack, observer: Observer
) -> None:
    request_id = uuid.uuid4().hex
    async with (
        httpx.AsyncClient(base_url=e2e_stack.gateway, timeout=30.0, trust_env=False) as client,
        client.stream(
            "POST",
            "/v1/chat/completions",
            json={
                "model": "sim-llama",
                "messages": [{"role": "user", "content": "hi"}],
                "max_tokens": 4,
                "stream": True,
                "stream_options": {"include_usage": True},
            },
            headers={"x-request-id": request_id},
        ) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line async for line in response.aiter_lines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    assert orjson.loads(events[-2][6:])["usage"]["completion_tokens"] == 4
    completed = await observer.wait_for(request_id, RequestCompleted)
    assert isinstance(completed, RequestCompleted)
    assert (completed.status, completed.completion_tokens) == (200, 4)


@pytest.mark.asyncio(loop_scope="session")
async def test_forged_destination_header_is_overwritten(e2e_stack: E2EStack) -> None:
    # If Envoy trusted the client's header it would try 127.0.0.1:1 and fail.
    for _ in range(5):
        response = await post(
            e2e_stack.gateway,
            {"model": "sim-llama", "prompt": "hello", "max_tokens": 1},
            **{"x-gateway-destination-endpoint": "127.0.0.1:1"},
        )
        assert response.status_code == 200
        assert response.headers["x-served-by"] in e2e_stack.sims


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b'{"prompt": "x"}', 400, "'model'"),
        (b'{"model": "sim-llama"}', 400, "neither 'prompt' nor 'messages'"),
    ],
    ids=["bad-json", "no-model", "no-prompt"],
)
async def test_bad_requests_are_answered_by_the_gateway(
    e2e_stack: E2EStack, body: bytes, status: int, message: str
) -> None:
    async with httpx.AsyncClient(base_url=e2e_stack.gateway, timeout=30.0, trust_env=False) as c:
        response = await c.post(
            "/v1/completions", content=body, headers={"content-type": "application/json"}
        )
    assert response.status_code == status
    assert message in response.json()["error"]["message"]
    assert "x-served-by" not in response.headers  # no model server saw it


@pytest.mark.asyncio(loop_scope="session")
async def test_models_listing_without_body_is_routed(e2e_stack: E2EStack) -> None:
    async with httpx.AsyncClient(base_url=e2e_stack.gateway, timeout=30.0, trust_env=False) as c:
        response = await c.get("/v1/models")
    assert response.status_code == 200
    assert response.json()["data"][0]["id"] == "sim-llama"


@pytest.mark.asyncio(loop_scope="session")
async def test_subset_hint_from_the_gateway_is_honoured(e2e_stack: E2EStack) -> None:
    chosen = e2e_stack.sims[1]
    for _ in range(6):
        response = await post(
            e2e_stack.gateway,
            {"model": "sim-llama", "prompt": "hello", "max_tokens": 1},
            **{"x-test-subset": chosen},
        )
        assert response.status_code == 200
        assert response.headers["x-served-by"] == chosen


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("subset", ["none", "127.0.0.1:1"], ids=["empty", "no-member"])
async def test_subset_without_eligible_endpoint_is_503(e2e_stack: E2EStack, subset: str) -> None:
    response = await post(
        e2e_stack.gateway,
        {"model": "sim-llama", "prompt": "hello", "max_tokens": 1},
        **{"x-test-subset": subset},
    )
    assert response.status_code == 503
    assert "subset" in response.json()["error"]["message"]


@pytest.mark.asyncio(loop_scope="session")
async def test_served_endpoint_metadata_is_read_on_the_response_path(
    e2e_stack: E2EStack, observer: Observer
) -> None:
    request_id = uuid.uuid4().hex
    response = await post(
        e2e_stack.gateway,
        {"model": "sim-llama", "prompt": "hello", "max_tokens": 1},
        **{"x-request-id": request_id},
    )
    completed = await observer.wait_for(request_id, RequestCompleted)
    assert isinstance(completed, RequestCompleted)
    assert completed.target == response.headers["x-served-by"]


@pytest.mark.asyncio(loop_scope="session")
async def test_oversized_body_is_413_without_reaching_a_server(e2e_stack: E2EStack) -> None:
    prompt = "x" * (E2E_MAX_BODY_BYTES + 1)
    response = await post(e2e_stack.gateway, {"model": "sim-llama", "prompt": prompt})
    assert response.status_code == 413
    assert "exceeds" in response.json()["error"]["message"]
    assert "x-served-by" not in response.headers
