"""The NATS identity of each gie service and of a third-party reader, and their rights.

Every identity is a NATS user with publish and subscribe *allow* lists; whatever is
not allowed is refused by the server. A service may:

* publish its own event subjects (``gie.v1.*.<kind>.>`` for the kinds it owns) and
  nothing else of ``gie.>``;
* create, update and inspect gie's three streams (every service sets them up
  idempotently at start, whichever comes first), never delete or purge them;
* create, inspect and delete consumers on the streams it reads, and answer their
  flow control;
* use its own bucket (the collector's membership KV bucket, the picker's snapshot
  object store) fully, except deleting it;
* receive replies and deliveries only under its own inbox prefix
  ``_GIE_INBOX.<service>``, so no identity reads another's replays or replies.

The third-party ``gie-reader`` may create and use consumers on ``GIE_EVENTS``
(routing and flow events) and acknowledge their messages; it cannot publish any
``gie.`` subject, delete a consumer, or create, change, purge or delete a stream.
Its inbox is the default ``_INBOX.>`` (what plain NATS clients use).

:func:`nats_authorization` renders these rules as the ``authorization`` block of a
nats-server configuration: ``gie up --secure`` writes it with the passwords it made,
and the Helm chart's NATS configuration is generated from it with each password read
from an environment variable filled from a Secret.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from gie.bus.snapshots import SNAPSHOT_BUCKET
from gie.bus.streams import ALL_STREAMS, EVENTS, KV, STATE
from gie.events.subjects import PREFIX

__all__ = [
    "DEFAULT_MEMBERSHIP_BUCKET",
    "READER",
    "SERVICE_IDENTITIES",
    "Bucket",
    "NatsIdentity",
    "NatsPermissions",
    "identity_of",
    "inbox_prefix",
    "nats_authorization",
    "password_variable",
    "permissions_of",
]

DEFAULT_MEMBERSHIP_BUCKET = "gie-collectors"
SERVICE_INBOX_ROOT = "_GIE_INBOX"
READER_INBOX = "_INBOX"


@dataclass(frozen=True, slots=True)
class Bucket:
    """A JetStream KV bucket or object store an identity owns."""

    kind: Literal["kv", "object"]
    name: str

    @property
    def stream(self) -> str:
        return f"KV_{self.name}" if self.kind == "kv" else f"OBJ_{self.name}"

    @property
    def subjects(self) -> str:
        return f"$KV.{self.name}.>" if self.kind == "kv" else f"$O.{self.name}.>"


@dataclass(frozen=True, slots=True)
class NatsIdentity:
    """One NATS user: what it publishes, which streams it reads, which buckets it owns."""

    user: str
    service: str
    publishes: tuple[str, ...] = ()  # event kinds: the <kind> of gie.v1.<pool>.<kind>.>
    reads: tuple[str, ...] = ()  # stream names it creates consumers on
    buckets: tuple[Bucket, ...] = ()
    third_party: bool = False


@dataclass(frozen=True, slots=True)
class NatsPermissions:
    """Subjects a user may publish to and subscribe to (NATS wildcards)."""

    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def _services(membership_bucket: str, snapshot_bucket: str) -> tuple[NatsIdentity, ...]:
    return (
        NatsIdentity(
            user="gie-ingest",
            service="ingest",
            publishes=("endpoint", "objective", "rewrite"),
            reads=(STATE.name,),
        ),
        NatsIdentity(
            user="gie-metrics-collector",
            service="metrics-collector",
            publishes=("metrics", "saturation", "kv"),
            reads=(STATE.name, KV.name),
            buckets=(Bucket("kv", membership_bucket),),
        ),
        NatsIdentity(
            user="gie-flow-controller",
            service="flow-controller",
            publishes=("flow",),
            reads=(STATE.name, EVENTS.name),
        ),
        NatsIdentity(
            user="gie-picker",
            service="picker",
            publishes=("routing",),
            reads=(STATE.name, EVENTS.name, KV.name),
            buckets=(Bucket("object", snapshot_bucket),),
        ),
    )


SERVICE_IDENTITIES: tuple[NatsIdentity, ...] = _services(DEFAULT_MEMBERSHIP_BUCKET, SNAPSHOT_BUCKET)

READER = NatsIdentity(user="gie-reader", service="reader", reads=(EVENTS.name,), third_party=True)


def identity_of(
    service: str,
    *,
    membership_bucket: str = DEFAULT_MEMBERSHIP_BUCKET,
    snapshot_bucket: str = SNAPSHOT_BUCKET,
) -> NatsIdentity:
    """The identity of ``service`` (``picker``, ..., or ``reader``); KeyError naming it."""
    if service == READER.service:
        return READER
    for identity in _services(membership_bucket, snapshot_bucket):
        if identity.service == service:
            return identity
    raise KeyError(f"no NATS identity for service {service!r}")


def inbox_prefix(identity: NatsIdentity) -> str:
    """Where the identity receives replies and consumer deliveries."""
    return READER_INBOX if identity.third_party else f"{SERVICE_INBOX_ROOT}.{identity.service}"


def _consumer_rights(stream: str) -> list[str]:
    api = "$JS.API.CONSUMER"
    return [
        f"{api}.CREATE.{stream}",  # an unnamed consumer
        f"{api}.CREATE.{stream}.>",  # a named one, with or without its filter
        f"{api}.INFO.{stream}.*",
        f"{api}.DELETE.{stream}.*",
        f"$JS.FC.{stream}.>",  # flow-control answers of push consumers
    ]


def _bucket_rights(bucket: Bucket) -> list[str]:
    stream = bucket.stream
    rights = [f"$JS.API.STREAM.{verb}.{stream}" for verb in ("CREATE", "UPDATE", "INFO", "PURGE")]
    rights += [f"$JS.API.STREAM.MSG.GET.{stream}", f"$JS.API.STREAM.MSG.DELETE.{stream}"]
    rights += [f"$JS.API.DIRECT.GET.{stream}", f"$JS.API.DIRECT.GET.{stream}.>"]
    rights += _consumer_rights(stream)
    rights.append("$JS.API.STREAM.NAMES")  # nats-py finds an object's stream by subject
    rights.append(bucket.subjects)
    return rights


def _reader_rights(stream: str) -> list[str]:
    api = "$JS.API"
    return [
        f"{api}.INFO",
        f"{api}.STREAM.INFO.{stream}",
        f"{api}.CONSUMER.CREATE.{stream}",
        f"{api}.CONSUMER.CREATE.{stream}.>",
        f"{api}.CONSUMER.DURABLE.CREATE.{stream}.*",
        f"{api}.CONSUMER.INFO.{stream}.*",
        f"{api}.CONSUMER.MSG.NEXT.{stream}.*",
        f"$JS.ACK.{stream}.>",
        f"$JS.FC.{stream}.>",
    ]


def permissions_of(identity: NatsIdentity) -> NatsPermissions:
    """The allow lists of ``identity``; everything else is refused by the server."""
    if identity.third_party:
        publish: list[str] = []
        for stream in identity.reads:
            publish += _reader_rights(stream)
        return NatsPermissions(_unique(publish), (f"{READER_INBOX}.>",))
    publish = [f"{PREFIX}.*.{kind}.>" for kind in identity.publishes]
    publish.append("$JS.API.INFO")
    for spec in ALL_STREAMS:
        publish += [f"$JS.API.STREAM.{verb}.{spec.name}" for verb in ("CREATE", "UPDATE", "INFO")]
    for stream in identity.reads:
        publish += _consumer_rights(stream)
    for bucket in identity.buckets:
        publish += _bucket_rights(bucket)
    return NatsPermissions(_unique(publish), (f"{inbox_prefix(identity)}.>",))


def password_variable(identity: NatsIdentity) -> str:
    """The environment variable the chart's nats-server reads the user's password from."""
    return "GIE_NATS_PASSWORD_" + identity.service.upper().replace("-", "_")


def nats_authorization(
    passwords: Mapping[str, str],
    *,
    identities: Iterable[NatsIdentity] = (*SERVICE_IDENTITIES, READER),
    from_environment: bool = False,
) -> str:
    """The ``authorization { users: [...] }`` block of a nats-server configuration.

    ``passwords`` maps each user to its password; with ``from_environment`` the
    password of each user is instead the variable :func:`password_variable` names,
    which nats-server reads from its environment (``passwords`` is then unused). A
    user without a password is an error naming it. No user means nobody is let in
    without credentials."""
    lines = ["authorization {", "  users: ["]
    for identity in identities:
        if from_environment:
            password = "$" + password_variable(identity)
        else:
            if identity.user not in passwords:
                raise KeyError(f"no NATS password for user {identity.user!r}")
            password = json.dumps(passwords[identity.user])
        rights = permissions_of(identity)
        lines += [
            "    {",
            f"      user: {json.dumps(identity.user)}",
            f"      password: {password}",
            "      permissions: {",
            f"        publish: {{allow: {json.dumps(list(rights.publish))}}}",
            f"        subscribe: {{allow: {json.dumps(list(rights.subscribe))}}}",
            "      }",
            "    }",
        ]
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
