"""Decoding vLLM KV-event payloads.

A payload is a msgpack array ``[ts, events, data_parallel_rank]``. Each event is tagged
with its class name, either as the first item of an array (``["BlockStored",
block_hashes, parent_block_hash, token_ids, block_size, ...]``) or as the ``type`` member
of a map. Both are read; members or items this decoder does not know are ignored, so
newer servers that add fields keep working. Block hashes are ints (uint64 or signed
int64) or bytes; :func:`engine_hash_id` turns any of them into one 64-bit id.

Only the GPU tier's events are returned: a ``BlockStored`` or ``BlockRemoved`` whose
``medium`` is another tier (vLLM's offloading connector announces its CPU copies with
``medium="CPU"``, empty ``token_ids`` and no parent) says nothing about the blocks the
GPU holds, so it is skipped, before any of its other fields are checked, and counted in
:attr:`EngineBatch.other_medium_events`. An absent or nil ``medium`` is the GPU's.
"""

from __future__ import annotations

import array
import math
from dataclasses import dataclass
from enum import Enum

import msgspec
import xxhash

__all__ = [
    "END_OF_REPLAY",
    "AllBlocksCleared",
    "BlockRemoved",
    "BlockStored",
    "EngineBatch",
    "EngineEvent",
    "KvWireError",
    "decode_batch",
    "decode_seq",
    "encode_seq",
    "engine_hash_id",
]

END_OF_REPLAY = 0xFFFF_FFFF_FFFF_FFFF
"""The sequence number of the replay socket's end marker (eight 0xFF bytes)."""

_MASK64 = (1 << 64) - 1
_MEDIUM_GPU = "GPU"  # the engine's own KV cache, the only tier gie routes on
_decoder = msgspec.msgpack.Decoder()

EngineHash = int | bytes


class KvWireError(ValueError):
    """A payload or frame that is not a vLLM KV-event batch; the message names the part."""


@dataclass(frozen=True, slots=True)
class BlockStored:
    """Newly full blocks: ``token_ids`` holds ``len(block_hashes) * block_size`` tokens."""

    block_hashes: tuple[EngineHash, ...]
    parent_block_hash: EngineHash | None
    token_ids: tuple[int, ...]
    block_size: int
    lora_name: str | None = None
    group_idx: int | None = None  # the KV-cache group (hybrid models); nil: the only one


@dataclass(frozen=True, slots=True)
class BlockRemoved:
    """Blocks evicted from the cache."""

    block_hashes: tuple[EngineHash, ...]
    group_idx: int | None = None


@dataclass(frozen=True, slots=True)
class AllBlocksCleared:
    """The server reset its whole prefix cache."""


EngineEvent = BlockStored | BlockRemoved | AllBlocksCleared


@dataclass(frozen=True, slots=True)
class EngineBatch:
    """One published batch: the events of one engine step, in order."""

    ts: float
    events: tuple[EngineEvent, ...]
    data_parallel_rank: int | None = None
    unknown_events: int = 0  # events of a type this decoder does not know (skipped)
    other_medium_events: int = 0  # events about a tier other than the GPU (skipped)


def engine_hash_id(value: EngineHash) -> int:
    """One 64-bit id for an engine block hash: ints modulo 2**64 (so a signed int64
    and the uint64 with the same bits agree), bytes by xxhash64."""
    if isinstance(value, bytes):
        return xxhash.xxh64_intdigest(value)
    return value & _MASK64


def encode_seq(seq: int) -> bytes:
    """The 8-byte big-endian sequence frame."""
    return seq.to_bytes(8, "big")


def decode_seq(frame: bytes) -> int:
    """Read a sequence frame; :class:`KvWireError` unless it is 8 bytes."""
    if len(frame) != 8:
        raise KvWireError(f"seq frame must be 8 bytes, got {len(frame)}")
    return int.from_bytes(frame, "big")


def decode_batch(payload: bytes) -> EngineBatch:
    """Decode one payload; :class:`KvWireError` names the first malformed part."""
    try:
        raw = _decoder.decode(payload)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:  # msgspec < 0.19: a bad str is
        raise KvWireError(f"payload is not msgpack: {exc}") from exc  # a UnicodeDecodeError
    except RecursionError as exc:  # a batch nests 4 levels; this is hostile or broken
        raise KvWireError("payload nests deeper than the decoder's recursion limit") from exc
    if not isinstance(raw, list) or len(raw) < 2:
        raise KvWireError("batch must be an array [ts, events, data_parallel_rank]")
    ts, items = raw[0], raw[1]
    # Not NaN or infinite: the collector orders a server's runs by it (a restart, or
    # a duplicate batch), which a non-finite time would break.
    if isinstance(ts, bool) or not isinstance(ts, int | float) or not math.isfinite(ts):
        raise KvWireError("batch.ts must be a finite number")
    if not isinstance(items, list):
        raise KvWireError("batch.events must be an array")
    rank = raw[2] if len(raw) > 2 else None
    if rank is not None and (isinstance(rank, bool) or not isinstance(rank, int)):
        raise KvWireError("batch.data_parallel_rank must be an integer or nil")
    events: list[EngineEvent] = []
    unknown = other_medium = 0
    for index, item in enumerate(items):
        event = _event(item, f"events[{index}]")
        if event is _Skip.UNKNOWN_TYPE:
            unknown += 1
        elif event is _Skip.OTHER_MEDIUM:
            other_medium += 1
        else:
            events.append(event)
    return EngineBatch(float(ts), tuple(events), rank, unknown, other_medium)


# The fields of a tagged array, in vLLM's declaration order (items past these are ignored).
_FIELDS = {
    "BlockStored": (
        "block_hashes",
        "parent_block_hash",
        "token_ids",
        "block_size",
        "lora_id",
        "medium",
        "lora_name",
        "extra_keys",
        "group_idx",
    ),
    "BlockRemoved": ("block_hashes", "medium", "group_idx"),
    "AllBlocksCleared": (),
}


class _Skip(Enum):
    """Why an event is left out of its batch."""

    UNKNOWN_TYPE = "unknown_type"  # a type this decoder does not know
    OTHER_MEDIUM = "other_medium"  # about a tier other than the GPU


def _event(item: object, where: str) -> EngineEvent | _Skip:
    if isinstance(item, list):
        if not item or not isinstance(item[0], str):
            raise KvWireError(f"{where}: a tagged array must start with the type name")
        tag = item[0]
        names = _FIELDS.get(tag)
        if names is None:
            return _Skip.UNKNOWN_TYPE
        fields = dict(zip(names, item[1:], strict=False))  # extra trailing items ignored
    elif isinstance(item, dict):
        map_tag = item.get("type")
        if not isinstance(map_tag, str):
            raise KvWireError(f"{where}: a tagged map needs a string 'type'")
        if map_tag not in _FIELDS:
            return _Skip.UNKNOWN_TYPE
        tag = map_tag
        fields = item
    else:
        raise KvWireError(f"{where}: an event must be a tagged array or map")
    if tag == "AllBlocksCleared":
        return AllBlocksCleared()
    if not _on_gpu(fields.get("medium"), f"{where}.medium"):
        return _Skip.OTHER_MEDIUM
    hashes = _hashes(fields.get("block_hashes"), f"{where}.block_hashes")
    group = _group(fields.get("group_idx"), f"{where}.group_idx")
    if tag == "BlockRemoved":
        return BlockRemoved(hashes, group)
    parent = fields.get("parent_block_hash")
    if parent is not None:
        parent = _hash(parent, f"{where}.parent_block_hash")
    block_size = fields.get("block_size")
    if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 1:
        raise KvWireError(f"{where}.block_size must be a positive integer")
    tokens = _tokens(fields.get("token_ids"), f"{where}.token_ids")
    if len(tokens) != len(hashes) * block_size:
        raise KvWireError(
            f"{where}.token_ids holds {len(tokens)} tokens, expected "
            f"{len(hashes)} blocks x {block_size}"
        )
    lora = fields.get("lora_name")
    lora_name = lora if isinstance(lora, str) else None
    return BlockStored(hashes, parent, tokens, block_size, lora_name, group)


def _on_gpu(medium: object, where: str) -> bool:
    """Whether an event's ``medium`` is the GPU's (nil: vLLM before tiers, or SGLang)."""
    if medium is None:
        return True
    if not isinstance(medium, str):
        raise KvWireError(f"{where} must be a string or nil")
    return medium.upper() == _MEDIUM_GPU


def _group(value: object, where: str) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    raise KvWireError(f"{where} must be a non-negative integer or nil")


def _hash(value: object, where: str) -> EngineHash:
    if isinstance(value, bytes) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise KvWireError(f"{where}: a block hash must be an integer or bytes")


def _hashes(value: object, where: str) -> tuple[EngineHash, ...]:
    if not isinstance(value, list):
        raise KvWireError(f"{where} must be an array")
    return tuple(_hash(item, f"{where}[{i}]") for i, item in enumerate(value))


def _tokens(value: object, where: str) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise KvWireError(f"{where} must be an array")
    try:
        array.array("Q", value)  # checks, in C, that each is an integer in [0, 2**64)
    except (TypeError, OverflowError) as exc:
        raise KvWireError(f"{where} must hold non-negative 64-bit integers") from exc
    return tuple(value)
