"""Wiring of the flow-controller. For now: NATS and Redis connections and health."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from gie.service import ServiceKit
from gie_flow_controller.redis_health import RedisHealth
from gie_flow_controller.settings import FlowControllerSettings


async def run(settings: FlowControllerSettings, stop: asyncio.Event) -> None:
    async with ServiceKit("flow-controller", settings) as kit:
        client = Redis.from_url(settings.redis_url, socket_timeout=2.0, socket_connect_timeout=2.0)
        redis_health = RedisHealth(client, period_s=settings.redis_check_s)
        kit.health.add_check("redis", lambda: redis_health.problem)
        checker = asyncio.create_task(redis_health.run())
        try:
            await stop.wait()
        finally:
            checker.cancel()
            await asyncio.gather(checker, return_exceptions=True)
            await client.aclose()
