"""vLLM's KV-cache events: the wire format model servers publish over ZMQ.

A model server announces every change of its prefix cache as a *batch* of events
(``BlockStored``, ``BlockRemoved``, ``AllBlocksCleared``) sent on a ZMQ PUB socket as
three frames ``[topic, seq, payload]``; a ROUTER socket replays recent batches. The
payload is msgpack, with events either as tagged arrays (vLLM up to 0.23) or tagged maps
(later versions).

* :mod:`gie.kvevents.wire` decodes payloads (both encodings, int or bytes hashes,
  unknown fields and extra items ignored, events about cache tiers other than the GPU
  skipped and counted) into plain dataclasses, and frames sequence
  numbers; :class:`KvWireError` names what was wrong with a payload.
* :mod:`gie.kvevents.encode` writes payloads the way vLLM does (used by the simulator).

Pure functions and frozen values; no I/O, safe from any thread.
"""

from __future__ import annotations

from gie.kvevents.encode import encode_batch
from gie.kvevents.wire import (
    END_OF_REPLAY,
    AllBlocksCleared,
    BlockRemoved,
    BlockStored,
    EngineBatch,
    EngineEvent,
    KvWireError,
    decode_batch,
    decode_seq,
    encode_seq,
    engine_hash_id,
)

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
    "encode_batch",
    "encode_seq",
    "engine_hash_id",
]
