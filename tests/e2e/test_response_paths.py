"""Both response paths through the real gateway: completion records and full streaming.

``records`` (the default): Envoy skips the response phases of ext_proc, reads the
usage itself and reports each request's end in a gRPC access-log record.
``ext-proc``: every response chunk streams through the picker, which reads the usage
(the setting for proxies without those filters). Either way the picker publishes
``RequestCompleted`` with the status, the usage and the endpoint that served.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import orjson
import pytest
import pytest_asyncio

from gie.bus import EVENTS, Deliver, NatsEventBus
from gie.events import Event, RequestCompleted
from gie.events.subjects import pool_filter
from gie_cli.devstack import PartStartError, ResponsePath, StackOptions, start_stack

pytestmark = pytest.mark.e2e


@dataclass
class Gateway:
    path: ResponsePath
    url: str
    picker_admin: str
    events: list[Event]

    async def completed(self, request_id: str, timeout_s: float = 10.0) -> RequestCompleted:
        for _ in range(int(timeout_s / 0.05)):
            for event in self.events:
                if isinstance(event, RequestCompleted) and event.request_id == request_id:
                    return event
            await asyncio.sleep(0.05)
        raise AssertionError(f"no RequestCompleted for {request_id}")

    async def metric(self, line_prefix: str) -> float:
        async with httpx.AsyncClient(trust_env=False) as client:
            text = (await client.get(f"{self.picker_admin}/metrics")).text
        for line in text.splitlines():
            if line.startswith(line_prefix + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0


@pytest_asyncio.fixture(loop_scope="module", scope="module", params=list(ResponsePath), ids=str)
async def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Gateway]:
    options = StackOptions(
        state_dir=tmp_path_factory.mktemp("response-path"),
        sims=2,
        time_scale=0.05,
        response_path=request.param,
    )
    try:
        running = await start_stack(options)
    except PartStartError as error:
        pytest.fail(f"local stack did not start: {error}\n{error.log_tail}", pytrace=False)
    try:
        events: list[Event] = []
        nats_url = next(p for p in running.state.parts if p.name == "nats").addresses["client"]
        admin = next(p for p in running.state.parts if p.name == "picker").addresses["admin"]
        async with NatsEventBus(nats_url, name="e2e-response-path") as bus:
            following = await bus.follow(
                EVENTS, pool_filter(running.state.pool), events.append, deliver=Deliver.NEW
            )
            await following.caught_up.wait()
            yield Gateway(
                path=request.param, url=running.gateway, picker_admin=admin, events=events
            )
    finally:
        await running.stop()


RECORDS = 'gie_picker_completion_records_total{outcome="completed"}'


@pytest.mark.asyncio(loop_scope="module")
async def test_a_streamed_completion_is_completed_with_its_usage(gateway: Gateway) -> None:
    request_id = uuid.uuid4().hex
    records_before = await gateway.metric(RECORDS)
    async with (
        httpx.AsyncClient(base_url=gateway.url, timeout=30.0, trust_env=False) as client,
        client.stream(
            "POST",
            "/v1/completions",
            json={
                "model": "sim-llama",
                "prompt": "hello there",
                "max_tokens": 6,
                "stream": True,
                "stream_options": {"include_usage": True},
            },
            headers={"x-request-id": request_id},
        ) as response,
    ):
        served = response.headers["x-served-by"]
        events = [line async for line in response.aiter_lines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    usage = orjson.loads(events[-2][6:])["usage"]
    done = await gateway.completed(request_id)
    assert (done.status, done.target) == (200, served)
    assert (done.prompt_tokens, done.completion_tokens) == (
        usage["prompt_tokens"],
        usage["completion_tokens"],
    )
    assert done.completion_tokens == 6
    records = await gateway.metric(RECORDS) - records_before
    # records: the end came in an access-log record; ext-proc: the picker read it itself
    assert records == (1 if gateway.path == ResponsePath.RECORDS else 0)


@pytest.mark.asyncio(loop_scope="module")
async def test_a_json_completion_is_completed_with_its_usage(gateway: Gateway) -> None:
    request_id = uuid.uuid4().hex
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30.0, trust_env=False) as client:
        response = await client.post(
            "/v1/completions",
            json={"model": "sim-llama", "prompt": "hello", "max_tokens": 3},
            headers={"x-request-id": request_id},
        )
    assert response.status_code == 200
    done = await gateway.completed(request_id)
    assert (done.status, done.completion_tokens) == (200, 3)
    assert done.prompt_tokens == response.json()["usage"]["prompt_tokens"]


@pytest.mark.asyncio(loop_scope="module")
async def test_a_client_that_leaves_mid_stream_completes_without_a_status(
    gateway: Gateway,
) -> None:
    request_id = uuid.uuid4().hex
    async with (
        httpx.AsyncClient(base_url=gateway.url, timeout=30.0, trust_env=False) as client,
        client.stream(
            "POST",
            "/v1/completions",
            json={"model": "sim-llama", "prompt": "hello", "max_tokens": 4000, "stream": True},
            headers={"x-request-id": request_id},
        ) as response,
    ):
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                break  # the first token arrived; the client hangs up
    done = await gateway.completed(request_id)
    assert done.status == 0
    assert done.completion_tokens is None


@pytest.mark.asyncio(loop_scope="module")
async def test_records_complete_requests_whichever_worker_receives_them(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Four workers: a record may reach another worker than the one that routed its
    request; every worker still ends with nothing in flight and the records are counted."""
    options = StackOptions(
        state_dir=tmp_path_factory.mktemp("records-workers"),
        sims=2,
        time_scale=0.0,
        picker_workers=4,
    )
    try:
        running = await start_stack(options)
    except PartStartError as error:
        pytest.fail(f"local stack did not start: {error}\n{error.log_tail}", pytrace=False)
    try:
        admins = [p.addresses["admin"] for p in running.state.parts if p.name.startswith("picker")]
        body = {"model": "sim-llama", "prompt": "hi", "max_tokens": 2}
        async with httpx.AsyncClient(
            base_url=running.gateway, timeout=30.0, trust_env=False
        ) as client:
            statuses = await asyncio.gather(
                *(client.post("/v1/completions", json=body) for _ in range(40))
            )
            assert [r.status_code for r in statuses] == [200] * 40
            in_flight: list[int] = []
            records = 0.0
            for _ in range(100):  # records are flushed every 50 ms; events are batched
                views = [(await client.get(f"{admin}/debug/view")).json() for admin in admins]
                in_flight = [view["in_flight"]["requests"] for view in views]
                pages = [(await client.get(f"{admin}/metrics")).text for admin in admins]
                records = sum(_sample(page, RECORDS) for page in pages)
                if records == 40 and not any(in_flight):
                    break
                await asyncio.sleep(0.1)
        assert records == 40
        assert in_flight == [0, 0, 0, 0]
    finally:
        await running.stop()


def _sample(page: str, prefix: str) -> float:
    for line in page.splitlines():
        if line.startswith(prefix + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
