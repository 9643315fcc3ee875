"""Outcome and wake-up notices from Redis pub/sub.

Pub/sub is at-most-once: a notice published while the subscription reconnects is lost.
Consumers therefore also poll (waiters) or tick (shard workers); notices only make them
react sooner. One subscription per replica, reconnecting with backoff.
"""

from __future__ import annotations

import asyncio

import orjson
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gie_flow_controller.state.contracts import OutcomeListener, WakeListener
from gie_flow_controller.state.keys import PoolKeys
from gie_flow_controller.state.redis_codec import finished

_log = structlog.get_logger("gie.flow_controller.notifications")


class RedisNotifications:
    """Delivers the pool's ``outcomes`` and ``wake`` channels to listeners."""

    def __init__(self, client: Redis, pool: str) -> None:
        self._client = client
        self._keys = PoolKeys(pool)
        self.subscribed = asyncio.Event()

    async def run(self, on_outcome: OutcomeListener, on_wake: WakeListener) -> None:
        delay, failing = 0.1, False
        while True:
            try:
                await self._listen(on_outcome, on_wake)
            except (RedisError, OSError) as exc:
                if self.subscribed.is_set():  # was working: a new failure streak
                    delay, failing = 0.1, False
                if not failing:
                    _log.warning("pub/sub lost; resubscribing", error=str(exc))
                failing = True
                self.subscribed.clear()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _listen(self, on_outcome: OutcomeListener, on_wake: WakeListener) -> None:
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self._keys.outcomes, self._keys.wake)
            self.subscribed.set()
            _log.info("subscribed to outcome notices", pool=self._keys.pool)
            async for message in pubsub.listen():
                channel = message["channel"]
                channel = channel.decode() if isinstance(channel, bytes) else channel
                data = message["data"]
                if channel == self._keys.wake:
                    on_wake(int(data))
                else:
                    on_outcome(finished(orjson.loads(data)))
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]  # typed from redis 8
