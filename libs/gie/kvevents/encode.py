"""Writing KV-event payloads as vLLM does, in either encoding (for the simulator).

The struct definitions follow vLLM's ``kv_events`` module: ``array`` writes tagged
arrays with every field (vLLM up to 0.23), ``map`` tagged maps whose nil fields are left
out (later versions).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import msgspec

from gie.kvevents.wire import AllBlocksCleared, BlockRemoved, BlockStored, EngineEvent

__all__ = ["Encoding", "encode_batch"]

Encoding = Literal["array", "map"]
_Hash = int | bytes


class _Batch(msgspec.Struct, array_like=True, omit_defaults=True, gc=False):
    ts: float
    events: list[object]
    data_parallel_rank: int | None = None


def _structs(array_like: bool) -> tuple[type[msgspec.Struct], ...]:
    class Stored(
        msgspec.Struct, tag="BlockStored", array_like=array_like, omit_defaults=True, gc=False
    ):
        block_hashes: list[_Hash]
        parent_block_hash: _Hash | None
        token_ids: list[int]
        block_size: int
        lora_id: int | None = None
        medium: str | None = None
        lora_name: str | None = None

    class Removed(
        msgspec.Struct, tag="BlockRemoved", array_like=array_like, omit_defaults=True, gc=False
    ):
        block_hashes: list[_Hash]
        medium: str | None = None

    class Cleared(
        msgspec.Struct, tag="AllBlocksCleared", array_like=array_like, omit_defaults=True
    ):
        pass

    return Stored, Removed, Cleared


_ARRAY = _structs(True)
_MAP = _structs(False)
_encoder = msgspec.msgpack.Encoder()


def _convert(event: EngineEvent, structs: tuple[type[msgspec.Struct], ...]) -> msgspec.Struct:
    stored, removed, cleared = structs
    if isinstance(event, BlockStored):
        return stored(
            list(event.block_hashes),
            event.parent_block_hash,
            list(event.token_ids),
            event.block_size,
            None,
            "GPU",
            event.lora_name,
        )
    if isinstance(event, BlockRemoved):
        return removed(list(event.block_hashes), "GPU")
    assert isinstance(event, AllBlocksCleared)
    return cleared()


def encode_batch(
    events: Sequence[EngineEvent],
    *,
    ts: float,
    encoding: Encoding = "map",
    data_parallel_rank: int | None = None,
) -> bytes:
    """The msgpack payload of one batch."""
    structs = _ARRAY if encoding == "array" else _MAP
    batch = _Batch(ts, [_convert(e, structs) for e in events], data_parallel_rank)
    return _encoder.encode(batch)
