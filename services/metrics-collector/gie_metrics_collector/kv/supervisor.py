"""One KV-event follower per owned endpoint; :meth:`KvSupervisor.sync` matches the set."""

from __future__ import annotations

from collections.abc import Mapping

import zmq.asyncio

from gie.bus import EventBus
from gie.events import Endpoint
from gie.prefix import PrefixKey
from gie_metrics_collector.endpoint_tasks import EndpointTasks
from gie_metrics_collector.kv.addresses import KvAddresses, kv_addresses
from gie_metrics_collector.kv.kv_metrics import KvMetrics
from gie_metrics_collector.kv.subscriber import KvSubscriber
from gie_metrics_collector.kv.tracker import KvTracker

__all__ = ["KvSupervisor"]


def kv_context(*, max_message_bytes: int, heartbeat_s: float) -> zmq.asyncio.Context:
    """The ZMQ context every KV-event socket (SUB and replay DEALER) is made from.

    Its sockets drop a peer that sends a larger message than ``max_message_bytes`` (its
    batches then count as lost, a gap, rather than filling memory), and with
    ``heartbeat_s`` they ping the server that often and drop a connection silent for
    three times that: ZMQ then connects again, and the follower's catch-up replays what
    went by. Without it a half-open connection (a peer gone without a FIN) stays open,
    silent, for ever, and the endpoint's state with it.
    """
    ctx = zmq.asyncio.Context()
    ctx.setsockopt(zmq.MAXMSGSIZE, max_message_bytes)
    if heartbeat_s > 0:
        interval_ms = max(1, round(heartbeat_s * 1000))
        ctx.setsockopt(zmq.HEARTBEAT_IVL, interval_ms)
        ctx.setsockopt(zmq.HEARTBEAT_TIMEOUT, 3 * interval_ms)
        ctx.setsockopt(zmq.HEARTBEAT_TTL, 3 * interval_ms)
    return ctx


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
        heartbeat_s: float = 10.0,
        restart_s: float = 1.0,
    ) -> None:
        self._bus, self._pool, self._source = bus, pool, source
        self._key = key
        self._port, self._replay_port = port, replay_port
        self._replay_timeout_s = replay_timeout_s
        self._metrics = metrics
        self._ctx = kv_context(max_message_bytes=max_message_bytes, heartbeat_s=heartbeat_s)
        self._followers: EndpointTasks[KvSubscriber] = EndpointTasks(
            kind="kv follower",
            build=self._follower,
            replace=lambda follower, endpoint: follower.addresses != self._addresses(endpoint),
            restart_s=restart_s,
        )

    @property
    def addresses(self) -> list[str]:
        return self._followers.addresses

    def follower(self, address: str) -> KvSubscriber | None:
        return self._followers.get(address)

    def sync(self, wanted: Mapping[str, Endpoint]) -> None:
        """Follow exactly ``wanted`` (address -> endpoint) from now on; a follower whose
        sockets moved is restarted."""
        self._followers.sync(wanted)

    def debug(self) -> list[dict[str, object]]:
        return [
            {
                "address": address,
                "events": follower.addresses.events,
                "replay": follower.addresses.replay,
                "malformed": dict(follower.addresses.malformed),
                "epoch": follower.tracker.epoch,
                "seq": follower.tracker.last_seq,
                "known": follower.tracker.known,
                "blocks": follower.tracker.blocks,
            }
            for address, follower in self._followers.items()
        ]

    async def close(self) -> None:
        await self._followers.close()
        self._ctx.term()

    def _addresses(self, endpoint: Endpoint) -> KvAddresses:
        return kv_addresses(endpoint, port=self._port, replay_port=self._replay_port)

    def _follower(self, endpoint: Endpoint) -> KvSubscriber:
        return KvSubscriber(
            tracker=KvTracker(
                pool=self._pool, address=endpoint.address, source=self._source, key=self._key
            ),
            addresses=self._addresses(endpoint),
            bus=self._bus,
            ctx=self._ctx,
            metrics=self._metrics,
            replay_timeout_s=self._replay_timeout_s,
        )
