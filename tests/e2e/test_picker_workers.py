"""Several picker workers on one port share the ext_proc streams behind the shipped Envoy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from gie_cli.devstack import PartStartError, StackOptions, start_stack
from gie_cli.devstack.stack import RunningStack

pytestmark = pytest.mark.e2e

WORKERS = 4
REQUESTS = 240


@pytest_asyncio.fixture(loop_scope="session")
async def stack(tmp_path: Path) -> AsyncIterator[RunningStack]:
    options = StackOptions(state_dir=tmp_path, sims=2, time_scale=0.0, picker_workers=WORKERS)
    try:
        running = await start_stack(options)
    except PartStartError as error:
        pytest.fail(f"stack did not start: {error}\n{error.log_tail}", pytrace=False)
    try:
        yield running
    finally:
        await running.stop()


def routed_total(page: str) -> float:
    for family in text_string_to_metric_families(page):
        if family.name == "gie_picker_requests_routed":
            return sum(sample.value for sample in family.samples if sample.name.endswith("_total"))
    return 0.0


@pytest.mark.asyncio(loop_scope="session")
async def test_streams_spread_evenly_over_four_workers(stack: RunningStack) -> None:
    body = {"model": "sim-llama", "prompt": "hi", "max_tokens": 1}
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30.0, trust_env=False) as client:
        semaphore = asyncio.Semaphore(8)

        async def one() -> int:
            async with semaphore:
                return (await client.post("/v1/completions", json=body)).status_code

        statuses = await asyncio.gather(*(one() for _ in range(REQUESTS)))
        assert statuses.count(200) == REQUESTS
        admins = [p.addresses["admin"] for p in stack.state.parts if p.name.startswith("picker")]
        assert len(admins) == WORKERS
        counts = [routed_total((await client.get(f"{admin}/metrics")).text) for admin in admins]
    assert sum(counts) == REQUESTS
    shares = [count / REQUESTS for count in counts]
    assert all(0.20 <= share <= 0.30 for share in shares), shares
