"""Keeps track of whether Redis answers, for the readiness probe."""

from __future__ import annotations

import asyncio

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

_log = structlog.get_logger("gie.flow_controller")


class RedisHealth:
    """Pings Redis periodically; ``problem`` is None while it answers."""

    def __init__(self, client: Redis, *, period_s: float) -> None:
        self._client = client
        self._period_s = period_s
        self.problem: str | None = "not checked yet"

    async def check(self) -> None:
        try:
            await self._client.ping()
        except (RedisError, OSError) as exc:
            if self.problem is None:
                _log.warning("redis unreachable", error=str(exc))
            self.problem = f"redis unreachable: {exc}"
            return
        if self.problem is not None:
            _log.info("redis reachable")
        self.problem = None

    async def run(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self._period_s)
