"""The flow-controller reports NATS and Redis health through /readyz."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest

from gie_cli.devstack.ports import free_port
from gie_flow_controller.app import run
from gie_flow_controller.settings import FlowControllerSettings

pytestmark = pytest.mark.integration


async def readyz(port: int) -> httpx.Response | None:
    async with httpx.AsyncClient(trust_env=False) as client:
        with contextlib.suppress(httpx.HTTPError):
            return await client.get(f"http://127.0.0.1:{port}/readyz")
    return None


async def wait_status(port: int, status: int, expect: str = "") -> dict[str, object]:
    """Poll /readyz until it answers ``status`` with ``expect`` in its body."""
    for _ in range(200):
        response = await readyz(port)
        if response is not None and response.status_code == status and expect in response.text:
            body: dict[str, object] = response.json()
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"/readyz never answered {status} with {expect!r}")


@pytest.mark.parametrize("redis_ok", [True, False], ids=["redis-up", "redis-down"])
async def test_readiness_needs_nats_and_redis(
    nats_url: str, redis_url: str, redis_ok: bool
) -> None:
    url = redis_url if redis_ok else f"redis://127.0.0.1:{free_port()}/0"  # nothing listens
    settings = FlowControllerSettings(
        nats_url=nats_url,
        redis_url=url,
        admin_port=free_port(),
        redis_check_s=0.1,
        log_format="console",
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run(settings, stop))
    try:
        if redis_ok:
            body = await wait_status(settings.admin_port, 200)
            assert body == {"ready": True, "failing": {}}
        else:
            body = await wait_status(settings.admin_port, 503, expect="redis unreachable")
            assert body["ready"] is False
            failing = body["failing"]
            assert isinstance(failing, dict) and set(failing) == {"redis"}  # NATS is fine
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
