"""KV events from model servers (msgpack over ZMQ): any payload decodes to a batch or a
KvWireError naming what is wrong; size is bounded by the collector's socket option
(``GIE_KV_MAX_MESSAGE_BYTES``), nesting by the decoder's recursion limit."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gie.kvevents import KvWireError, decode_batch, decode_seq
from tests.unit.fuzz.conftest import FUZZ

_hashes = st.integers(min_value=-(2**63), max_value=2**64 - 1) | st.binary(max_size=8)
_fields = st.none() | st.integers(-5, 2**40) | st.text(max_size=5) | st.lists(_hashes, max_size=3)
_events = st.one_of(
    st.tuples(
        st.sampled_from(["BlockStored", "BlockRemoved", "AllBlocksCleared", "Other"]),
        st.lists(_fields, max_size=9),
    ).map(lambda t: [t[0], *t[1]]),
    st.dictionaries(
        st.sampled_from(
            [
                "type",
                "block_hashes",
                "token_ids",
                "block_size",
                "parent_block_hash",
                "medium",
                "lora_name",
                "x",
            ]
        ),
        _fields | st.sampled_from(["BlockStored", "BlockRemoved"]),
        max_size=6,
    ),
    _fields,
)
_batches = st.tuples(
    st.floats(allow_nan=True) | st.integers(-(2**63), 2**63) | st.none() | st.booleans(),
    st.lists(_events, max_size=4) | _fields,
    st.none() | st.integers(-2, 4) | st.booleans(),
).map(list)


@FUZZ
@given(batch=_batches | st.lists(_fields, max_size=3))
def test_any_msgpack_batch_decodes_or_is_a_kv_wire_error(batch: list[object]) -> None:
    try:
        decoded = decode_batch(msgspec.msgpack.encode(batch))
    except KvWireError as exc:
        assert str(exc)
    else:
        assert decoded.unknown_events + len(decoded.events) <= len(batch[1])  # type: ignore[arg-type]


@FUZZ
@given(payload=st.binary(max_size=200), seq=st.binary(max_size=10))
def test_any_bytes_decode_or_are_a_kv_wire_error(payload: bytes, seq: bytes) -> None:
    for decode, frame in ((decode_batch, payload), (decode_seq, seq)):
        try:
            decode(frame)  # type: ignore[operator]
        except KvWireError as exc:
            assert str(exc)


def test_a_deeply_nested_payload_is_a_kv_wire_error_naming_the_limit() -> None:
    with pytest.raises(KvWireError, match="recursion limit"):
        decode_batch(b"\x91" * 100_000 + b"\xc0")
