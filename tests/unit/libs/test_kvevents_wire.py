"""Decoding vLLM KV-event payloads: golden bytes of both encodings, tolerance, errors.

The golden payloads were produced with msgspec from the struct definitions below, which
follow vLLM's ``kv_events`` module (tag field ``type`` = class name, fields in vLLM's
order); each test re-encodes them to prove the bytes are what such a server sends.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec
import pytest

from gie.kvevents import (
    AllBlocksCleared,
    BlockRemoved,
    BlockStored,
    KvWireError,
    decode_batch,
    encode_batch,
    engine_hash_id,
)


class EventBatch(msgspec.Struct, array_like=True, omit_defaults=True, gc=False):
    ts: float
    events: list[Any]
    data_parallel_rank: int | None = None


class KVCacheEvent(msgspec.Struct, array_like=True, omit_defaults=True, gc=False, tag=True):
    pass


class ArrayBlockStored(KVCacheEvent, tag="BlockStored"):
    block_hashes: list[int | bytes]
    parent_block_hash: int | bytes | None
    token_ids: list[int]
    block_size: int
    lora_id: int | None
    medium: str | None
    lora_name: str | None = None


class ArrayBlockRemoved(KVCacheEvent, tag="BlockRemoved"):
    block_hashes: list[int | bytes]
    medium: str | None


class ArrayAllBlocksCleared(KVCacheEvent, tag="AllBlocksCleared"):
    pass


class MapBlockStored(msgspec.Struct, omit_defaults=True, tag="BlockStored"):
    block_hashes: list[int | bytes]
    parent_block_hash: int | bytes | None
    token_ids: list[int]
    block_size: int
    lora_id: int | None = None
    medium: str | None = None
    lora_name: str | None = None


class MapBlockRemoved(msgspec.Struct, omit_defaults=True, tag="BlockRemoved"):
    block_hashes: list[int | bytes]
    medium: str | None = None


class MapAllBlocksCleared(msgspec.Struct, tag="AllBlocksCleared"):
    pass


BIG = 2**63 + 5  # a uint64 hash (vLLM)
NEGATIVE = -3  # a signed int64 hash (SGLang)
SHA = b"\x01" * 32  # a bytes hash

GOLDEN_ARRAY = bytes.fromhex(
    "93cb41d954fc402000009398ab426c6f636b53746f72656492cf8000000000000005fd2a94010203"
    "0402c0a3475055c093ac426c6f636b52656d6f76656491cf8000000000000005a347505591b0416c"
    "6c426c6f636b73436c656172656400"
)
GOLDEN_MAP = bytes.fromhex(
    "93cb41d954fc402000009386a474797065ab426c6f636b53746f726564ac626c6f636b5f68617368"
    "657391c4200101010101010101010101010101010101010101010101010101010101010101b17061"
    "72656e745f626c6f636b5f68617368c0a9746f6b656e5f696473920908aa626c6f636b5f73697a65"
    "02a66d656469756da347505582a474797065ac426c6f636b52656d6f766564ac626c6f636b5f6861"
    "7368657391c42001010101010101010101010101010101010101010101010101010101010101018"
    "1a474797065b0416c6c426c6f636b73436c6561726564c0"
)


def test_golden_array_encoding_is_what_vllm_structs_write_and_decodes() -> None:
    batch = EventBatch(
        1700000000.5,
        [
            ArrayBlockStored([BIG, NEGATIVE], 42, [1, 2, 3, 4], 2, None, "GPU"),
            ArrayBlockRemoved([BIG], "GPU"),
            ArrayAllBlocksCleared(),
        ],
        0,
    )
    assert msgspec.msgpack.encode(batch) == GOLDEN_ARRAY
    decoded = decode_batch(GOLDEN_ARRAY)
    assert decoded.ts == 1700000000.5
    assert decoded.data_parallel_rank == 0
    assert decoded.events == (
        BlockStored((BIG, NEGATIVE), 42, (1, 2, 3, 4), 2),
        BlockRemoved((BIG,)),
        AllBlocksCleared(),
    )


def test_golden_map_encoding_is_what_vllm_structs_write_and_decodes() -> None:
    batch = EventBatch(
        1700000000.5,
        [
            MapBlockStored([SHA], None, [9, 8], 2, medium="GPU"),
            MapBlockRemoved([SHA]),
            MapAllBlocksCleared(),
        ],
    )
    assert msgspec.msgpack.encode(batch) == GOLDEN_MAP
    decoded = decode_batch(GOLDEN_MAP)
    assert decoded.data_parallel_rank is None
    assert decoded.events == (
        BlockStored((SHA,), None, (9, 8), 2),
        BlockRemoved((SHA,)),
        AllBlocksCleared(),
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(BIG, BIG, id="uint64"),
        pytest.param(NEGATIVE, 2**64 - 3, id="int64-same-bits-as-uint64"),
        pytest.param(7, 7, id="small-int"),
    ],
)
def test_engine_hash_ids_agree_for_signed_and_unsigned(value: int, expected: int) -> None:
    assert engine_hash_id(value) == expected


def test_bytes_hashes_get_distinct_64_bit_ids() -> None:
    assert engine_hash_id(SHA) != engine_hash_id(b"\x02" * 32)
    assert 0 <= engine_hash_id(SHA) < 2**64


def test_unknown_map_fields_extra_array_items_and_unknown_types_are_ignored() -> None:
    payload = msgspec.msgpack.encode(
        [
            1.0,
            [
                {
                    "type": "BlockStored",
                    "block_hashes": [1],
                    "parent_block_hash": None,
                    "token_ids": [5, 6],
                    "block_size": 2,
                    "group_idx": 3,
                    "new_field": [1, 2],
                },
                ["BlockRemoved", [1], "GPU", 0, "future", "items"],
                ["BlockMoved", [1], "CPU"],
                {"type": "SomethingNew"},
            ],
            None,
            "a trailing batch item",
        ]
    )
    decoded = decode_batch(payload)
    assert decoded.events == (
        BlockStored((1,), None, (5, 6), 2, group_idx=3),
        BlockRemoved((1,), group_idx=0),
    )
    assert decoded.unknown_events == 2
    assert decoded.other_medium_events == 0


def vllm_structs(array_like: bool) -> tuple[type[msgspec.Struct], type[msgspec.Struct]]:
    """``BlockStored`` and ``BlockRemoved`` with every field of today's vLLM, in its order
    (tiers, KV-cache groups and the group's cache spec came after vLLM 0.23)."""

    class Stored(msgspec.Struct, tag="BlockStored", array_like=array_like, omit_defaults=True):
        block_hashes: list[int | bytes]
        parent_block_hash: int | bytes | None
        token_ids: list[int]
        block_size: int
        lora_id: int | None
        medium: str | None
        lora_name: str | None
        extra_keys: list[Any] | None = None
        group_idx: int | None = None
        kv_cache_spec_kind: str | None = None
        kv_cache_spec_sliding_window: int | None = None

    class Removed(msgspec.Struct, tag="BlockRemoved", array_like=array_like, omit_defaults=True):
        block_hashes: list[int | bytes]
        medium: str | None
        group_idx: int | None = None

    return Stored, Removed


@pytest.mark.parametrize("array_like", [True, False], ids=["tagged-arrays", "tagged-maps"])
def test_offloaded_tier_events_are_skipped_and_counted_not_fatal(array_like: bool) -> None:
    stored, removed = vllm_structs(array_like)
    payload = msgspec.msgpack.encode(
        EventBatch(
            3.0,
            [
                stored([BIG], None, [5, 6], 2, None, "GPU", None, [None], 1, "full_attention"),
                # vLLM's offloading connector: CPU copies, no tokens, no parent.
                stored([BIG, SHA, 7], None, [], 16, None, "CPU", None),
                removed([BIG], "CPU"),
                removed([BIG], None, 1),  # no medium: the GPU (vLLM before tiers, SGLang)
            ],
            0,
        )
    )
    decoded = decode_batch(payload)
    assert decoded.events == (
        BlockStored((BIG,), None, (5, 6), 2, group_idx=1),
        BlockRemoved((BIG,), group_idx=1),
    )
    assert decoded.other_medium_events == 2
    assert decoded.unknown_events == 0


@pytest.mark.parametrize(
    ("event", "names"),
    [
        pytest.param(["BlockRemoved", [1], 5], "events[0].medium", id="medium-not-a-string"),
        pytest.param(
            {"type": "BlockRemoved", "block_hashes": [1], "group_idx": "a"},
            "events[0].group_idx",
            id="group-not-an-integer",
        ),
        pytest.param(
            ["BlockStored", [1], None, [1], 2, None, "GPU"],
            "events[0].token_ids",
            id="gpu-tokens-still-checked",
        ),
    ],
)
def test_malformed_tier_fields_raise_naming_the_part(event: object, names: str) -> None:
    with pytest.raises(KvWireError, match=names.replace("[", r"\[").replace("]", r"\]")):
        decode_batch(msgspec.msgpack.encode([1.0, [event]]))


@pytest.mark.parametrize(
    ("payload", "names"),
    [
        pytest.param(b"\xc1garbage", "msgpack", id="not-msgpack"),
        pytest.param(msgspec.msgpack.encode({"ts": 1}), "batch", id="batch-not-array"),
        pytest.param(msgspec.msgpack.encode([math.inf, []]), "batch.ts", id="infinite-ts"),
        pytest.param(msgspec.msgpack.encode([math.nan, []]), "batch.ts", id="nan-ts"),
        pytest.param(msgspec.msgpack.encode([1.0, 5]), "batch.events", id="events-not-array"),
        pytest.param(
            msgspec.msgpack.encode([1.0, [["BlockStored", ["x"], None, [1, 2], 2]]]),
            "events[0].block_hashes[0]",
            id="hash-is-a-string",
        ),
        pytest.param(
            msgspec.msgpack.encode([1.0, [["BlockStored", [1], None, [1, 2, 3], 2]]]),
            "events[0].token_ids",
            id="tokens-do-not-fill-blocks",
        ),
        pytest.param(
            msgspec.msgpack.encode([1.0, [["BlockStored", [1], None, [1, 2], 0]]]),
            "events[0].block_size",
            id="zero-block-size",
        ),
        pytest.param(msgspec.msgpack.encode([1.0, [{"kind": "x"}]]), "events[0]", id="map-no-type"),
        pytest.param(
            msgspec.msgpack.encode([1.0, [["BlockStored", [1], None, [1, -2], 2]]]),
            "events[0].token_ids",
            id="negative-token",
        ),
    ],
)
def test_malformed_payloads_raise_naming_the_part(payload: bytes, names: str) -> None:
    with pytest.raises(KvWireError, match=names.replace("[", r"\[").replace("]", r"\]")):
        decode_batch(payload)


@pytest.mark.parametrize("encoding", ["array", "map"])
def test_simulator_encoder_round_trips(encoding: str) -> None:
    events = (BlockStored((BIG, SHA), 3, (1, 2, 3, 4), 2), BlockRemoved((SHA,)), AllBlocksCleared())
    payload = encode_batch(events, ts=2.0, encoding=encoding)  # type: ignore[arg-type]
    assert decode_batch(payload).events == events
