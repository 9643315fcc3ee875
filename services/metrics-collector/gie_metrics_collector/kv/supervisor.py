"""One KV-event follower per owned endpoint; :meth:`KvSupervisor.sync` matches the set."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import structlog
import zmq.asyncio

from gie.bus import EventBus
from gie.events import Endpoint
from gie.prefix import PrefixKey
from gie_metrics_collector.kv.addresses import KvAddresses, kv_addresses
from gie_metrics_collector.kv.kv_metrics import KvMetrics
from gie_metrics_collector.kv.subscriber import KvSubscriber
from gie_metrics_collector.kv.tracker import KvTracker

__all__ = ["KvSupervisor"]

_log = structlog.get_logger("gie.metrics_collector.kv")


class KvSupervisor:
    """Starts, stops and restarts followers. A follower that dies of a bug is logged and
    restarted ``restart_s`` later (from the bus again). One event loop; not thread-safe."""

    def __init__(
        self,
        *,
        bus: EventBus,
        pool: str,
        source: str,
        port: int,
        replay_port: int,
        replay_timeout_s: float,
        metrics: KvMetrics,
        key: PrefixKey,
        max_message_bytes: int = 64 * 1024 * 1024,
        restart_s: float = 1.0,
    ) -> None:
        self._bus, self._pool, self._source = bus, pool, source
        self._key = key
        self._port, self._replay_port = port, replay_port
        self._replay_timeout_s = replay_timeout_s
        self._metrics = metrics
        self._restart_s = restart_s
        self._ctx = zmq.asyncio.Context()
        # Every socket made from here on (SUB and replay DEALER) drops a peer that sends a
        # larger message: its batches then count as lost (a gap) rather than filling memory.
        self._ctx.setsockopt(zmq.MAXMSGSIZE, max_message_bytes)
        self._followers: dict[str, KvSubscriber] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wanted: dict[str, Endpoint] = {}

    @property
    def addresses(self) -> list[str]:
        return sorted(self._tasks)

    def follower(self, address: str) -> KvSubscriber | None:
        return self._followers.get(address)

    def sync(self, wanted: Mapping[str, Endpoint]) -> None:
        """Follow exactly ``wanted`` (address -> endpoint) from now on."""
        self._wanted = dict(wanted)
        for address in [a for a in self._tasks if a not in wanted]:
            self._stop(address)
        for address, endpoint in wanted.items():
            follower = self._followers.get(address)
            if follower is not None and follower.addresses != self._addresses(endpoint):
                self._stop(address)  # its sockets moved
            if address not in self._tasks:
                self._start(endpoint)

    def debug(self) -> list[dict[str, object]]:
        return [
            {
                "address": address,
                "events": follower.addresses.events,
                "replay": follower.addresses.replay,
                "epoch": follower.tracker.epoch,
                "seq": follower.tracker.last_seq,
                "known": follower.tracker.known,
                "blocks": follower.tracker.blocks,
            }
            for address, follower in sorted(self._followers.items())
        ]

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._wanted.clear()
        for address in list(self._tasks):
            self._stop(address)
        await asyncio.gather(*tasks, return_exceptions=True)
        self._ctx.term()

    def _addresses(self, endpoint: Endpoint) -> KvAddresses:
        return kv_addresses(endpoint, port=self._port, replay_port=self._replay_port)

    def _start(self, endpoint: Endpoint) -> None:
        follower = KvSubscriber(
            tracker=KvTracker(
                pool=self._pool, address=endpoint.address, source=self._source, key=self._key
            ),
            addresses=self._addresses(endpoint),
            bus=self._bus,
            ctx=self._ctx,
            metrics=self._metrics,
            replay_timeout_s=self._replay_timeout_s,
        )
        task = asyncio.create_task(follower.run(), name=f"kv events {endpoint.address}")
        task.add_done_callback(self._ended)
        self._followers[endpoint.address] = follower
        self._tasks[endpoint.address] = task

    def _stop(self, address: str) -> None:
        self._tasks.pop(address).cancel()
        self._followers.pop(address, None)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        address = next((a for a, t in self._tasks.items() if t is task), None)
        if address is None:
            return
        self._tasks.pop(address)
        self._followers.pop(address, None)
        _log.error("kv follower crashed; restarting", endpoint=address, exc_info=task.exception())
        asyncio.get_running_loop().call_later(self._restart_s, self._restart, address)

    def _restart(self, address: str) -> None:
        endpoint = self._wanted.get(address)
        if endpoint is not None and address not in self._tasks:
            self._start(endpoint)
