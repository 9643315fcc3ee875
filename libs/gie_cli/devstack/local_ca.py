"""The local stack's certificate authority: a CA made at start and a certificate per
service, as PEM files in one directory.

Layout of the directory (mode 0700)::

    ca.pem                the CA certificate every party trusts
    ca-key.pem            its key (0600); only ``gie up`` uses it, to issue
    <name>.pem            a service's certificate (server, client or both)
    <name>-key.pem        its key (0600)

:meth:`LocalCA.create` makes the CA; :meth:`LocalCA.load` reopens one already on disk
(to issue more, or rotate); :meth:`LocalCA.issue` writes a service's pair and returns
its :class:`CertificatePaths`. Certificates carry DNS names and IP addresses as
subject alternative names (``localhost`` and ``127.0.0.1`` by default: the stack binds
loopback only). Re-issuing a name replaces its files atomically (key first), so a
server that watches them picks up the new pair whole.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from gie.tls import (
    CertificateUsage,
    KeyAndCertificate,
    issue_certificate,
    load_key_and_certificate,
    make_ca,
    write_key_and_certificate,
)

__all__ = [
    "CA_VALIDITY",
    "LOCAL_DNS_NAMES",
    "LOCAL_IP_ADDRESSES",
    "SERVICE_VALIDITY",
    "CertificatePaths",
    "LocalCA",
]

CA_VALIDITY = timedelta(days=30)
SERVICE_VALIDITY = timedelta(days=7)
LOCAL_DNS_NAMES = ("localhost",)
LOCAL_IP_ADDRESSES = ("127.0.0.1",)

_CA_CERT = "ca.pem"
_CA_KEY = "ca-key.pem"
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{0,62}$")


@dataclass(frozen=True)
class CertificatePaths:
    """Where one party's certificate, key and the CA that verifies its peers live."""

    certificate: Path
    key: Path
    ca: Path


class LocalCA:
    """A CA whose certificate and key are files in ``directory``."""

    def __init__(self, directory: Path, authority: KeyAndCertificate) -> None:
        self.directory = directory
        self._authority = authority

    @property
    def ca_path(self) -> Path:
        return self.directory / _CA_CERT

    @classmethod
    def create(
        cls,
        directory: Path,
        *,
        common_name: str = "gie local CA",
        valid_for: timedelta = CA_VALIDITY,
    ) -> LocalCA:
        """Make a new CA and write it into ``directory`` (created 0700 if missing)."""
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        directory.chmod(0o700)
        authority = make_ca(common_name, valid_for=valid_for)
        write_key_and_certificate(
            authority, certificate_path=directory / _CA_CERT, key_path=directory / _CA_KEY
        )
        return cls(directory, authority)

    @classmethod
    def load(cls, directory: Path) -> LocalCA:
        """The CA already in ``directory``; raises CertificateFileError naming a missing
        or bad file."""
        authority = load_key_and_certificate(
            certificate_path=directory / _CA_CERT, key_path=directory / _CA_KEY
        )
        return cls(directory, authority)

    def issue(
        self,
        name: str,
        *,
        dns_names: Sequence[str] = LOCAL_DNS_NAMES,
        ip_addresses: Sequence[str] = LOCAL_IP_ADDRESSES,
        usage: CertificateUsage = "server-and-client",
        valid_for: timedelta = SERVICE_VALIDITY,
        not_before: datetime | None = None,
    ) -> CertificatePaths:
        """Issue (or re-issue) the certificate ``<name>.pem`` with key ``<name>-key.pem``.

        ``name`` is also the certificate's common name; it must be a lowercase DNS-like
        label (letters, digits, ``.``, ``-``), so it is a safe file name. Raises
        ValueError naming the bad field.
        """
        if not _NAME.match(name) or name in {"ca", "ca-key"}:
            raise ValueError(
                f"name: {name!r} must be 1-63 lowercase letters, digits, '.' or '-' (and not 'ca')"
            )
        pair = issue_certificate(
            self._authority,
            name,
            dns_names=dns_names,
            ip_addresses=ip_addresses,
            usage=usage,
            valid_for=valid_for,
            not_before=not_before,
        )
        paths = self.paths(name)
        write_key_and_certificate(pair, certificate_path=paths.certificate, key_path=paths.key)
        return paths

    def paths(self, name: str) -> CertificatePaths:
        """Where ``name``'s files are (whether or not issued yet)."""
        return CertificatePaths(
            certificate=self.directory / f"{name}.pem",
            key=self.directory / f"{name}-key.pem",
            ca=self.ca_path,
        )
