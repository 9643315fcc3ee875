"""Who may do what on gie's message bus and flow-state store, written once as code.

* :mod:`gie.security.nats_permissions`: the NATS identity of each service and of a
  third-party reader, the subjects each may publish and subscribe to (its own event
  subjects, the JetStream API calls of its streams and consumers, its KV bucket or
  object store), and the ``authorization`` block of a nats-server configuration
  built from them (the local stack's ``gie up --secure`` and the Helm chart use it).
* :mod:`gie.security.redis_acl`: the Redis ACL user of each Redis client (the
  flow-controller): the commands and key and channel patterns it needs.
* :mod:`gie.security.credentials`: the client side: which user, which password file,
  which CA to verify the server against; turned into nats-py and redis-py options.

Pure data and functions; nothing here opens a connection.
"""

from __future__ import annotations

from gie.security.credentials import (
    CredentialsError,
    NatsCredentials,
    RedisCredentials,
    read_secret_file,
)
from gie.security.nats_permissions import (
    READER,
    SERVICE_IDENTITIES,
    NatsIdentity,
    NatsPermissions,
    identity_of,
    inbox_prefix,
    nats_authorization,
    password_variable,
    permissions_of,
)
from gie.security.redis_acl import FLOW_CONTROLLER_REDIS, REDIS_USERS, RedisUser, redis_acl_file

__all__ = [
    "FLOW_CONTROLLER_REDIS",
    "READER",
    "REDIS_USERS",
    "SERVICE_IDENTITIES",
    "CredentialsError",
    "NatsCredentials",
    "NatsIdentity",
    "NatsPermissions",
    "RedisCredentials",
    "RedisUser",
    "identity_of",
    "inbox_prefix",
    "nats_authorization",
    "password_variable",
    "permissions_of",
    "read_secret_file",
    "redis_acl_file",
]
