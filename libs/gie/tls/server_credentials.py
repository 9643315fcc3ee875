"""gRPC server credentials read from certificate files and reloaded when they change.

:class:`ReloadingServerCredentials` reads a certificate chain and its key (and, for
mutual TLS, the CA that client certificates must chain to) and hands gRPC *dynamic*
server credentials: before every new connection's handshake gRPC asks for the current
configuration, and gets a new one only when the files changed. Connections already
open keep the session they negotiated, so a rotation drops no stream; the next
connection gets the new certificate.

The files are looked at (``stat``) at most once per ``check_interval_s`` from the
handshake path; :meth:`ReloadingServerCredentials.check` does the same from a periodic
task so expiry and bad files are reported even when no client connects. A change is
read whole and checked (the key matches the certificate; the certificate is within its
validity) before it is served: a bad or half-written pair is logged and counted and the
previous pair stays in service. An expired certificate is served (clients will refuse
it: their error is the one to see) but logged as an error and shown by
``gie_tls_certificate_expired``.

Concurrency: gRPC calls the fetcher on its own threads; all state is guarded by one
lock, and the metrics are ``prometheus_client``'s (thread-safe).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import grpc
import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge

from gie.tls.errors import CertificateFileError

__all__ = ["ReloadingServerCredentials", "ServerTlsFiles", "TlsMetrics", "read_file"]

_log = structlog.get_logger("gie.tls")
_Signature = tuple[tuple[int, int, int, int], ...]


@dataclass(frozen=True)
class ServerTlsFiles:
    """The files a TLS server reads: its chain and key, and for mTLS the client CA."""

    certificate: Path
    key: Path
    client_ca: Path | None = None

    def paths(self) -> tuple[Path, ...]:
        return (self.certificate, self.key, *([self.client_ca] if self.client_ca else []))


class TlsMetrics:
    """``gie_tls_*``: the serving certificate's state per server (``ext_proc``,
    ``flow_control``, ...)."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.not_after = Gauge(
            "gie_tls_certificate_not_after_timestamp_seconds",
            "When the certificate being served expires (Unix time).",
            ["server"],
            registry=registry,
        )
        self.expired = Gauge(
            "gie_tls_certificate_expired",
            "1 while the certificate being served is outside its validity (peers refuse it).",
            ["server"],
            registry=registry,
        )
        self.reloads = Counter(
            "gie_tls_certificate_reloads_total",
            "Certificate files read and put in service after they changed.",
            ["server"],
            registry=registry,
        )
        self.errors = Counter(
            "gie_tls_certificate_errors_total",
            "Problems with the certificate files, by reason: unreadable (missing, not PEM, "
            "key does not match), expired, not_yet_valid.",
            ["server", "reason"],
            registry=registry,
        )


@dataclass(frozen=True)
class _Loaded:
    signature: _Signature
    configuration: grpc.ServerCertificateConfiguration
    not_before: datetime
    not_after: datetime
    subject: str
    generation: int


class ReloadingServerCredentials:
    """Dynamic gRPC server credentials over :class:`ServerTlsFiles`.

    Raises :class:`CertificateFileError` at construction when the files cannot be used
    (a server MUST NOT start without its certificate); later problems keep the last
    good pair in service.
    """

    def __init__(
        self,
        files: ServerTlsFiles,
        *,
        server: str,
        metrics: TlsMetrics,
        check_interval_s: float = 1.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.files = files
        self._server = server
        self._metrics = metrics
        self._check_interval_s = check_interval_s
        self._now = now
        self._lock = threading.Lock()
        self._checked_at = time.monotonic()
        self._expired = False
        self._bad_signature: _Signature | None = None
        self._loaded = self._load(self._signature(), generation=1)
        self._judge_validity()
        _log.info(
            "tls certificate loaded",
            server=server,
            certificate=str(files.certificate),
            subject=self._loaded.subject,
            not_after=self._loaded.not_after.isoformat(),
            client_certificates="required" if files.client_ca else "not requested",
        )

    @property
    def generation(self) -> int:
        """1 for the pair read at start, one more for each reload."""
        return self._loaded.generation

    def credentials(self) -> grpc.ServerCredentials:
        """Credentials for one port (each port tracks what it was last handed)."""
        handed = self._loaded.generation

        def fetch() -> grpc.ServerCertificateConfiguration | None:
            nonlocal handed
            self._check(throttled=True)
            loaded = self._loaded
            if loaded.generation == handed:
                return None
            handed = loaded.generation
            return loaded.configuration

        # gRPC documents None as "no change"; the type stubs do not say so.
        fetcher = cast(Callable[[], grpc.ServerCertificateConfiguration], fetch)
        return grpc.dynamic_ssl_server_credentials(
            self._loaded.configuration,
            fetcher,
            require_client_authentication=self.files.client_ca is not None,
        )

    def check(self) -> bool:
        """Reload the files if they changed; True when a new pair went into service."""
        return self._check(throttled=False)

    def _check(self, *, throttled: bool) -> bool:
        with self._lock:
            if throttled and time.monotonic() - self._checked_at < self._check_interval_s:
                return False
            self._checked_at = time.monotonic()
            reloaded = self._reload_if_changed()
            self._judge_validity()
            return reloaded

    def _reload_if_changed(self) -> bool:
        try:
            signature = self._signature()
        except CertificateFileError as exc:
            self._report_bad((), exc)  # () stands for "a file is missing": reported once
            return False
        if signature == self._loaded.signature:
            self._bad_signature = None  # back to the files in service
            return False
        if signature == self._bad_signature:
            return False
        try:
            loaded = self._load(signature, generation=self._loaded.generation + 1)
        except CertificateFileError as exc:
            self._report_bad(signature, exc)
            return False
        self._loaded, self._bad_signature = loaded, None
        self._metrics.reloads.labels(self._server).inc()
        _log.info(
            "tls certificate reloaded",
            server=self._server,
            certificate=str(self.files.certificate),
            subject=loaded.subject,
            not_after=loaded.not_after.isoformat(),
            generation=loaded.generation,
        )
        return True

    def _report_bad(self, signature: _Signature, exc: CertificateFileError) -> None:
        if signature == self._bad_signature:
            return
        self._bad_signature = signature
        self._metrics.errors.labels(self._server, "unreadable").inc()
        _log.error(
            "tls certificate files unusable; still serving the previous certificate",
            server=self._server,
            file=str(exc.path),
            reason=exc.reason,
            serving_not_after=self._loaded.not_after.isoformat(),
        )

    def _judge_validity(self) -> None:
        loaded, now = self._loaded, self._now()
        self._metrics.not_after.labels(self._server).set(loaded.not_after.timestamp())
        expired = now > loaded.not_after
        early = now < loaded.not_before
        bad = expired or early
        self._metrics.expired.labels(self._server).set(1.0 if bad else 0.0)
        if bad and not self._expired:
            reason = "expired" if expired else "not_yet_valid"
            self._metrics.errors.labels(self._server, reason).inc()
            _log.error(
                "tls certificate EXPIRED: peers will refuse every new connection"
                if expired
                else "tls certificate not yet valid: peers will refuse every new connection",
                server=self._server,
                certificate=str(self.files.certificate),
                subject=loaded.subject,
                not_before=loaded.not_before.isoformat(),
                not_after=loaded.not_after.isoformat(),
            )
        self._expired = bad

    def _signature(self) -> _Signature:
        signature = []
        for path in self.files.paths():
            try:
                status = os.stat(path)
            except OSError as exc:
                raise CertificateFileError(path, f"cannot be read: {exc.strerror}") from exc
            signature.append((status.st_ino, status.st_size, status.st_mtime_ns, status.st_dev))
        return tuple(signature)

    def _load(self, signature: _Signature, *, generation: int) -> _Loaded:
        # cryptography is loaded only by a service that serves TLS (see gie.tls).
        from cryptography import x509  # noqa: PLC0415
        from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

        chain = read_file(self.files.certificate)
        key = read_file(self.files.key)
        try:
            leaf = x509.load_pem_x509_certificates(chain)[0]
        except ValueError as exc:
            raise CertificateFileError(self.files.certificate, f"not PEM: {exc}") from exc
        try:
            private = serialization.load_pem_private_key(key, password=None)
        except (ValueError, TypeError) as exc:
            raise CertificateFileError(self.files.key, f"not a PEM private key: {exc}") from exc
        if private.public_key() != leaf.public_key():
            raise CertificateFileError(
                self.files.key, f"does not match the certificate {self.files.certificate}"
            )
        client_ca = None
        if self.files.client_ca is not None:
            client_ca = read_file(self.files.client_ca)
            try:
                x509.load_pem_x509_certificates(client_ca)
            except ValueError as exc:
                raise CertificateFileError(self.files.client_ca, f"not PEM: {exc}") from exc
        configuration = grpc.ssl_server_certificate_configuration(
            [(key, chain)], root_certificates=client_ca
        )
        return _Loaded(
            signature=signature,
            configuration=configuration,
            not_before=leaf.not_valid_before_utc,
            not_after=leaf.not_valid_after_utc,
            subject=leaf.subject.rfc4514_string(),
            generation=generation,
        )


def read_file(path: Path) -> bytes:
    """The file's bytes; raises CertificateFileError naming it when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CertificateFileError(path, f"cannot be read: {exc.strerror}") from exc
