"""KvTracker: server batches in, Kv* events out; restoring from its own events."""

from __future__ import annotations

import msgspec
import pytest

from gie.events import (
    Event,
    KvBlocksRemoved,
    KvBlocksStored,
    KvCacheCleared,
    KvClearReason,
    KvStateUnknown,
    KvUnknownReason,
)
from gie.kvevents import AllBlocksCleared, BlockRemoved, BlockStored, EngineBatch, decode_batch
from gie.prefix import PreciseIndex, PrefixKey, token_block_keys
from gie_metrics_collector.kv import KvTracker
from gie_metrics_collector.kv.tracker import RESTATED_BLOCKS_PER_EVENT

TOKENS = tuple(range(100, 108))  # two blocks of 4
KEY = PrefixKey(b"tracker test secret, 32 bytes...")
KEYS = token_block_keys(TOKENS, 4, key=KEY)


def engine_id(value: int) -> int:
    """The published id of a server's block hash: keyed with the pool's secret."""
    mac = KEY.engine_mac.copy()
    mac.update(value.to_bytes(8, "little"))
    return int.from_bytes(mac.digest(), "little")


def tracker() -> KvTracker:
    return KvTracker(pool="p", address="10.0.0.1:8000", source="c", key=KEY)


def batch(*events: object) -> EngineBatch:
    return EngineBatch(1.0, tuple(events))  # type: ignore[arg-type]


def test_stored_blocks_get_keys_chained_from_their_parent() -> None:
    t = tracker()
    t.begin(KvClearReason.START)
    first = t.apply(0, batch(BlockStored((11,), None, TOKENS[:4], 4)))
    second = t.apply(1, batch(BlockStored((12,), 11, TOKENS[4:], 4)))
    assert [e.keys for e in first + second if isinstance(e, KvBlocksStored)] == [
        (KEYS[0],),
        (KEYS[1],),
    ]
    assert [e.seq for e in first + second] == [0, 1]


def test_a_block_whose_parent_is_unknown_is_dropped_and_counted() -> None:
    t = tracker()
    t.begin(KvClearReason.START)
    assert t.apply(0, batch(BlockStored((12,), 99, TOKENS[4:], 4))) == []
    assert t.counts.take() == {"unknown_parent": 1}


def test_evictions_of_a_batch_become_one_event_and_a_key_leaves_with_its_last_copy() -> None:
    t = tracker()
    t.begin(KvClearReason.START)
    t.apply(0, batch(BlockStored((11, 12), None, TOKENS, 4)))
    t.apply(1, batch(BlockStored((21,), None, TOKENS[:4], 4)))  # a second copy of block 0
    out = t.apply(2, batch(BlockRemoved((11,)), BlockRemoved((12,)), BlockRemoved((77,))))
    assert len(out) == 1 and isinstance(out[0], KvBlocksRemoved)
    assert out[0].keys == (KEYS[1],)  # block 0 survives in hash 21
    assert out[0].engines == (engine_id(11), engine_id(12))
    assert t.counts.take() == {"unmapped_removal": 1}


def test_all_blocks_cleared_empties_the_map() -> None:
    t = tracker()
    t.begin(KvClearReason.START)
    t.apply(0, batch(BlockStored((11, 12), None, TOKENS, 4)))
    out = t.apply(1, batch(AllBlocksCleared(), BlockRemoved((11,))))
    assert isinstance(out[0], KvCacheCleared) and out[0].reason == "all_blocks_cleared"
    assert len(out) == 1 and t.blocks == 0


def test_a_taker_over_restores_run_sequence_and_map_from_the_bus() -> None:
    old = tracker()
    published: list[Event] = [old.begin(KvClearReason.START)]
    published += old.apply(0, batch(BlockStored((11, 12), None, TOKENS, 4)))
    published += old.apply(1, batch(BlockRemoved((12,))))
    new = tracker()
    for event in published:
        new.restore(event)
    assert (new.epoch, new.last_seq, new.known, new.blocks) == (old.epoch, 1, True, 1)
    out = new.apply(2, batch(BlockRemoved((11,))))
    assert isinstance(out[0], KvBlocksRemoved) and out[0].keys == (KEYS[0],)


def test_restoring_skips_late_copies_as_the_pickers_do() -> None:
    """During a hand-over both collectors publish the endpoint's batches, so the bus can
    hold one's removal of a block after the other's newer batch storing it again: the
    pickers skip the older event, and so must the map a collector restores."""
    old = tracker()
    published: list[Event] = [old.begin(KvClearReason.START)]
    published += old.apply(0, batch(BlockStored((11,), None, TOKENS[:4], 4)))
    removal = old.apply(1, batch(BlockRemoved((11,))))
    published += removal
    published += old.apply(2, batch(BlockStored((11,), None, TOKENS[:4], 4)))
    published += removal  # the other collector's copy of batch 1, arriving late
    new = tracker()
    index = PreciseIndex("p")
    for event in published:
        new.restore(event)
        index.apply(event)
    assert (new.last_seq, new.blocks) == (2, 1)
    state = index.get(new.address)
    assert state is not None and state.keys == {KEYS[0]}


def test_restoring_without_the_runs_start_leaves_the_state_unknown() -> None:
    old = tracker()
    old.begin(KvClearReason.START)
    stored = old.apply(0, batch(BlockStored((11,), None, TOKENS[:4], 4)))
    new = tracker()
    for event in stored:  # the KvCacheCleared aged out of the stream
        new.restore(event)
    assert new.epoch == old.epoch and not new.known


def test_lost_batches_reset_the_map_and_name_the_gap() -> None:
    t = tracker()
    t.begin(KvClearReason.START)
    t.apply(0, batch(BlockStored((11,), None, TOKENS[:4], 4)))
    event = t.lost(1, 3, KvUnknownReason.GAP)
    assert isinstance(event, KvStateUnknown)
    assert (event.missing_from, event.missing_to, event.seq) == (1, 3, 3)
    assert t.blocks == 0 and not t.known


def test_published_ids_are_keyed_so_another_secret_gives_other_values() -> None:
    ours, theirs = (
        tracker(),
        KvTracker(
            pool="p",
            address="10.0.0.1:8000",
            source="c",
            key=PrefixKey(b"another secret, 32 bytes long!!"),
        ),
    )
    events = []
    for t in (ours, theirs):
        t.begin(KvClearReason.START)
        (event,) = t.apply(0, batch(BlockStored((11,), None, TOKENS[:4], 4)))
        assert isinstance(event, KvBlocksStored)
        events.append(event)
    assert events[0].keys != events[1].keys and events[0].engines != events[1].engines
    assert 11 not in events[0].engines  # the server's own hash is never published as is


@pytest.mark.parametrize("encoding", ["array", "map"])
def test_a_cpu_tier_removal_keeps_the_block_the_gpu_holds(encoding: str) -> None:
    """vLLM's offloading connector announces CPU copies of the GPU's blocks (same hashes,
    ``medium="CPU"``, no tokens); evicting the CPU copy leaves the GPU's in place."""

    def event(kind: str, **fields: object) -> object:
        if encoding == "map":
            return {"type": kind, **fields}
        return [kind, *fields.values()]

    stored = event(
        "BlockStored",
        block_hashes=[11],
        parent_block_hash=None,
        token_ids=list(TOKENS[:4]),
        block_size=4,
        lora_id=None,
        medium="GPU",
    )
    offloaded = event(
        "BlockStored",
        block_hashes=[11],
        parent_block_hash=None,
        token_ids=[],
        block_size=4,
        lora_id=None,
        medium="CPU",
    )
    evicted = event("BlockRemoved", block_hashes=[11], medium="CPU")
    t = tracker()
    t.begin(KvClearReason.START)
    t.apply(0, decode_batch(msgspec.msgpack.encode([1.0, [stored]])))
    assert t.apply(1, decode_batch(msgspec.msgpack.encode([2.0, [evicted]]))) == []
    assert t.blocks == 1
    assert t.apply(2, decode_batch(msgspec.msgpack.encode([3.0, [offloaded, evicted]]))) == []
    assert t.blocks == 1
    assert t.counts.take() == {"other_medium": 3}


def test_a_restated_state_is_cut_in_events_a_bus_message_can_carry() -> None:
    tracker = KvTracker(pool="p", address="10.0.0.1:8000", source="c", key=KEY)
    tracker.begin(KvClearReason.START)
    blocks = RESTATED_BLOCKS_PER_EVENT * 2 + 5
    tokens = list(range(blocks * 4))
    batch = EngineBatch(1.0, (BlockStored(tuple(range(1, blocks + 1)), None, tuple(tokens), 4),))
    tracker.apply(0, batch)
    restated = tracker.restated()
    assert isinstance(restated[0], KvCacheCleared) and restated[0].reason == "resync"
    stored = restated[1:]
    assert [len(e.keys) for e in stored if isinstance(e, KvBlocksStored)] == [
        RESTATED_BLOCKS_PER_EVENT,
        RESTATED_BLOCKS_PER_EVENT,
        5,
    ]
    index = PreciseIndex("p")
    for event in restated:
        index.apply(event)
    state = index.get("10.0.0.1:8000")
    assert state is not None and state.known
    assert state.keys == set(token_block_keys(tokens, 4, key=KEY))
