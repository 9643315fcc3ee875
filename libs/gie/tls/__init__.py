"""TLS for gie's channels: certificates made in-process, and certificate files served
with reload.

* :mod:`~gie.tls.certificates` makes keys and X.509 certificates with the
  ``cryptography`` package: a CA, leaf certificates it signs (server, client or both,
  with DNS and IP subject alternative names), a self-signed certificate; and writes them
  as PEM files (keys readable by their owner only).
* :mod:`~gie.tls.server_credentials` serves certificate files to gRPC, re-read when
  they change (:class:`ReloadingServerCredentials`), with ``gie_tls_*`` metrics.
* :mod:`~gie.tls.settings` holds the ``GIE_GRPC_TLS_*`` (servers) and
  ``GIE_FLOW_CONTROL_TLS_*`` (the picker's FlowControl client) settings;
  :mod:`~gie.tls.grpc_tls` turns them into gRPC credentials.

Making certificates is synchronous and does no network I/O (a few milliseconds each,
ECDSA P-256 keys). gRPC calls the reloading credentials on its own threads; they are
guarded by a lock. Errors: :class:`~gie.tls.errors.GieTlsError` and
its subclasses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from gie.tls.errors import CertificateFileError, GieTlsError
from gie.tls.grpc_tls import (
    client_channel_credentials,
    make_self_signed_files,
    server_credentials,
    watch_certificates,
)
from gie.tls.server_credentials import ReloadingServerCredentials, ServerTlsFiles, TlsMetrics
from gie.tls.settings import FlowControlClientTlsSettings, GrpcServerTlsSettings

if TYPE_CHECKING:
    from gie.tls.certificates import (
        CertificateUsage,
        KeyAndCertificate,
        issue_certificate,
        load_key_and_certificate,
        make_ca,
        self_signed_certificate,
        write_key_and_certificate,
    )

# Making and reading certificates needs the ``cryptography`` package, whose import is a
# few hundredths of a second of every start-up: it is loaded when first asked for
# (a service without TLS never is).
_CERTIFICATES = frozenset(
    (
        "CertificateUsage",
        "KeyAndCertificate",
        "issue_certificate",
        "load_key_and_certificate",
        "make_ca",
        "self_signed_certificate",
        "write_key_and_certificate",
    )
)


def __getattr__(name: str) -> object:
    if name in _CERTIFICATES:
        return getattr(importlib.import_module("gie.tls.certificates"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CertificateFileError",
    "CertificateUsage",
    "FlowControlClientTlsSettings",
    "GieTlsError",
    "GrpcServerTlsSettings",
    "KeyAndCertificate",
    "ReloadingServerCredentials",
    "ServerTlsFiles",
    "TlsMetrics",
    "client_channel_credentials",
    "issue_certificate",
    "load_key_and_certificate",
    "make_ca",
    "make_self_signed_files",
    "self_signed_certificate",
    "server_credentials",
    "watch_certificates",
    "write_key_and_certificate",
]
