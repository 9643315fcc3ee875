"""TLS for gie's channels: certificates made in-process, and certificate files served
with reload.

* :mod:`~gie.tls.certificates` makes keys and X.509 certificates with the
  ``cryptography`` package: a CA, leaf certificates it signs (server, client or both,
  with DNS and IP subject alternative names), a self-signed certificate; and writes them
  as PEM files (keys readable by their owner only).

Everything here is synchronous and does no network I/O; making a certificate takes a
few milliseconds (ECDSA P-256 keys). Errors: :class:`~gie.tls.errors.GieTlsError` and
its subclasses.
"""

from __future__ import annotations

from gie.tls.certificates import (
    CertificateUsage,
    KeyAndCertificate,
    issue_certificate,
    load_key_and_certificate,
    make_ca,
    self_signed_certificate,
    write_key_and_certificate,
)
from gie.tls.errors import CertificateFileError, GieTlsError

__all__ = [
    "CertificateFileError",
    "CertificateUsage",
    "GieTlsError",
    "KeyAndCertificate",
    "issue_certificate",
    "load_key_and_certificate",
    "make_ca",
    "self_signed_certificate",
    "write_key_and_certificate",
]
