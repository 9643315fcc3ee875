"""The Redis ACL user of each gie Redis client, and the ACL file that declares them.

The flow-controller is gie's only Redis client. It runs its Lua scripts (``EVALSHA``,
loading them with ``SCRIPT LOAD`` when the server lacks them), reads outcomes with
``HMGET`` / ``EXISTS``, listens on its pool's notice channels (``SUBSCRIBE``) and pings
for readiness. Redis checks the commands a script calls against the caller's ACL too,
so the user also holds the commands of ``gie_flow_controller/state/lua`` (a test holds
this list and the scripts together). Every key and channel it touches starts with its
pool's hash tag, ``{gie:<pool>}:fc:``, so its patterns are ``~{gie:*}:fc:*`` and
``&{gie:*}:fc:*``: it cannot read or write another application's keys, run
``KEYS``, ``FLUSHALL``, ``CONFIG``, ``ACL`` or any other administrative command.

:func:`redis_acl_file` renders an ACL file (``aclfile`` in the server's configuration)
with these users and the ``default`` user switched off, so a client without
credentials can run nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["FLOW_CONTROLLER_REDIS", "REDIS_USERS", "RedisUser", "redis_acl_file"]

# Commands the flow-controller's Lua scripts call (redis.call / redis.pcall).
SCRIPT_COMMANDS: tuple[str, ...] = (
    "del", "exists", "get", "hdel", "hget", "hincrby", "hincrbyfloat", "hmget", "hset",
    "lrange", "lrem", "persist", "pexpire", "pexpireat", "publish", "rpush", "set", "zadd",
    "zcard", "zcount", "zrange", "zrangebyscore", "zrem", "zremrangebyscore", "zrevrange",
    "zscore",
)  # fmt: skip
# Commands the flow-controller sends itself.
CLIENT_COMMANDS: tuple[str, ...] = (
    "evalsha", "script|load", "hmget", "exists", "subscribe", "unsubscribe", "ping",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RedisUser:
    """One ACL user: the commands it may run and the keys and channels it may touch."""

    user: str
    service: str
    commands: tuple[str, ...]
    key_patterns: tuple[str, ...]
    channel_patterns: tuple[str, ...]

    def rules(self) -> str:
        """The ACL rules after ``user <name>`` (without the password)."""
        parts = ["resetkeys", "resetchannels", "-@all"]
        parts += [f"~{pattern}" for pattern in self.key_patterns]
        parts += [f"&{pattern}" for pattern in self.channel_patterns]
        parts += [f"+{command}" for command in dict.fromkeys(self.commands)]
        return " ".join(parts)


FLOW_CONTROLLER_REDIS = RedisUser(
    user="gie-flow-controller",
    service="flow-controller",
    commands=(*CLIENT_COMMANDS, *SCRIPT_COMMANDS),
    key_patterns=("{gie:*}:fc:*",),
    channel_patterns=("{gie:*}:fc:*",),
)

REDIS_USERS: tuple[RedisUser, ...] = (FLOW_CONTROLLER_REDIS,)


def _password_rule(password: str) -> str:
    if any(char.isspace() for char in password):
        raise ValueError("a Redis ACL password must not contain whitespace")
    return f">{password}"


def redis_acl_file(
    passwords: Mapping[str, str], *, users: Iterable[RedisUser] = REDIS_USERS
) -> str:
    """An ACL file: ``default`` off, then each user on with its password and rules.
    A user without a password in ``passwords`` is an error naming it."""
    lines = ["user default off resetkeys resetchannels -@all nopass"]
    for user in users:
        if user.user not in passwords:
            raise KeyError(f"no Redis password for user {user.user!r}")
        lines.append(
            f"user {user.user} on resetpass {_password_rule(passwords[user.user])} {user.rules()}"
        )
    return "\n".join(lines) + "\n"
