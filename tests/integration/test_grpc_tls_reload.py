"""gRPC servers over TLS from certificate files (gie.tls): real grpc.aio servers and
clients on loopback; rotation without dropping streams, bad files, expiry, mTLS."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from prometheus_client import CollectorRegistry

from gie.tls import ReloadingServerCredentials, ServerTlsFiles, TlsMetrics
from gie_cli.devstack.local_ca import CertificatePaths, LocalCA
from tests.support.logs import captured_logs

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@dataclass
class Served:
    ca: LocalCA
    server_paths: CertificatePaths
    tls: ReloadingServerCredentials
    health: health.aio.HealthServicer
    registry: CollectorRegistry
    port: int

    def metric(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, {"server": "test", **labels})


async def _serve(
    tmp_path: Path, *, mutual: bool = False, expired: bool = False
) -> AsyncIterator[Served]:
    ca = LocalCA.create(tmp_path / "pki")
    start = datetime.now(UTC) - timedelta(days=2) if expired else None
    paths = ca.issue("server", usage="server", not_before=start, valid_for=timedelta(days=1))
    registry = CollectorRegistry()
    tls = ReloadingServerCredentials(
        ServerTlsFiles(paths.certificate, paths.key, paths.ca if mutual else None),
        server="test",
        metrics=TlsMetrics(registry),
        check_interval_s=0.0,
    )
    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_secure_port("127.0.0.1:0", tls.credentials())
    await server.start()
    await servicer.set("", SERVING)
    try:
        yield Served(ca, paths, tls, servicer, registry, port)
    finally:
        await server.stop(0)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    async for item in _serve(tmp_path):
        yield item


def _channel(
    served: Served, *, ca: Path | None = None, client: CertificatePaths | None = None
) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=(ca or served.ca.ca_path).read_bytes(),
        private_key=client.key.read_bytes() if client else None,
        certificate_chain=client.certificate.read_bytes() if client else None,
    )
    return grpc.aio.secure_channel(f"localhost:{served.port}", credentials)


async def _check(channel: grpc.aio.Channel) -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    response = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
    return int(response.status)


def _served_serial(served: Served) -> int:
    """The serial of the certificate a new connection is given (a raw TLS handshake)."""
    context = ssl.create_default_context(cafile=str(served.ca.ca_path))
    context.set_alpn_protocols(["h2"])
    with (
        socket.create_connection(("127.0.0.1", served.port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


def _serial(path: Path) -> int:
    return x509.load_pem_x509_certificate(path.read_bytes()).serial_number


async def test_a_client_trusting_the_ca_is_served(served: Served) -> None:
    async with _channel(served) as channel:
        assert await _check(channel) == SERVING
    assert served.metric("gie_tls_certificate_expired") == 0.0
    not_after = served.metric("gie_tls_certificate_not_after_timestamp_seconds")
    assert not_after is not None and not_after > datetime.now(UTC).timestamp()


async def test_a_client_trusting_another_ca_is_refused(served: Served, tmp_path: Path) -> None:
    other = LocalCA.create(tmp_path / "other")
    async with _channel(served, ca=other.ca_path) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await _check(channel)
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_rotation_serves_the_new_certificate_and_keeps_open_streams(
    served: Served,
) -> None:
    old_serial = _serial(served.server_paths.certificate)
    assert await asyncio.to_thread(_served_serial, served) == old_serial
    async with _channel(served) as channel:
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""))
        assert (await watch.read()).status == SERVING
        served.ca.issue("server", usage="server")  # rotated in place
        new_serial = _serial(served.server_paths.certificate)
        assert await asyncio.to_thread(_served_serial, served) == new_serial != old_serial
        # The stream opened before the rotation still delivers.
        await served.health.set("", NOT_SERVING)
        assert (await asyncio.wait_for(watch.read(), 5)).status == NOT_SERVING
        watch.cancel()
        assert await _check(channel) == NOT_SERVING
    async with _channel(served) as fresh:
        assert await _check(fresh) == NOT_SERVING
    assert served.tls.generation == 2
    assert served.metric("gie_tls_certificate_reloads_total") == 1.0


async def test_broken_files_keep_the_previous_certificate_in_service(served: Served) -> None:
    serial = _serial(served.server_paths.certificate)
    with captured_logs("gie.tls") as logs:
        served.server_paths.certificate.write_text("half a certificate")
        assert served.tls.check() is False
        assert served.tls.check() is False  # the same bad files: reported once
    assert await asyncio.to_thread(_served_serial, served) == serial
    async with _channel(served) as channel:
        assert await _check(channel) == SERVING
    errors = [entry for entry in logs if entry["level"] == "error"]
    assert len(errors) == 1
    assert errors[0]["file"] == str(served.server_paths.certificate)
    assert "still serving the previous certificate" in errors[0]["event"]
    assert served.metric("gie_tls_certificate_errors_total", reason="unreadable") == 1.0
    # Fixed files go into service.
    served.ca.issue("server", usage="server")
    assert served.tls.check() is True


async def test_a_missing_file_is_reported_once_and_the_old_pair_serves(served: Served) -> None:
    kept = served.server_paths.key.read_bytes()
    with captured_logs("gie.tls") as logs:
        served.server_paths.key.unlink()
        for _ in range(3):
            assert served.tls.check() is False
    errors = [entry for entry in logs if entry["level"] == "error"]
    assert [entry["file"] for entry in errors] == [str(served.server_paths.key)]
    assert "cannot be read" in errors[0]["reason"]
    async with _channel(served) as channel:
        assert await _check(channel) == SERVING
    served.server_paths.key.write_bytes(kept)  # the file is back: read and served again
    assert served.tls.check() is True
    assert served.metric("gie_tls_certificate_errors_total", reason="unreadable") == 1.0


async def test_a_key_from_another_pair_is_refused(served: Served) -> None:
    other = served.ca.issue("other", usage="server")
    served.server_paths.key.write_bytes(other.key.read_bytes())
    assert served.tls.check() is False
    assert served.metric("gie_tls_certificate_errors_total", reason="unreadable") == 1.0
    async with _channel(served) as channel:
        assert await _check(channel) == SERVING


async def test_an_expired_certificate_is_logged_and_counted(tmp_path: Path) -> None:
    with captured_logs("gie.tls") as logs:
        async for served in _serve(tmp_path, expired=True):
            assert served.metric("gie_tls_certificate_expired") == 1.0
            assert served.metric("gie_tls_certificate_errors_total", reason="expired") == 1.0
            async with _channel(served) as channel:
                with pytest.raises(grpc.aio.AioRpcError):
                    await _check(channel)
            served.tls.check()  # still expired: not counted again
            assert served.metric("gie_tls_certificate_errors_total", reason="expired") == 1.0
            served.ca.issue("server", usage="server")  # renewed
            assert served.tls.check() is True
            assert served.metric("gie_tls_certificate_expired") == 0.0
            async with _channel(served) as channel:
                assert await _check(channel) == SERVING
    expired = [entry for entry in logs if "EXPIRED" in entry["event"]]
    assert len(expired) == 1
    assert expired[0]["level"] == "error"
    assert expired[0]["certificate"].endswith("server.pem")


async def test_mutual_tls_refuses_clients_without_a_certificate_from_the_ca(
    tmp_path: Path,
) -> None:
    async for served in _serve(tmp_path, mutual=True):
        client = served.ca.issue("client", usage="client")
        async with _channel(served, client=client) as channel:
            assert await _check(channel) == SERVING
        stranger = LocalCA.create(tmp_path / "stranger").issue("client", usage="client")
        for credentials in (None, stranger):
            async with _channel(served, client=credentials) as channel:
                with pytest.raises(grpc.aio.AioRpcError) as failure:
                    await _check(channel)
            assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
