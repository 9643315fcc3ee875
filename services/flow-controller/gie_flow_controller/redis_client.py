"""The flow-controller's Redis client: one URL, or the master Redis Sentinel names.

With ``GIE_REDIS_SENTINELS`` set, the client asks those Sentinels for the master of
``GIE_REDIS_MASTER_NAME`` on every new connection, so after a failover it reconnects
to the promoted replica by itself (redis-py has no URL form for this). Otherwise it
connects to ``GIE_REDIS_URL``, with ``GIE_REDIS_PASSWORD`` unless the URL holds one.
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.sentinel import Sentinel

from gie_flow_controller.settings import FlowControllerSettings, parse_sentinels

__all__ = ["redis_client"]

SOCKET_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 2.0


def redis_client(settings: FlowControllerSettings) -> Redis:
    if not settings.redis_sentinels:
        return Redis.from_url(
            settings.redis_url,
            password=settings.redis_password,  # a password in the URL wins
            socket_timeout=SOCKET_TIMEOUT_S,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
        )
    password = settings.redis_password
    sentinel = Sentinel(
        parse_sentinels(settings.redis_sentinels),
        sentinel_kwargs={
            "password": password,
            "socket_timeout": SOCKET_TIMEOUT_S,
            "socket_connect_timeout": CONNECT_TIMEOUT_S,
        },
        password=password,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
    )
    client: Redis = sentinel.master_for(settings.redis_master_name)
    return client
