"""A client's credentials for NATS and Redis: user, password file, CA to trust.

Passwords live in files (a mounted Secret, or the local stack's state directory) and
are read at each connection, so a rotated Secret is picked up by the next connection.
A missing or empty file is a :class:`CredentialsError` naming the file and the setting
that points at it.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CredentialsError", "NatsCredentials", "RedisCredentials", "read_secret_file"]


class CredentialsError(ValueError):
    """A credential file is missing, unreadable or empty."""


def read_secret_file(path: Path, *, setting: str) -> str:
    """The secret held by ``path`` (surrounding whitespace removed)."""
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise CredentialsError(f"{setting}: cannot read {path}: {exc.strerror}") from exc
    if not secret:
        raise CredentialsError(f"{setting}: {path} is empty")
    return secret


def _tls_context(
    ca_file: Path | None, cert_file: Path | None, key_file: Path | None, *, prefix: str
) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        if cert_file is not None:
            context.load_cert_chain(str(cert_file), str(key_file) if key_file else None)
    except (OSError, ssl.SSLError) as exc:
        raise CredentialsError(f"{prefix}_tls_*: cannot load the TLS files: {exc}") from exc
    return context


@dataclass(frozen=True, slots=True, kw_only=True)
class NatsCredentials:
    """How one client proves who it is to NATS and checks the server's certificate."""

    user: str | None = None
    password_file: Path | None = None
    tls_ca_file: Path | None = None
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    inbox_prefix: str | None = None

    @property
    def tls(self) -> bool:
        return self.tls_ca_file is not None or self.tls_cert_file is not None

    def connect_options(self) -> dict[str, Any]:
        """Keyword arguments of ``nats.connect`` (none: anonymous, plain TCP)."""
        options: dict[str, Any] = {}
        if self.user is not None:
            options["user"] = self.user
            if self.password_file is not None:
                options["password"] = read_secret_file(
                    self.password_file, setting="nats_password_file"
                )
        if self.tls:
            options["tls"] = _tls_context(
                self.tls_ca_file, self.tls_cert_file, self.tls_key_file, prefix="nats"
            )
        if self.inbox_prefix is not None:
            options["inbox_prefix"] = self.inbox_prefix
        return options


@dataclass(frozen=True, slots=True, kw_only=True)
class RedisCredentials:
    """How the flow-controller proves who it is to Redis and checks its certificate."""

    username: str | None = None
    password_file: Path | None = None
    tls_ca_file: Path | None = None
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments of redis-py's clients (the URL's scheme, ``rediss://``,
        turns TLS on; these name the CA and the client certificate)."""
        options: dict[str, Any] = {}
        if self.username is not None:
            options["username"] = self.username
        if self.password_file is not None:
            options["password"] = read_secret_file(
                self.password_file, setting="redis_password_file"
            )
        if self.tls_ca_file is not None:
            options["ssl_ca_certs"] = str(self.tls_ca_file)
        if self.tls_cert_file is not None:
            options["ssl_certfile"] = str(self.tls_cert_file)
            options["ssl_keyfile"] = str(self.tls_key_file) if self.tls_key_file else None
        return options
