"""The NATS permission sets: each service publishes exactly its own event kinds, no
identity may delete or purge gie's streams, the reader publishes no gie subject, and
the nats-server configuration rendered from them is what nats-server reads."""

from __future__ import annotations

import pytest

from gie.bus import ALL_STREAMS
from gie.bus.subject_match import subject_matches
from gie.security import (
    READER,
    SERVICE_IDENTITIES,
    NatsIdentity,
    nats_authorization,
    password_variable,
    permissions_of,
)

ALL_KINDS = ("endpoint", "metrics", "objective", "rewrite", "saturation", "routing", "flow", "kv")
OWNER = {
    "endpoint": "ingest",
    "objective": "ingest",
    "rewrite": "ingest",
    "metrics": "metrics-collector",
    "saturation": "metrics-collector",
    "kv": "metrics-collector",
    "flow": "flow-controller",
    "routing": "picker",
}


def may_publish(identity: NatsIdentity, subject: str) -> bool:
    return any(subject_matches(allowed, subject) for allowed in permissions_of(identity).publish)


@pytest.mark.parametrize("identity", [*SERVICE_IDENTITIES, READER], ids=lambda i: i.service)
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_only_the_owner_of_a_kind_publishes_it(identity: NatsIdentity, kind: str) -> None:
    subject = f"gie.v1.default_2Fpool.{kind}.x"
    assert may_publish(identity, subject) is (OWNER[kind] == identity.service)


@pytest.mark.parametrize("identity", [*SERVICE_IDENTITIES, READER], ids=lambda i: i.service)
@pytest.mark.parametrize("verb", ["DELETE", "PURGE"])
def test_no_identity_deletes_or_purges_a_gie_stream(identity: NatsIdentity, verb: str) -> None:
    for stream in ALL_STREAMS:
        assert not may_publish(identity, f"$JS.API.STREAM.{verb}.{stream.name}")


def test_the_reader_changes_no_stream_and_reads_only_the_events_stream() -> None:
    for stream in ALL_STREAMS:
        for verb in ("CREATE", "UPDATE"):
            assert not may_publish(READER, f"$JS.API.STREAM.{verb}.{stream.name}")
    assert may_publish(READER, "$JS.API.CONSUMER.CREATE.GIE_EVENTS.billing.gie.v1.*.routing.>")
    assert not may_publish(READER, "$JS.API.CONSUMER.CREATE.GIE_STATE.x")
    assert not may_publish(READER, "$JS.API.CONSUMER.DELETE.GIE_EVENTS.picker-consumer")
    assert permissions_of(READER).subscribe == ("_INBOX.>",)


def test_each_service_receives_only_under_its_own_inbox() -> None:
    inboxes = [permissions_of(i).subscribe for i in SERVICE_IDENTITIES]
    assert inboxes == [(f"_GIE_INBOX.{i.service}.>",) for i in SERVICE_IDENTITIES]


def test_the_rendered_block_holds_every_user_and_reads_passwords_from_the_environment() -> None:
    text = nats_authorization({}, from_environment=True)
    for identity in (*SERVICE_IDENTITIES, READER):
        assert f'user: "{identity.user}"' in text
        assert f"password: ${password_variable(identity)}\n" in text
    assert password_variable(SERVICE_IDENTITIES[1]) == "GIE_NATS_PASSWORD_METRICS_COLLECTOR"


def test_a_user_without_a_password_is_an_error_naming_it() -> None:
    with pytest.raises(KeyError, match="gie-ingest"):
        nats_authorization({})
