"""The simulator's cache announces its changes as vLLM's block pool does."""

from __future__ import annotations

from gie.kvevents import AllBlocksCleared, BlockRemoved, BlockStored, EngineEvent
from gie_sim.kv_cache import PrefixCache, hash_blocks
from gie_sim.kv_event_log import hash_value


def cache_with_log(num_blocks: int = 4) -> tuple[PrefixCache, list[list[EngineEvent]]]:
    cache = PrefixCache(num_blocks, block_size=2)
    batches: list[list[EngineEvent]] = []
    cache.events.sink = batches.append
    return cache, batches


def admit(cache: PrefixCache, tokens: list[int]) -> list[int]:
    hashes = hash_blocks(tokens, 2)
    hits = cache.match(hashes)
    cache.acquire(hits)
    blocks = hits + cache.allocate(len(hashes) - len(hits))
    cache.register_prompt(blocks, hashes, tokens, len(hits))
    return blocks


def test_new_full_blocks_are_one_stored_event_with_their_parent() -> None:
    cache, batches = cache_with_log()
    first = admit(cache, [1, 2, 3, 4])
    cache.events.flush()
    cache.release(first)
    admit(cache, [1, 2, 3, 4, 5, 6])  # two cached blocks hit, one new
    cache.events.flush()
    hashes = hash_blocks([1, 2, 3, 4, 5, 6], 2)
    assert batches == [
        [BlockStored((hash_value(hashes[0]), hash_value(hashes[1])), None, (1, 2, 3, 4), 2)],
        [BlockStored((hash_value(hashes[2]),), hash_value(hashes[1]), (5, 6), 2)],
    ]


def test_evictions_and_resets_are_announced() -> None:
    cache, batches = cache_with_log(num_blocks=2)
    cache.release(admit(cache, [1, 2, 3, 4]))
    cache.events.flush()
    cache.allocate(1)  # evicts the least recently freed block: the tail, [3, 4]
    cache.clear()
    cache.events.flush()
    tail = hash_value(hash_blocks([1, 2, 3, 4], 2)[1])
    assert batches[1] == [BlockRemoved((tail,)), AllBlocksCleared()]
