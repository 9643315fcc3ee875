"""From TLS settings to gRPC credentials: a server's reloading credentials (or a
self-signed certificate, loudly), a client channel's credentials, and the periodic
check that reports reloads and expiry while no client connects."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import tempfile
from datetime import timedelta
from pathlib import Path

import grpc
import structlog
from prometheus_client import CollectorRegistry

from gie.tls.server_credentials import (
    ReloadingServerCredentials,
    ServerTlsFiles,
    TlsMetrics,
    read_file,
)
from gie.tls.settings import FlowControlClientTlsSettings, GrpcServerTlsSettings

__all__ = [
    "SELF_SIGNED_VALIDITY",
    "client_channel_credentials",
    "make_self_signed_files",
    "server_credentials",
    "watch_certificates",
]

_log = structlog.get_logger("gie.tls")
SELF_SIGNED_VALIDITY = timedelta(days=365)
# How often the files are looked at when no client connects (logs, metrics).
CHECK_INTERVAL_S = 10.0


def make_self_signed_files(host: str, *, directory: Path | None = None) -> ServerTlsFiles:
    """A self-signed certificate for ``localhost``, this machine's name and ``host``
    (when it is a specific address or name), written to a new private directory."""
    from gie.tls.certificates import (  # noqa: PLC0415  (cryptography: only when asked)
        self_signed_certificate,
        write_key_and_certificate,
    )

    where = directory or Path(tempfile.mkdtemp(prefix="gie-self-signed-"))
    dns = {"localhost", socket.gethostname()}
    ips = {"127.0.0.1", "::1"}
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        dns.add(host)
    else:
        if not address.is_unspecified:
            ips.add(host)
    pair = self_signed_certificate(
        "gie self-signed",
        dns_names=sorted(dns),
        ip_addresses=sorted(ips),
        valid_for=SELF_SIGNED_VALIDITY,
    )
    files = ServerTlsFiles(certificate=where / "tls.crt", key=where / "tls.key")
    write_key_and_certificate(pair, certificate_path=files.certificate, key_path=files.key)
    return files


def server_credentials(
    settings: GrpcServerTlsSettings,
    *,
    server: str,
    host: str,
    registry: CollectorRegistry | None,
) -> ReloadingServerCredentials | None:
    """The server's credentials from its settings; None when it serves plaintext.

    Raises CertificateFileError when the configured files cannot be used.
    """
    files = settings.grpc_server_tls_files()
    if files is None and settings.grpc_tls_self_signed:
        files = make_self_signed_files(host)
        _log.warning(
            "SELF-SIGNED CERTIFICATE: gRPC traffic is encrypted but this server is NOT "
            "authenticated; any peer on the network can impersonate it. Give "
            "GIE_GRPC_TLS_CERT_FILE and GIE_GRPC_TLS_KEY_FILE signed by a CA the clients "
            "verify.",
            server=server,
            certificate=str(files.certificate),
        )
    if files is None:
        return None
    return ReloadingServerCredentials(files, server=server, metrics=TlsMetrics(registry))


def client_channel_credentials(
    settings: FlowControlClientTlsSettings,
) -> tuple[grpc.ChannelCredentials | None, list[tuple[str, str]]]:
    """Channel credentials and channel options for FlowControl (None: plaintext).

    Raises CertificateFileError naming a file that cannot be read.
    """
    if settings.flow_control_tls_ca_file is None:
        return None, []
    key = chain = None
    if settings.flow_control_tls_cert_file and settings.flow_control_tls_key_file:
        chain = read_file(settings.flow_control_tls_cert_file)
        key = read_file(settings.flow_control_tls_key_file)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=read_file(settings.flow_control_tls_ca_file),
        private_key=key,
        certificate_chain=chain,
    )
    options = []
    if settings.flow_control_tls_server_name:
        options.append(("grpc.ssl_target_name_override", settings.flow_control_tls_server_name))
    return credentials, options


async def watch_certificates(
    credentials: ReloadingServerCredentials, *, interval_s: float = CHECK_INTERVAL_S
) -> None:
    """Check the files every ``interval_s`` until cancelled (reloads, expiry, errors are
    logged and counted by the check itself)."""
    while True:
        await asyncio.sleep(interval_s)
        await asyncio.to_thread(credentials.check)
