from __future__ import annotations

import hashlib
import random
import zlib

import orjson
import pytest

from gie.prefix import (
    PrefixIndex,
    PrefixKey,
    SnapshotError,
    block_hashes,
    decode_snapshot,
    encode_entries,
    encode_snapshot,
)

KEY = PrefixKey(b"unit test pool secret, not a real one")


def hashes(text: bytes, key: PrefixKey = KEY, **kw: object) -> list[int]:
    options: dict[str, object] = {"model": "m", "block_size": 4, "max_blocks": 10, **kw}
    return block_hashes(text, key=key, **options)  # type: ignore[arg-type]


def test_hashes_chain_over_full_blocks_keyed_with_the_pool_secret() -> None:
    text = b"aaaabbbbcc"  # two full blocks of 4, the partial "cc" is dropped
    text_key = hashlib.blake2b(
        b"unit test pool secret, not a real one", digest_size=32, person=b"gie-prefix-text"
    ).digest()

    def mac(data: bytes) -> bytes:
        return hashlib.blake2b(data, key=text_key, digest_size=8).digest()

    seed = mac(b"m\0")
    first = mac(b"aaaa" + seed)
    second = mac(b"bbbb" + first)
    assert hashes(text) == [int.from_bytes(h, "little") for h in (first, second)]


def test_another_secret_gives_unrelated_hashes() -> None:
    other = PrefixKey(b"another pool's secret, as long")
    assert not set(hashes(b"aaaabbbb")) & set(hashes(b"aaaabbbb", key=other))
    assert PrefixKey.public_default().key_id != KEY.key_id


def test_a_block_hash_stands_for_its_whole_prefix() -> None:
    assert hashes(b"xxxxSAME")[1] != hashes(b"yyyySAME")[1]  # same block, other prefix


def test_model_and_salt_isolate_requests() -> None:
    base = hashes(b"abcdefgh")
    assert hashes(b"abcdefgh", model="other") != base
    assert hashes(b"abcdefgh", cache_salt="s") != base
    # the model/salt boundary is unambiguous
    assert hashes(b"abcdefgh", model="ms") != hashes(b"abcdefgh", cache_salt="s")


def test_max_blocks_and_short_prompts() -> None:
    assert len(hashes(b"a" * 100, max_blocks=3)) == 3
    assert hashes(b"abc", max_blocks=3) == []


def test_match_counts_consecutive_leading_blocks_per_endpoint() -> None:
    index = PrefixIndex()
    index.add([1, 2, 3], "a:1", capacity=10)
    index.add([1, 9], "b:1", capacity=10)
    index.add([2, 3], "c:1", capacity=10)  # holds later blocks but not the first
    assert index.match([1, 2, 3, 4]) == {"a:1": 3, "b:1": 1}


def test_match_stops_each_endpoint_at_its_first_gap_whatever_it_holds_later() -> None:
    index = PrefixIndex()
    index.add([1, 2, 3, 4, 5, 6], "a:1", capacity=10)
    index.add([1, 2, 4, 5, 6], "b:1", capacity=10)  # gap at block 3
    index.add([1, 2, 3, 4, 5], "c:1", capacity=10)  # ends one block early
    index.add([1, 2, 3, 4, 5, 6], "d:1", capacity=10)
    assert index.match([1, 2, 3, 4, 5, 6, 7]) == {"a:1": 6, "b:1": 2, "c:1": 5, "d:1": 6}
    assert index.match([1, 2, 3, 4, 5, 6]) == {"a:1": 6, "b:1": 2, "c:1": 5, "d:1": 6}
    assert index.match([]) == {}


def test_match_agrees_with_a_block_by_block_count_on_random_indexes() -> None:
    rng = random.Random(7)
    for _ in range(200):
        index = PrefixIndex()
        endpoints = [f"e{n}:1" for n in range(rng.randint(1, 5))]
        for endpoint in endpoints:
            held = [block for block in range(12) if rng.random() < 0.8]
            index.add(held, endpoint, capacity=rng.randint(3, 12))
        prompt = list(range(rng.randint(0, 12)))
        expected = {}
        for endpoint in endpoints:
            held = set(index.entries(endpoint))
            length = next((n for n, block in enumerate(prompt) if block not in held), len(prompt))
            if length:
                expected[endpoint] = length
        assert index.match(prompt) == expected


def test_lru_capacity_evicts_least_recently_used_first() -> None:
    index = PrefixIndex()
    index.add([1, 2, 3], "a:1", capacity=3)
    index.add([1], "a:1", capacity=3)  # refresh 1: now 2 is the oldest
    index.add([4], "a:1", capacity=3)
    assert index.entries("a:1") == [3, 1, 4]
    assert index.match([2]) == {}
    assert index.size == 3


def test_same_adds_in_same_order_give_the_same_digest() -> None:
    def build() -> PrefixIndex:
        index = PrefixIndex()
        index.add([1, 2], "a:1", capacity=5)
        index.add([3], "b:1", capacity=5)
        index.add([2, 9], "a:1", capacity=5)
        return index

    assert build().digest() == build().digest()
    other = build()
    other.add([1], "a:1", capacity=5)  # only the LRU order changes
    assert other.digest() != build().digest()


def test_removing_an_endpoint_forgets_its_blocks() -> None:
    index = PrefixIndex()
    index.add([1, 2], "a:1", capacity=5)
    index.add([1], "b:1", capacity=5)
    index.remove_endpoint("a:1")
    assert index.match([1, 2]) == {"b:1": 1}
    assert index.endpoints() == ["b:1"]


def test_snapshot_round_trips_the_index_and_its_stream_position() -> None:
    index = PrefixIndex()
    index.add([1, 2, 3], "a:1", capacity=10)
    index.add([7], "b:1", capacity=5)
    snapshot = decode_snapshot(encode_snapshot(index, pool="ns/p", stream_seq=42), pool="ns/p")
    assert snapshot.stream_seq == 42
    assert snapshot.index.digest() == index.digest()


def test_snapshot_is_bounded_keeping_the_most_recent_blocks() -> None:
    index = PrefixIndex()
    index.add(list(range(100)), "a:1", capacity=1000)
    snapshot = decode_snapshot(
        encode_snapshot(index, pool="ns/p", stream_seq=1, max_blocks=10), pool="ns/p"
    )
    assert snapshot.index.entries("a:1") == list(range(90, 100))


def test_unusable_snapshots_are_refused_with_a_reason() -> None:
    with pytest.raises(SnapshotError, match="corrupt"):
        decode_snapshot(b"garbage", pool="ns/p")
    other = encode_snapshot(PrefixIndex(), pool="ns/other", stream_seq=1)
    with pytest.raises(SnapshotError, match="for pool 'ns/other'"):
        decode_snapshot(other, pool="ns/p")


def test_snapshot_bytes_are_the_compressed_json_document() -> None:
    index = PrefixIndex()
    index.add([2**64 - 1, 5, 2**63], "b:1", capacity=10)
    index.add([1, 2], "a:1", capacity=3)
    document = {
        "version": 1,
        "pool": "ns/p",
        "stream_seq": 9,
        "endpoints": [
            {"address": "a:1", "capacity": 3, "hashes": [1, 2]},
            {"address": "b:1", "capacity": 10, "hashes": [2**64 - 1, 5, 2**63]},
        ],
    }
    expected = zlib.compress(orjson.dumps(document), level=1)
    assert encode_snapshot(index, pool="ns/p", stream_seq=9) == expected
    copied = index.start_copy().finish()
    assert encode_entries(copied, pool="ns/p", stream_seq=9) == expected


def test_an_index_copy_is_of_the_instant_it_started_whatever_changes_between_steps() -> None:
    index = PrefixIndex()
    for name in ("a:1", "b:1", "c:1"):
        index.add([1, 2, 3], name, capacity=3)
    before = index.digest()
    copy = index.start_copy()
    assert not copy.step()  # a:1 copied
    index.add([9], "a:1", capacity=3)  # already copied
    index.add([4], "b:1", capacity=4)  # not yet: copied before it changes (LRU and all)
    index.remove_endpoint("c:1")
    index.add([5], "c:1", capacity=1)  # gone and back: a new endpoint to the index
    index.add([6], "d:1", capacity=2)  # new since the copy started: not in it
    assert not copy.step()
    assert copy.step()
    restored = PrefixIndex()
    for endpoint in copy.endpoints():
        restored.add(endpoint.hashes, endpoint.address, capacity=endpoint.capacity)
    assert restored.digest() == before
    assert [e.address for e in copy.endpoints()] == ["a:1", "b:1", "c:1"]


def test_an_unfinished_copy_cannot_be_read() -> None:
    index = PrefixIndex()
    index.add([1], "a:1", capacity=1)
    copy = index.start_copy()
    with pytest.raises(RuntimeError, match="not complete"):
        copy.endpoints()
    assert copy.finish()[0].hashes == [1]


def test_an_endpoint_changed_halfway_through_its_copy_is_copied_as_it_was() -> None:
    index = PrefixIndex()
    index.add([1, 2, 3, 4, 5], "a:1", capacity=5)
    index.add([6, 7], "b:1", capacity=5)
    before = index.digest()
    copy = index.start_copy(step_hashes=2)
    assert not copy.step()  # a:1 [1, 2] so far
    index.add([8, 1], "a:1", capacity=5)  # reorders and evicts
    while not copy.step():
        index.add([9], "b:1", capacity=2)
    restored = PrefixIndex()
    for endpoint in copy.endpoints():
        restored.add(endpoint.hashes, endpoint.address, capacity=endpoint.capacity)
    assert restored.digest() == before
    assert copy.endpoints()[0].hashes == [1, 2, 3, 4, 5]


def test_a_snapshot_expanding_past_the_limit_is_refused_naming_it() -> None:
    bomb = zlib.compress(b'{"version":' + b" " * 5_000_000 + b"1}")  # ~5 KB compressed
    with pytest.raises(SnapshotError, match="expands beyond 1000000 bytes"):
        decode_snapshot(bomb, pool="p", max_json_bytes=1_000_000)


def test_a_truncated_snapshot_is_corrupt() -> None:
    with pytest.raises(SnapshotError, match="truncated"):
        decode_snapshot(zlib.compress(b'{"version": 1}')[:-4], pool="p")
