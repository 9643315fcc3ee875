"""Errors of the TLS package.

GieTlsError
└── CertificateFileError   a certificate or key file is missing, unreadable or not PEM
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["CertificateFileError", "GieTlsError"]


class GieTlsError(Exception):
    """Base of every error raised by :mod:`gie.tls`."""


class CertificateFileError(GieTlsError):
    """A certificate or key file could not be used; names the file and why."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")
