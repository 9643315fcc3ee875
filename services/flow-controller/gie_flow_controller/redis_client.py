"""The flow-controller's Redis client: one URL, or the master Redis Sentinel names.

With ``GIE_REDIS_SENTINELS`` set, the client asks those Sentinels for the master of
``GIE_REDIS_MASTER_NAME`` on every new connection, so after a failover it reconnects
to the promoted replica by itself (redis-py has no URL form for this). Otherwise it
connects to ``GIE_REDIS_URL``, with ``GIE_REDIS_PASSWORD`` unless the URL holds one.
``GIE_REDIS_USERNAME`` and ``GIE_REDIS_PASSWORD_FILE`` name an ACL user and its
password; a ``rediss://`` URL speaks TLS, verified against ``GIE_REDIS_TLS_CA_FILE``.
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.sentinel import Sentinel

from gie.security.credentials import RedisCredentials
from gie_flow_controller.settings import FlowControllerSettings, parse_sentinels

__all__ = ["redis_client"]

SOCKET_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 2.0


def redis_credentials(settings: FlowControllerSettings) -> RedisCredentials:
    return RedisCredentials(
        username=settings.redis_username,
        password_file=settings.redis_password_file,
        tls_ca_file=settings.redis_tls_ca_file,
    )


def redis_client(settings: FlowControllerSettings) -> Redis:
    """The client; a :class:`~gie.security.CredentialsError` names an unreadable
    password file."""
    options = redis_credentials(settings).client_options()
    if not settings.redis_sentinels:
        options.setdefault("password", settings.redis_password)  # a password in the URL wins
        return Redis.from_url(
            settings.redis_url,
            socket_timeout=SOCKET_TIMEOUT_S,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            **options,
        )
    password = options.get("password", settings.redis_password)
    sentinel = Sentinel(
        parse_sentinels(settings.redis_sentinels),
        sentinel_kwargs={
            "password": password,
            "socket_timeout": SOCKET_TIMEOUT_S,
            "socket_connect_timeout": CONNECT_TIMEOUT_S,
        },
        username=options.get("username"),
        password=password,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
    )
    client: Redis = sentinel.master_for(settings.redis_master_name)
    return client
