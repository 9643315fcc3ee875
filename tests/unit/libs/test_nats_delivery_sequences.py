"""Reading a JetStream delivery's sequences from its reply subject (both server formats)."""

from __future__ import annotations

from typing import Any

import pytest
from nats.aio.msg import Msg
from nats.errors import NotJSMessageError

from gie.bus.nats_bus import delivery_sequences


def delivery(reply: str) -> Msg:
    client: Any = None
    return Msg(_client=client, subject="gie.v1.x", reply=reply, data=b"{}")


def test_the_common_reply_subject_is_read_directly() -> None:
    msg = delivery("$JS.ACK.GIE_EVENTS.c1.1.1234.56.1700000000000000000.7")
    assert delivery_sequences(msg) == (1234, 56, 7)


def test_the_domain_form_is_read_through_the_client_metadata() -> None:
    msg = delivery("$JS.ACK.hub.ACCHASH.GIE_EVENTS.c1.1.1234.56.1700000000000000000.0.rand")
    assert delivery_sequences(msg) == (1234, 56, 0)


def test_a_reply_that_is_not_a_jetstream_ack_is_an_error() -> None:
    with pytest.raises(NotJSMessageError):
        delivery_sequences(delivery("_INBOX.abc"))
