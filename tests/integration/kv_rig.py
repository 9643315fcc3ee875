"""A test rig for KV events: collectors' followers on real NATS, simulators' real ZMQ
sockets, and a precise index folded from the bus as a picker folds it."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

import httpx
from prometheus_client import CollectorRegistry

from gie.bus import KV, Deliver, NatsEventBus
from gie.events import Endpoint, Event
from gie.events.subjects import pool_prefix
from gie.prefix import PreciseIndex, PrefixKey, token_block_keys
from gie.tokenize import CharsTokenizer, PromptInput
from gie_metrics_collector.kv import KV_EVENTS_LABEL, KV_REPLAY_LABEL, KvMetrics, KvSupervisor
from gie_sim import SimServer

BLOCK = 16
# The pool's secret, shared by the collectors and the picker-side scoring of these tests.
SECRET = b"kv integration test pool secret!"
KEY = PrefixKey(SECRET)


def prompt_keys(prompt: str) -> list[int]:
    """The keys a picker computes for a completion prompt (the simulator's tokenizer)."""
    return token_block_keys(CharsTokenizer().encode(PromptInput(text=prompt)), BLOCK, key=KEY)


def endpoint_of(sim: SimServer) -> Endpoint:
    return Endpoint(
        address=sim.address,
        labels={
            KV_EVENTS_LABEL: sim.kv_events.address,
            KV_REPLAY_LABEL: sim.kv_events.replay_address,
        },
    )


async def complete(sim_url: str, prompt: str) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"{sim_url}/v1/completions",
            json={"model": "sim-llama", "prompt": prompt, "max_tokens": 2},
        )
        response.raise_for_status()


async def wait_until(
    check: Callable[[], bool | Awaitable[bool]], what: str, timeout_s: float = 10.0
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        outcome = check()
        if await outcome if inspect.isawaitable(outcome) else outcome:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {timeout_s}s: {what}")


class KvRig:
    """Followers (one supervisor per simulated collector) and the folded index."""

    def __init__(self, bus: NatsEventBus, pool: str) -> None:
        self.bus, self.pool = bus, pool
        self.index = PreciseIndex(pool)
        self.events: list[Event] = []
        self.registry = CollectorRegistry()
        self.metrics = KvMetrics(self.registry)

    async def start(self) -> None:
        await self.bus.ensure_streams()

        def fold(event: Event) -> None:
            self.events.append(event)
            self.index.apply(event)

        await self.bus.follow(KV, f"{pool_prefix(self.pool)}.kv.>", fold, deliver=Deliver.ALL)

    def collector(self, name: str) -> KvSupervisor:
        return KvSupervisor(
            bus=self.bus,
            pool=self.pool,
            source=name,
            port=5557,
            replay_port=5558,
            replay_timeout_s=1.0,
            metrics=self.metrics,
            key=KEY,
        )

    def count(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels or None) or 0.0

    def holds(self, address: str, prompt: str) -> bool:
        keys = prompt_keys(prompt)
        return self.index.match(keys, [address]).get(address) == len(keys)
