"""Keys and X.509 certificates made in-process (ECDSA P-256), and their PEM files.

A CA (:func:`make_ca`) signs leaf certificates (:func:`issue_certificate`) for a server,
a client or both, with DNS names and IP addresses as subject alternative names (what
TLS clients check; the common name is informational). :func:`self_signed_certificate`
makes a leaf that is its own issuer, for a server that is explicitly asked to run
without a CA. Validity is ``[not_before, not_before + valid_for]``; a ``not_before`` in
the past makes already-expired certificates, which tests use.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gie.tls.errors import CertificateFileError

__all__ = [
    "CertificateUsage",
    "KeyAndCertificate",
    "issue_certificate",
    "load_key_and_certificate",
    "make_ca",
    "self_signed_certificate",
    "write_key_and_certificate",
]

CertificateUsage = Literal["server", "client", "server-and-client"]

# Clocks of peers on one machine agree, but not exactly: start validity a little early.
_BACKDATE = timedelta(minutes=5)
_EXTENDED_USAGES: dict[CertificateUsage, list[x509.ObjectIdentifier]] = {
    "server": [ExtendedKeyUsageOID.SERVER_AUTH],
    "client": [ExtendedKeyUsageOID.CLIENT_AUTH],
    "server-and-client": [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
}


@dataclass(frozen=True)
class KeyAndCertificate:
    """A private key and the certificate for its public key."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def make_ca(
    common_name: str,
    *,
    valid_for: timedelta,
    not_before: datetime | None = None,
) -> KeyAndCertificate:
    """A self-signed CA certificate that may sign leaf certificates (not other CAs)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    start = _start(not_before)
    builder = (
        _base(name, name, key.public_key(), start, valid_for)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return KeyAndCertificate(key, builder.sign(key, hashes.SHA256()))


def issue_certificate(
    ca: KeyAndCertificate,
    common_name: str,
    *,
    dns_names: Sequence[str] = (),
    ip_addresses: Sequence[str] = (),
    usage: CertificateUsage = "server",
    valid_for: timedelta,
    not_before: datetime | None = None,
) -> KeyAndCertificate:
    """A leaf certificate signed by ``ca`` with the given subject alternative names.

    Raises ValueError naming the bad field when an IP address does not parse or no name
    at all is given for a server certificate (clients could never verify it).
    """
    key = ec.generate_private_key(ec.SECP256R1())
    builder = _leaf(
        _base(
            _name(common_name),
            ca.certificate.subject,
            key.public_key(),
            _start(not_before),
            valid_for,
        ),
        dns_names=dns_names,
        ip_addresses=ip_addresses,
        usage=usage,
    ).add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
    )
    return KeyAndCertificate(key, builder.sign(ca.key, hashes.SHA256()))


def self_signed_certificate(
    common_name: str,
    *,
    dns_names: Sequence[str] = (),
    ip_addresses: Sequence[str] = (),
    valid_for: timedelta,
) -> KeyAndCertificate:
    """A server certificate that is its own issuer: encrypts, but authenticates nobody
    unless the client pins this very certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    builder = _leaf(
        _base(name, name, key.public_key(), _start(None), valid_for),
        dns_names=dns_names,
        ip_addresses=ip_addresses,
        usage="server",
    )
    return KeyAndCertificate(key, builder.sign(key, hashes.SHA256()))


def write_key_and_certificate(
    pair: KeyAndCertificate, *, certificate_path: Path, key_path: Path
) -> None:
    """Write the certificate (mode 0644) and the key (mode 0600, never readable by
    others, even while written) as PEM; each file is replaced atomically, so a reader
    watching for changes never sees half a file. The key is written first: a watcher
    that reloads on the certificate's change finds the matching key already there."""
    _write_atomically(key_path, pair.key_pem(), mode=0o600)
    _write_atomically(certificate_path, pair.certificate_pem(), mode=0o644)


def load_key_and_certificate(*, certificate_path: Path, key_path: Path) -> KeyAndCertificate:
    """Read a PEM certificate and its unencrypted PEM ECDSA key; raises
    :class:`CertificateFileError` naming the file at fault."""
    try:
        certificate = x509.load_pem_x509_certificate(_read(certificate_path))
    except ValueError as exc:
        raise CertificateFileError(certificate_path, f"not a PEM certificate: {exc}") from exc
    try:
        key = serialization.load_pem_private_key(_read(key_path), password=None)
    except (ValueError, TypeError) as exc:
        raise CertificateFileError(key_path, f"not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CertificateFileError(key_path, "not an ECDSA private key")
    if key.public_key() != certificate.public_key():
        raise CertificateFileError(key_path, f"does not match the certificate {certificate_path}")
    return KeyAndCertificate(key, certificate)


def _name(common_name: str) -> x509.Name:
    if not common_name:
        raise ValueError("common_name: must not be empty")
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _start(not_before: datetime | None) -> datetime:
    if not_before is not None:
        return not_before
    return datetime.now(UTC) - _BACKDATE


def _base(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    start: datetime,
    valid_for: timedelta,
) -> x509.CertificateBuilder:
    if valid_for <= timedelta(0):
        raise ValueError(f"valid_for: must be positive, got {valid_for}")
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + valid_for)
    )


def _leaf(
    builder: x509.CertificateBuilder,
    *,
    dns_names: Sequence[str],
    ip_addresses: Sequence[str],
    usage: CertificateUsage,
) -> x509.CertificateBuilder:
    alternative_names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    for address in ip_addresses:
        try:
            alternative_names.append(x509.IPAddress(ipaddress.ip_address(address)))
        except ValueError as exc:
            raise ValueError(f"ip_addresses: {address!r} is not an IP address") from exc
    if not alternative_names and usage != "client":
        raise ValueError("dns_names/ip_addresses: a server certificate needs at least one")
    if alternative_names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(alternative_names), critical=False
        )
    return (
        builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(_EXTENDED_USAGES[usage]), critical=False)
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CertificateFileError(path, f"cannot be read: {exc.strerror or exc}") from exc


def _write_atomically(path: Path, data: bytes, *, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have narrowed it; never widened past mode
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, path)
