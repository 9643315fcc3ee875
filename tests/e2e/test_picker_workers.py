"""Several picker workers on one port share the ext_proc streams behind the shipped Envoy."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
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


def _children(pid: int) -> dict[int, int]:
    """Worker index -> pid of the picker supervisor ``pid``'s worker processes."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    workers: dict[int, int] = {}
    for child in map(int, children):
        environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        for item in environ:
            if item.startswith(b"GIE_WORKER_INDEX="):
                workers[int(item.split(b"=", 1)[1])] = child
    return workers


@pytest.mark.asyncio(loop_scope="session")
async def test_a_killed_worker_is_restarted_while_the_others_serve(stack: RunningStack) -> None:
    supervisor = stack.state.process("picker").pid
    before = _children(supervisor)
    assert sorted(before) == list(range(WORKERS))
    body = {"model": "sim-llama", "prompt": "hi", "max_tokens": 1}
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30.0, trust_env=False) as client:
        os.kill(before[1], signal.SIGKILL)
        killed_at = loop.time()
        late: list[tuple[float, int, str]] = []  # requests started a second after the kill
        while loop.time() - killed_at < 4.0:
            started = loop.time()
            response = await client.post("/v1/completions", json=body)
            if started - killed_at >= 1.0:
                late.append((round(started - killed_at, 2), response.status_code, response.text))
        failed = [answer for answer in late if answer[1] != 200]
        assert late and not failed, failed
        admin = next(p.addresses["admin"] for p in stack.state.parts if p.name == "picker-w1")
        deadline = loop.time() + 30.0
        ready = False
        while loop.time() < deadline and not ready:
            with contextlib.suppress(httpx.HTTPError):
                ready = (await client.get(f"{admin}/readyz")).status_code == 200
            await asyncio.sleep(0.2)
        assert ready, "worker 1 did not come back"
    after = _children(supervisor)
    assert after[1] != before[1]
    assert {i: after[i] for i in after if i != 1} == {i: before[i] for i in before if i != 1}
