"""OwnEvents: published events (one, or a batch) are handed back once for their exact
payload, and the memory stays bounded when events never come back."""

from __future__ import annotations

import pytest

from gie.bus.own_events import OwnEvents
from tests.support.routing_events import routed


def test_the_event_comes_back_once_for_its_exact_payload() -> None:
    own = OwnEvents()
    event = routed("p/q", 1)
    own.remember(b'{"a":1}', (event,))
    assert own.take(b'{"a": 1}') is None  # other bytes: not ours
    assert own.take(b'{"a":1}') == (event,)
    assert own.take(b'{"a":1}') is None  # handed back once


def test_a_batch_comes_back_whole_and_in_order() -> None:
    own = OwnEvents()
    batch = (routed("p/q", 1), routed("p/q", 2))
    own.remember(b"[1,2]", batch)
    assert own.take(b"[1,2]") == batch


def test_events_that_never_come_back_are_forgotten_oldest_first() -> None:
    own = OwnEvents(capacity=3)
    for n in range(5):
        own.remember(f"p{n}".encode(), (routed("p/q", n),))
    assert len(own) == 3
    assert own.take(b"p0") is None and own.take(b"p1") is None
    taken = own.take(b"p4")
    assert taken is not None and [e.request_id for e in taken] == ["r4"]


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity"):
        OwnEvents(capacity=0)


def test_a_payload_with_the_same_head_but_other_bytes_is_not_ours() -> None:
    own = OwnEvents()
    event = routed("p/q", 1)
    head = b'[{"event_id":"' + b"0" * 80
    own.remember(head + b"ours]", (event,))
    assert own.take(head + b"theirs]") is None
    assert own.take(head + b"ours]") == (event,)  # still there for the real echo
