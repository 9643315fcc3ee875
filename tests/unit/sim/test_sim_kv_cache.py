"""Prefix cache: chained block hashes, ref-counted pinning, LRU eviction."""

from __future__ import annotations

import pytest

from gie_sim.kv_cache import PrefixCache, blocks_for_tokens, hash_blocks

BS = 4
BASE = list(range(100, 116))  # 16 tokens = 4 full blocks


def _with(tokens: list[int], index: int, value: int) -> list[int]:
    changed = list(tokens)
    changed[index] = value
    return changed


@pytest.mark.parametrize(
    ("tokens", "expected_hits"),
    [
        pytest.param(BASE, 4, id="identical prompt hits every block"),
        pytest.param(BASE[:13], 3, id="shorter prompt hits its full blocks"),
        pytest.param([*BASE, 1, 2, 3, 4], 4, id="longer prompt hits the shared prefix"),
        pytest.param(_with(BASE, 14, 0), 3, id="change in last block keeps 3"),
        pytest.param(_with(BASE, 5, 0), 1, id="change in block 2 breaks all later blocks"),
        pytest.param(_with(BASE, 0, 0), 0, id="change in first block breaks everything"),
        pytest.param(BASE[4:], 0, id="same blocks at another position do not match"),
    ],
)
def test_prefix_match_follows_chained_hashes(tokens: list[int], expected_hits: int) -> None:
    cache = PrefixCache(num_blocks=16, block_size=BS)
    blocks = cache.allocate(4)
    for block_id, block_hash in zip(blocks, hash_blocks(BASE, BS), strict=True):
        cache.register(block_id, block_hash)
    cache.release(blocks)

    assert len(cache.match(hash_blocks(tokens, BS))) == expected_hits


def test_partial_trailing_block_has_no_hash() -> None:
    assert len(hash_blocks(list(range(15)), BS)) == 3
    assert blocks_for_tokens(15, BS) == 4
    assert blocks_for_tokens(16, BS) == 4
    assert blocks_for_tokens(0, BS) == 0


def _cache_prompt(cache: PrefixCache, tokens: list[int], *, release: bool) -> list[int]:
    hashes = hash_blocks(tokens, BS)
    blocks = cache.allocate(len(hashes))
    for block_id, block_hash in zip(blocks, hashes, strict=True):
        cache.register(block_id, block_hash)
    if release:
        cache.release(blocks)
    return blocks


def test_lru_eviction_is_bounded_by_num_blocks_and_evicts_oldest_first() -> None:
    cache = PrefixCache(num_blocks=4, block_size=BS)
    old = list(range(0, 8))
    new = list(range(50, 58))
    _cache_prompt(cache, old, release=True)
    _cache_prompt(cache, new, release=True)
    assert cache.num_cached == 4
    assert cache.usage == 0.0

    cache.allocate(2)  # needs space: the least recently freed blocks go first

    assert cache.num_cached == 2
    assert cache.match(hash_blocks(old, BS)) == []
    assert len(cache.match(hash_blocks(new, BS))) == 2


def test_eviction_takes_the_tail_of_a_sequence_first() -> None:
    cache = PrefixCache(num_blocks=4, block_size=BS)
    prompt = list(range(16))
    _cache_prompt(cache, prompt, release=True)

    cache.allocate(1)

    # The longest shared prefix survives: only the last block was evicted.
    assert len(cache.match(hash_blocks(prompt, BS))) == 3


def test_pinned_blocks_are_never_evicted() -> None:
    cache = PrefixCache(num_blocks=4, block_size=BS)
    pinned = list(range(8))
    _cache_prompt(cache, pinned, release=False)
    _cache_prompt(cache, list(range(50, 58)), release=True)

    cache.allocate(2)
    with pytest.raises(RuntimeError, match="exhausted"):
        cache.allocate(1)

    assert len(cache.match(hash_blocks(pinned, BS))) == 2
    assert cache.usage == 1.0


def test_shared_blocks_are_ref_counted() -> None:
    cache = PrefixCache(num_blocks=8, block_size=BS)
    blocks = _cache_prompt(cache, list(range(8)), release=False)
    cache.acquire(blocks)  # a second request reuses the prefix
    assert cache.num_in_use == 2
    assert cache.usage == 2 / 8

    cache.release(blocks)
    assert cache.num_in_use == 2  # still pinned by the second request
    cache.release(blocks)
    assert cache.num_in_use == 0
    assert cache.num_free == 8
    assert cache.num_cached == 2  # freed but still reusable


def test_duplicate_hash_keeps_the_first_block() -> None:
    cache = PrefixCache(num_blocks=4, block_size=BS)
    tokens = list(range(4))
    first = _cache_prompt(cache, tokens, release=False)
    second = cache.allocate(1)
    cache.register(second[0], hash_blocks(tokens, BS)[0])

    assert cache.match(hash_blocks(tokens, BS)) == first
    cache.release(second)
    assert cache.num_cached == 1
