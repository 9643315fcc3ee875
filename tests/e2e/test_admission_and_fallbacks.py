"""Fallback endpoints and shedding, through the real gateway."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest
import pytest_asyncio

from gie_cli.devstack import PartStartError, StackOptions, start_stack
from gie_cli.devstack.stack import RunningStack
from tests.e2e.conftest import E2E_FALLBACKS, E2EStack

pytestmark = pytest.mark.e2e

BODY = {"model": "sim-llama", "prompt": "hello", "max_tokens": 1}


def access_log_entry(stack: E2EStack, request_id: str) -> dict[str, str]:
    """The request's access-log line (Envoy flushes the log about once a second)."""
    log = stack.state_dir / "logs" / "envoy-access.log"
    for _ in range(100):
        for line in log.read_text().splitlines() if log.exists() else []:
            entry: dict[str, str] = orjson.loads(line)
            if entry.get("request_id") == request_id:
                return entry
        time.sleep(0.1)
    raise AssertionError(f"{request_id} not in the access log")


def test_destination_lists_primary_and_fallbacks_and_the_primary_serves(
    e2e_stack: E2EStack, gateway_client: httpx.Client
) -> None:
    request_id = uuid.uuid4().hex
    response = gateway_client.post(
        "/v1/completions", json=BODY, headers={"x-request-id": request_id}
    )
    assert response.status_code == 200
    destination = access_log_entry(e2e_stack, request_id)["destination"].split(",")
    assert len(destination) == E2E_FALLBACKS
    assert len(set(destination)) == E2E_FALLBACKS
    assert set(destination) <= set(e2e_stack.sims)
    assert response.headers["x-served-by"] == destination[0]


async def set_sims(stack: RunningStack, path: str, body: dict[str, object]) -> None:
    sims = [p.addresses["endpoint"] for p in stack.state.parts if p.kind == "sim"]
    async with httpx.AsyncClient(timeout=10.0, trust_env=False) as client:
        for sim in sims:
            (await client.post(f"http://{sim}{path}", json=body)).raise_for_status()


async def wait_saturation(stack: RunningStack, expect: str) -> None:
    admin = next(p.addresses["admin"] for p in stack.state.parts if p.name == "picker")
    async with httpx.AsyncClient(timeout=10.0, trust_env=False) as client:
        for _ in range(200):
            view = (await client.get(f"{admin}/debug/view")).json()
            if expect in view["saturation"]["reason"]:
                return
            await asyncio.sleep(0.05)
    raise AssertionError(f"saturation never became {expect!r}: {view['saturation']}")


@pytest_asyncio.fixture(loop_scope="session")
async def saturable_stack(tmp_path: Path) -> AsyncIterator[RunningStack]:
    options = StackOptions(
        state_dir=tmp_path / "stack",
        sims=2,
        time_scale=0.0,
        objectives={"batch": -1, "critical": 10},
    )
    try:
        running = await start_stack(options)
    except PartStartError as error:
        pytest.fail(f"stack did not start: {error}\n{error.log_tail}", pytrace=False)
    try:
        yield running
    finally:
        await running.stop()


async def post_with_objective(stack: RunningStack, objective: str | None) -> httpx.Response:
    headers = {"x-gateway-inference-objective": objective} if objective else {}
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30.0, trust_env=False) as client:
        return await client.post("/v1/completions", json=BODY, headers=headers)


@pytest.mark.asyncio(loop_scope="session")
async def test_saturated_pool_sheds_only_sheddable_requests(
    saturable_stack: RunningStack,
) -> None:
    # Every server reports a long waiting queue: the pool is saturated.
    await set_sims(saturable_stack, "/sim/overrides", {"waiting": 50})
    await wait_saturation(saturable_stack, "over queue depth")
    for objective, status in (("batch", 429), ("critical", 200), (None, 200)):
        response = await post_with_objective(saturable_stack, objective)
        assert response.status_code == status, objective
        if status == 429:
            assert "saturated" in response.json()["error"]["message"]
            assert "x-served-by" not in response.headers
    await set_sims(saturable_stack, "/sim/overrides", {})


@pytest.mark.asyncio(loop_scope="session")
async def test_all_stale_metrics_do_not_wedge_admission(saturable_stack: RunningStack) -> None:
    # Metrics pages fail: every endpoint goes stale. Unknown load is not full load,
    # so sheddable requests are admitted by requests in flight instead of shed.
    await set_sims(saturable_stack, "/sim/faults", {"mode": "http500"})
    try:
        await wait_saturation(saturable_stack, "stale")
        for _ in range(3):
            response = await post_with_objective(saturable_stack, "batch")
            assert response.status_code == 200
    finally:
        await set_sims(saturable_stack, "/sim/faults", {"mode": "none"})
