"""Replicas of every service behind the real Envoy, and the pool's failureMode.

Two picker replicas: SIGKILL one and every request started a second later succeeds;
kill both and the pool's failureMode decides: FailClose answers 503 with a JSON body
naming the unavailable picker, FailOpen sends the request to a pool endpoint.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from gie_cli.devstack import FailureMode, PartStartError, StackOptions, check_stack, start_stack
from gie_cli.devstack.local_reply import PICKER_UNAVAILABLE
from gie_cli.devstack.stack import RunningStack

pytestmark = pytest.mark.e2e

BODY = {"model": "sim-llama", "prompt": "hello", "max_tokens": 2}


async def _start(options: StackOptions) -> RunningStack:
    try:
        return await start_stack(options)
    except PartStartError as error:
        pytest.fail(f"stack did not start: {error}\n{error.log_tail}", pytrace=False)


@pytest_asyncio.fixture(loop_scope="session")
async def replicated(tmp_path: Path) -> AsyncIterator[RunningStack]:
    options = StackOptions(
        state_dir=tmp_path, sims=2, time_scale=0.0, pickers=2, collectors=2, ingests=2
    )
    running = await _start(options)
    try:
        yield running
    finally:
        await running.stop()


async def _send(gateway: str, count: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=gateway, timeout=30.0, trust_env=False) as client:
        semaphore = asyncio.Semaphore(4)

        async def one() -> httpx.Response:
            async with semaphore:
                return await client.post("/v1/completions", json=BODY)

        return list(await asyncio.gather(*(one() for _ in range(count))))


def _kill(running: RunningStack, process: str) -> None:
    os.kill(running.state.process(process).pid, signal.SIGKILL)


@pytest.mark.asyncio(loop_scope="session")
async def test_every_replica_is_a_healthy_part_and_requests_succeed(
    replicated: RunningStack,
) -> None:
    report = (await check_stack(replicated.state)).to_json()
    services = report["services"]
    for name in ("picker", "picker-1", "metrics-collector", "metrics-collector-1"):
        assert services[name]["healthy"], name
    for name in ("ingest", "ingest-1", "flow-controller"):
        assert services[name]["healthy"], name
    assert services["picker"]["pid"] != services["picker-1"]["pid"]
    assert report["healthy"] is True
    responses = await _send(replicated.gateway, 40)
    failed = [r.text for r in responses if r.status_code != 200]
    assert [r.status_code for r in responses] == [200] * 40, failed


@pytest.mark.asyncio(loop_scope="session")
async def test_a_killed_picker_replica_gets_no_stream_a_second_later(
    replicated: RunningStack,
) -> None:
    _kill(replicated, "picker-1")
    await asyncio.sleep(1.0)
    responses = await _send(replicated.gateway, 60)
    assert [r.status_code for r in responses] == [200] * 60
    # With the last picker gone too, the pool fails closed (the default).
    _kill(replicated, "picker")
    await asyncio.sleep(1.0)
    (response,) = await _send(replicated.gateway, 1)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["type"] == PICKER_UNAVAILABLE
    assert "picker is unavailable" in error["message"]


@pytest.mark.asyncio(loop_scope="session")
async def test_fail_open_sends_requests_to_the_pool_when_no_picker_answers(
    tmp_path: Path,
) -> None:
    options = StackOptions(
        state_dir=tmp_path, sims=2, time_scale=0.0, failure_mode=FailureMode.FAIL_OPEN
    )
    running = await _start(options)
    try:
        _kill(running, "picker")
        await asyncio.sleep(1.0)
        responses = await _send(running.gateway, 20)
        assert [r.status_code for r in responses] == [200] * 20
        servers = {part.addresses["endpoint"] for part in running.state.parts if part.kind == "sim"}
        # No picker chose: Envoy's round robin spreads them over the pool.
        served = {r.headers.get("x-served-by") for r in responses}
        assert served == servers
    finally:
        await running.stop()


@pytest.mark.asyncio(loop_scope="session")
async def test_two_ingest_replicas_watch_kubernetes_and_requests_succeed(tmp_path: Path) -> None:
    options = StackOptions(
        state_dir=tmp_path, sims=2, time_scale=0.0, discovery="kubernetes", ingests=2
    )
    running = await _start(options)
    try:
        report = (await check_stack(running.state)).to_json()
        assert report["services"]["ingest"]["healthy"]
        assert report["services"]["ingest-1"]["healthy"]
        responses = await _send(running.gateway, 20)
        assert [r.status_code for r in responses] == [200] * 20
        # Either replica alone keeps the pool: with one killed, routing goes on.
        _kill(running, "ingest")
        responses = await _send(running.gateway, 20)
        assert [r.status_code for r in responses] == [200] * 20
        assert len({r.headers.get("x-served-by") for r in responses}) == 2
    finally:
        await running.stop()


@pytest.mark.asyncio(loop_scope="session")
async def test_every_worker_of_every_picker_replica_gets_streams(tmp_path: Path) -> None:
    options = StackOptions(state_dir=tmp_path, sims=2, time_scale=0.0, pickers=2, picker_workers=2)
    running = await _start(options)
    try:
        services = (await check_stack(running.state)).to_json()["services"]
        workers = ["picker", "picker-w1", "picker-1", "picker-1-w1"]
        assert [services[name]["healthy"] for name in workers] == [True] * 4
        responses = await _send(running.gateway, 80)
        assert [r.status_code for r in responses] == [200] * 80
        async with httpx.AsyncClient(timeout=5.0, trust_env=False) as client:
            pages = [
                (await client.get(f"{services[name]['addresses']['admin']}/metrics")).text
                for name in workers
            ]
        routed = [_routed(page) for page in pages]
        assert sum(routed) == 80
        assert all(count > 0 for count in routed), dict(zip(workers, routed, strict=True))
    finally:
        await running.stop()


def _routed(page: str) -> float:
    for family in text_string_to_metric_families(page):
        if family.name == "gie_picker_requests_routed":
            return sum(s.value for s in family.samples if s.name.endswith("_total"))
    return 0.0
