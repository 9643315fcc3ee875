"""KvSubscriber and KvSupervisor on an in-memory bus: offloaded-tier events in a live
batch, replays that share the event loop, and malformed socket addresses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import msgspec
import pytest
import zmq
import zmq.asyncio
from prometheus_client import CollectorRegistry

from gie.bus import KV, MemoryEventBus
from gie.bus.errors import BusPublishError
from gie.events import Endpoint, Event, KvBlocksRemoved, KvBlocksStored, KvCacheCleared
from gie.kvevents import (
    END_OF_REPLAY,
    BlockStored,
    EngineBatch,
    decode_batch,
    decode_seq,
    encode_batch,
    encode_seq,
)
from gie.prefix import PreciseIndex, PrefixKey, token_block_keys
from gie_metrics_collector.kv import (
    KV_EVENTS_LABEL,
    KV_REPLAY_LABEL,
    KvMetrics,
    KvSubscriber,
    KvSupervisor,
    KvTracker,
)
from gie_metrics_collector.kv import subscriber as subscriber_module
from gie_metrics_collector.kv.addresses import KvAddresses
from tests.support.logs import captured_logs

KEY = PrefixKey(b"subscriber test secret, 32 bytes")
ADDRESS = "10.0.0.1:8000"
NOWHERE = "tcp://127.0.0.1:9"  # a well-formed address nothing listens on


class CountingBus(MemoryEventBus):
    """Counts ``follow`` calls: each is a follower reading its endpoint from the bus."""

    def __init__(self) -> None:
        super().__init__()
        self.follows = 0

    async def follow(self, *args: Any, **kwargs: Any) -> Any:
        self.follows += 1
        return await super().follow(*args, **kwargs)


@pytest.fixture
async def ctx() -> AsyncIterator[zmq.asyncio.Context]:
    context = zmq.asyncio.Context()
    yield context
    context.term()


def subscriber(
    bus: MemoryEventBus, ctx: zmq.asyncio.Context, registry: CollectorRegistry, replay: str | None
) -> KvSubscriber:
    return KvSubscriber(
        tracker=KvTracker(pool="p", address=ADDRESS, source="c", key=KEY),
        addresses=KvAddresses(NOWHERE, replay),
        bus=bus,
        ctx=ctx,
        metrics=KvMetrics(registry),
        replay_timeout_s=10.0,
    )


def count(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels or None) or 0.0


async def test_offloaded_tier_events_do_not_drop_the_batch_or_remove_gpu_blocks(
    ctx: zmq.asyncio.Context,
) -> None:
    bus, registry = MemoryEventBus(), CollectorRegistry()
    follower = subscriber(bus, ctx, registry, replay=None)
    payload = msgspec.msgpack.encode(
        [
            1.0,
            [
                ["BlockStored", [11], None, [1, 2, 3, 4], 4, None, "GPU", None],
                ["BlockStored", [11], None, [], 4, None, "CPU", None],  # offloaded copy
                {"type": "BlockRemoved", "block_hashes": [11], "medium": "CPU"},
            ],
            0,
        ]
    )
    await follower.on_message([b"", encode_seq(0), payload])
    events = bus.stored(KV)
    assert [type(e) for e in events] == [KvCacheCleared, KvBlocksStored]
    assert not [e for e in events if isinstance(e, KvBlocksRemoved)]
    assert follower.tracker.blocks == 1
    assert count(registry, "gie_collector_kv_bad_messages_total") == 0
    assert count(registry, "gie_collector_kv_skipped_events_total", reason="other_medium") == 2


async def serve_replay(router: zmq.asyncio.Socket, payloads: list[bytes]) -> None:
    """Answer one replay request like a server holding ``payloads`` as seqs 0.."""
    identity, _empty, start = await router.recv_multipart()
    for seq in range(decode_seq(start), len(payloads)):
        await router.send_multipart([identity, b"", encode_seq(seq), payloads[seq]])
    await router.send_multipart([identity, b"", encode_seq(END_OF_REPLAY), b""])


@pytest.mark.parametrize("path", ["gap", "connect"])
async def test_a_long_replay_lets_other_tasks_run_while_decoding_and_applying(
    ctx: zmq.asyncio.Context, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    batches = 20 * subscriber_module.YIELD_EVERY
    payloads = [
        encode_batch(
            [BlockStored((seq,), seq - 1 if seq else None, (seq,) * 4, 4)], ts=float(seq + 1)
        )
        for seq in range(batches + 1)
    ]
    decoded = 0

    def counting_decode(payload: bytes) -> EngineBatch:
        nonlocal decoded
        decoded += 1
        return decode_batch(payload)

    monkeypatch.setattr(subscriber_module, "decode_batch", counting_decode)
    router = ctx.socket(zmq.ROUTER)
    router.setsockopt(zmq.SNDHWM, 0)
    router.bind("tcp://127.0.0.1:*")
    address = router.getsockopt(zmq.LAST_ENDPOINT).decode()  # type: ignore[union-attr]
    follower = subscriber(MemoryEventBus(), ctx, CollectorRegistry(), replay=address)
    seen: set[tuple[int, int]] = set()  # (batches decoded, last applied seq) at each turn

    async def watch() -> None:
        while True:
            seen.add((decoded, follower.tracker.last_seq))
            await asyncio.sleep(0)

    server = asyncio.create_task(serve_replay(router, payloads[:batches]))
    watcher = asyncio.create_task(watch())
    try:
        if path == "gap":  # a live batch far ahead: the gap before it is replayed
            await follower.on_batch(batches, EngineBatch(float(batches + 1), ()))
        else:  # the SUB socket connected: catch up from the replay socket
            await follower._on_connected()
        await server
    finally:
        watcher.cancel()
        router.close(linger=0)
    assert follower.tracker.last_seq == (batches if path == "gap" else batches - 1)
    assert any(0 < n < batches for n, _ in seen), "no other task ran while decoding"
    assert any(0 < s < batches - 1 for _, s in seen), "no other task ran while applying"


def supervisor(bus: MemoryEventBus, registry: CollectorRegistry) -> KvSupervisor:
    return KvSupervisor(
        bus=bus,
        pool="p",
        source="c",
        port=5557,
        replay_port=5558,
        replay_timeout_s=0.1,
        metrics=KvMetrics(registry),
        key=KEY,
        restart_s=0.01,
    )


async def test_a_malformed_events_address_is_logged_once_and_not_retried() -> None:
    bus, registry = CountingBus(), CollectorRegistry()
    endpoint = Endpoint(
        address=ADDRESS, labels={KV_EVENTS_LABEL: "tcp://10.0.0.5", KV_REPLAY_LABEL: ""}
    )
    kv = supervisor(bus, registry)
    with captured_logs("gie.metrics_collector.kv") as logs:
        kv.sync({ADDRESS: endpoint})
        first = kv.follower(ADDRESS)
        await asyncio.sleep(0.3)  # 30 restart periods
        assert kv.follower(ADDRESS) is first  # the same follower: it never crashed
        await kv.close()
    assert bus.follows == 0  # nothing read from the bus: no events will be published
    assert count(registry, "gie_collector_kv_bad_addresses_total", socket="events") == 1
    warnings = [e for e in logs if "malformed" in e["event"]]
    assert len(warnings) == 1
    assert (warnings[0]["endpoint"], warnings[0]["address"]) == (ADDRESS, "tcp://10.0.0.5")
    assert not [e for e in logs if e["level"] == "error"]  # no crash


async def test_a_malformed_replay_address_leaves_the_endpoint_followed_without_replay(
    ctx: zmq.asyncio.Context,
) -> None:
    pub = ctx.socket(zmq.PUB)  # the server's PUB socket: connecting asks for a replay
    pub.bind("tcp://127.0.0.1:*")
    events = pub.getsockopt(zmq.LAST_ENDPOINT).decode()  # type: ignore[union-attr]
    bus, registry = CountingBus(), CollectorRegistry()
    endpoint = Endpoint(
        address=ADDRESS, labels={KV_EVENTS_LABEL: events, KV_REPLAY_LABEL: "tcp://10.0.0.5:x"}
    )
    kv = supervisor(bus, registry)
    try:
        kv.sync({ADDRESS: endpoint})
        follower = kv.follower(ADDRESS)
        await asyncio.sleep(0.3)
        assert kv.follower(ADDRESS) is follower
        assert follower is not None and follower.addresses == KvAddresses(
            events, None, (("replay", "tcp://10.0.0.5:x"),)
        )
    finally:
        await kv.close()
        pub.close(linger=0)
    assert bus.follows == 1  # restored once, then followed the SUB socket
    assert count(registry, "gie_collector_kv_bad_addresses_total", socket="replay") == 1


class FailingBus(MemoryEventBus):
    """Takes nothing while ``failing`` (NATS unreachable), like the real bus then."""

    def __init__(self) -> None:
        super().__init__()
        self.failing = False

    def publish_batch_nowait(self, subject: str, events: Sequence[Event]) -> bool:
        return False if self.failing else super().publish_batch_nowait(subject, events)

    async def publish(self, subject: str, event: Event, **kwargs: Any) -> None:
        if self.failing:
            raise BusPublishError("nats: connection closed")
        await super().publish(subject, event, **kwargs)


def engine_batch(*events: list[object]) -> bytes:
    return msgspec.msgpack.encode([1.0, list(events), 0])


async def test_after_events_could_not_be_published_the_whole_state_is_restated(
    ctx: zmq.asyncio.Context,
) -> None:
    """A NATS outage loses the events of the batches meanwhile: the pickers would keep
    blocks the server evicted and miss ones it stored. The next publish that gets
    through restates the endpoint's whole state, so they end up as the server is."""
    bus, registry = FailingBus(), CollectorRegistry()
    follower = subscriber(bus, ctx, registry, replay=None)
    stored = ["BlockStored", [11], None, [1, 2, 3, 4], 4, None]
    await follower.on_message([b"", encode_seq(0), engine_batch(stored)])
    bus.failing = True
    more = ["BlockStored", [12], 11, [5, 6, 7, 8], 4, None]
    await follower.on_message([b"", encode_seq(1), engine_batch(more, ["BlockRemoved", [11]])])
    bus.failing = False
    last = ["BlockStored", [13], 12, [9, 10, 11, 12], 4, None]
    await follower.on_message([b"", encode_seq(2), engine_batch(last)])

    index = PreciseIndex("p")
    for event in bus.stored(KV):
        index.apply(event)
    state = index.get(ADDRESS)
    assert state is not None and state.known
    expected = token_block_keys([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 4, key=KEY)
    assert state.keys == set(expected[1:])  # 11 evicted, 12 and 13 held
    assert count(registry, "gie_collector_kv_restated_total") == 1
    # A collector taking the endpoint over rebuilds the same map from the bus.
    taking_over = KvTracker(pool="p", address=ADDRESS, source="c2", key=KEY)
    for event in bus.stored(KV):
        taking_over.restore(event)
    assert (taking_over.blocks, taking_over.last_seq) == (2, 2)
    assert count(registry, "gie_collector_kv_publish_errors_total") >= 1
