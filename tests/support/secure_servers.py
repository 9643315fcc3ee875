"""nats-server and redis-server configured as ``gie up --secure`` configures them
(the same configuration builders), on free loopback ports, for tests."""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gie.security import READER, SERVICE_IDENTITIES, NatsIdentity
from gie_cli.devstack.binaries import find_nats_server
from gie_cli.devstack.local_ca import LocalCA
from gie_cli.devstack.parts import nats_launch, redis_launch
from gie_cli.devstack.ports import free_port
from gie_cli.devstack.secure_bus import BusSecrets, TlsFiles, nats_config, redis_secure_argv
from tests.support.servers import _stop, _wait, jetstream_ready


@dataclass(frozen=True)
class SecureServer:
    url: str
    secrets: BusSecrets
    log: Path
    ca: Path | None  # the CA of its certificate; None: plain text


@contextlib.contextmanager
def secure_nats(
    directory: Path,
    *,
    tls: TlsFiles | None = None,
    identities: tuple[NatsIdentity, ...] = (*SERVICE_IDENTITIES, READER),
) -> Iterator[SecureServer]:
    """nats-server with the identities' passwords and permissions (default: every gie
    identity), and TLS."""
    secrets = BusSecrets.create(directory / "secrets")
    port, monitor = free_port(), free_port()
    launch = nats_launch(
        binary=find_nats_server(), port=port, monitor_port=monitor, store_dir=directory / "js"
    )
    config = nats_config(directory / "nats.conf", secrets_=secrets, tls=tls, identities=identities)
    log = directory / "nats.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([*launch.argv, "-c", str(config)], stdout=out, stderr=out)

    try:
        _wait(jetstream_ready(monitor), "nats-server", proc, log=log)
        scheme = "tls" if tls else "nats"
        yield SecureServer(f"{scheme}://127.0.0.1:{port}", secrets, log, tls.ca if tls else None)
    finally:
        _stop(proc)


@dataclass(frozen=True)
class SecureRedis:
    server: SecureServer
    tls: TlsFiles

    def options(self, user: str) -> dict[str, object]:
        """redis-py options of ``user`` (its password file, the CA)."""
        password_file = self.server.secrets.redis_password_file(user)
        return {
            "username": user,
            "password": password_file.read_text(),
            "ssl_ca_certs": str(self.tls.ca),
        }


def debian_redis_server() -> Path | None:
    """``redis-server`` on PATH (Debian's is built with TLS), else None."""
    found = shutil.which("redis-server")
    return Path(found) if found else None


@contextlib.contextmanager
def secure_redis(directory: Path, *, tls: TlsFiles | None = None) -> Iterator[SecureServer]:
    """redis-server with the ACL file of every gie Redis user (and TLS only)."""
    binary = debian_redis_server()
    if binary is None:
        raise RuntimeError("redis-server is not installed: run `make redis-server`")
    secrets = BusSecrets.create(directory / "secrets")
    port = free_port()
    data = directory / "redis"
    data.mkdir(parents=True, exist_ok=True)
    argv = redis_launch(binary=binary, port=port, data_dir=data).argv
    argv = redis_secure_argv(argv, acl_file=directory / "users.acl", secrets_=secrets, tls=tls)
    log = directory / "redis.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=out)

    def ready() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as raw:
                sock: socket.socket = raw
                if tls is not None:
                    context = ssl.create_default_context(cafile=str(tls.ca))
                    sock = context.wrap_socket(raw, server_hostname="127.0.0.1")
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"-NOAUTH")  # up, and the default user off
        except OSError:
            return False

    try:
        _wait(ready, "redis-server", proc, log=log)
        scheme = "rediss" if tls else "redis"
        yield SecureServer(f"{scheme}://127.0.0.1:{port}/0", secrets, log, tls.ca if tls else None)
    finally:
        _stop(proc)


def local_tls(directory: Path) -> TlsFiles:
    """A fresh local CA and a server certificate for 127.0.0.1 / localhost."""
    paths = LocalCA.create(directory).issue("bus", usage="server")
    return TlsFiles(ca=paths.ca, cert=paths.certificate, key=paths.key)
