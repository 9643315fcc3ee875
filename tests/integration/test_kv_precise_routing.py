"""The precise scorer follows what servers truly cache, where the approximate index is wrong.

Two simulated servers with small KV caches publish their KV events; a collector's
followers republish them on NATS; the picker's prefix cache folds them (precise index)
next to its own routing decisions (approximate index). The approximate index believes the
prompt is on the server gie routed it to; that server has since evicted it, and the other
server got it from a client going around gie.
"""

from __future__ import annotations

import random
import uuid

import pytest

from gie.bus import KV, Deliver, NatsEventBus
from gie.events import Endpoint, RequestRouted
from gie.events.hashes import pack_hashes
from gie.events.subjects import pool_prefix
from gie.tokenize import PromptInput
from gie.view import EndpointState, InFlightView, PoolView
from gie_picker.prefixcache.state import PrefixCacheState
from gie_picker.scheduling.contracts import PluginContext, SchedulingRequest
from gie_picker.scheduling.scorers import (
    PrecisePrefixCacheParameters,
    PrecisePrefixCacheScorer,
    PrefixCacheParameters,
    PrefixCacheScorer,
)
from gie_sim import SimConfig, SimServer
from tests.integration.kv_rig import KEY, KvRig, complete, endpoint_of, prompt_keys, wait_until

pytestmark = pytest.mark.integration

SMALL_CACHE = SimConfig(
    time_scale=0.0, kv_events_port=0, kv_events_replay_port=0, num_gpu_blocks=48
)


def text(tag: str) -> str:
    return (tag + " ") * (400 // (len(tag) + 1))


async def test_precise_scorer_prefers_the_server_that_truly_holds_the_prefix(
    nats_url: str,
) -> None:
    pool = f"it/kv-precise-{uuid.uuid4().hex[:8]}"
    hot = text("system prompt of the hot conversation")
    async with (
        NatsEventBus(nats_url, name="it-kv-precise") as bus,
        SimServer(SMALL_CACHE) as routed_to,
        SimServer(SMALL_CACHE) as bypassed,
    ):
        rig = KvRig(bus, pool)
        await rig.start()
        cache = PrefixCacheState(PoolView(pool))
        await bus.follow(KV, f"{pool_prefix(pool)}.kv.>", cache.apply_kv, deliver=Deliver.ALL)
        collector = rig.collector("c-0")
        collector.sync({s.address: endpoint_of(s) for s in (routed_to, bypassed)})
        context = PluginContext(
            inflight=InFlightView(pool),
            rng=random.Random(0),
            prefix_cache=cache,
            precise_prefix=cache,
            prefix_key=KEY,
        )
        # gie's own decision to send the prompt to the first server is milliseconds old
        # here, where it would be long past in a real deployment: the window in which
        # the scorer counts its own decisions (by default 2 s) is off.
        precise = PrecisePrefixCacheScorer.create(
            "precise",
            PrecisePrefixCacheParameters.model_validate({"recentDecisionsWindowSeconds": 0}),
            context,
        )
        approximate = PrefixCacheScorer.create("approx", PrefixCacheParameters(), context)
        candidates = [EndpointState(Endpoint(address=s.address)) for s in (routed_to, bypassed)]

        def request(request_id: str) -> SchedulingRequest:
            return SchedulingRequest(
                request_id=request_id,
                model="sim-llama",
                prompt=hot,
                prompt_input=PromptInput(text=hot),
            )

        try:
            # gie routes the hot prompt to the first server and remembers it.
            approximate.score(request("r-1"), candidates)
            decision = cache.routed("r-1", routed_to.address)
            assert decision is not None
            cache.apply(
                RequestRouted(
                    source="picker-0",
                    pool=pool,
                    request_id="r-1",
                    model="sim-llama",
                    target=routed_to.address,
                    picker="picker-0",
                    block_hashes=pack_hashes(decision.hashes),
                    prefix_capacity=decision.capacity,
                )
            )
            await complete(routed_to.url, hot)
            await wait_until(lambda: rig.holds(routed_to.address, hot), "hot prompt cached")
            # Other traffic evicts it there; a client going around gie sends it elsewhere.
            for index in range(12):
                await complete(routed_to.url, text(f"other conversation {index}"))
            await complete(bypassed.url, hot)
            await wait_until(
                lambda: (
                    rig.holds(bypassed.address, hot)
                    and not rig.index.match(prompt_keys(hot), [routed_to.address]).get(
                        routed_to.address
                    )
                ),
                "evicted on the first server, cached on the second",
            )
            await wait_until(
                lambda: (
                    cache.precise_known(bypassed.address)
                    and cache.precise.get(bypassed.address) is not None
                    and cache.precise.get(bypassed.address).seq  # type: ignore[union-attr]
                    == rig.index.get(bypassed.address).seq
                ),  # type: ignore[union-attr]
                "the picker's index caught up",
            )

            approx_scores = approximate.score(request("r-2"), candidates)
            precise_scores = precise.score(request("r-2"), candidates)
            assert approx_scores.get(routed_to.address, 0) == 1.0
            assert approx_scores.get(bypassed.address, 0) == 0.0
            assert precise_scores[bypassed.address] == 1.0
            assert precise_scores[routed_to.address] == 0.0
        finally:
            await collector.close()
