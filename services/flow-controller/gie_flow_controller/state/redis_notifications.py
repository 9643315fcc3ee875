"""Outcome and wake-up notices from Redis pub/sub.

Pub/sub is at-most-once: a notice published while the subscription reconnects is lost.
Consumers therefore also poll (waiters) or tick (shard workers); notices only make them
react sooner. One subscription per replica, reconnecting with backoff. A payload that
cannot be read (anyone may publish on the channels) is skipped, logged and counted; it
never ends the subscription.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gie_flow_controller.state.contracts import OutcomeListener, WakeListener
from gie_flow_controller.state.keys import PoolKeys
from gie_flow_controller.state.redis_codec import finished

_log = structlog.get_logger("gie.flow_controller.notifications")
_PAYLOAD_LOGGED = 200  # characters of a malformed payload shown in its log line


def _ignore(channel: str) -> None:
    pass


class RedisNotifications:
    """Delivers the pool's ``outcomes`` and ``wake`` channels to listeners.

    ``count_malformed(channel)`` is called for every skipped payload (``channel`` is
    ``outcomes`` or ``wake``). ``subscribed`` is set while the subscription is up.
    Exceptions of the listeners are not caught: they end :meth:`run`.
    """

    def __init__(
        self,
        client: Redis,
        pool: str,
        *,
        count_malformed: Callable[[str], None] = _ignore,
    ) -> None:
        self._client = client
        self._keys = PoolKeys(pool)
        self._count_malformed = count_malformed
        self._subscriptions = 0
        self.subscribed = asyncio.Event()

    async def run(self, on_outcome: OutcomeListener, on_wake: WakeListener) -> None:
        delay, failing = 0.1, False
        while True:
            before = self._subscriptions
            try:
                await self._listen(on_outcome, on_wake)
            except (RedisError, OSError) as exc:
                if self._subscriptions != before:  # was working: a new failure streak
                    delay, failing = 0.1, False
                if not failing:
                    _log.warning("pub/sub lost; resubscribing", error=str(exc))
                failing = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _listen(self, on_outcome: OutcomeListener, on_wake: WakeListener) -> None:
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self._keys.outcomes, self._keys.wake)
            self._subscriptions += 1
            self.subscribed.set()
            _log.info("subscribed to outcome notices", pool=self._keys.pool)
            async for message in pubsub.listen():
                self._deliver(message, on_outcome, on_wake)
        finally:
            self.subscribed.clear()
            await pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]  # typed from redis 8

    def _deliver(
        self, message: dict[str, Any], on_outcome: OutcomeListener, on_wake: WakeListener
    ) -> None:
        channel = message["channel"]
        channel = channel.decode() if isinstance(channel, bytes) else channel
        data = message["data"]
        if channel == self._keys.wake:
            try:
                shard = int(data)
            except (TypeError, ValueError) as exc:
                self._skip("wake", data, exc)
                return
            on_wake(shard)
            return
        try:
            done = finished(orjson.loads(data))  # JSONDecodeError is a ValueError
        except (KeyError, TypeError, ValueError) as exc:
            self._skip("outcomes", data, exc)
            return
        on_outcome(done)

    def _skip(self, channel: str, data: object, error: Exception) -> None:
        text = data.decode(errors="replace") if isinstance(data, bytes) else str(data)
        _log.warning(
            "malformed notice skipped",
            pool=self._keys.pool,
            channel=channel,
            error=repr(error),
            payload=text[:_PAYLOAD_LOGGED],
        )
        self._count_malformed(channel)
