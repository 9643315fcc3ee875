"""The local stack's CA: certificates real TLS peers accept (and refuse), key files
nobody else can read, clear errors for bad input."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from gie.tls import CertificateFileError, self_signed_certificate, write_key_and_certificate
from gie_cli.devstack.local_ca import CertificatePaths, LocalCA


def _server_context(paths: CertificatePaths, *, require_client: bool = False) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(paths.certificate, paths.key)
    if require_client:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(paths.ca)
    return context


def _client_context(ca: Path, client: CertificatePaths | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca))
    if client is not None:
        context.load_cert_chain(client.certificate, client.key)
    return context


async def _handshake(
    server: ssl.SSLContext, client: ssl.SSLContext, *, server_hostname: str
) -> str:
    """Connect over loopback with TLS, send a line and return the server's echo of it
    (proves the channel works both ways)."""

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(await reader.readline())
            await writer.drain()
        finally:
            writer.close()

    listener = await asyncio.start_server(echo, "127.0.0.1", 0, ssl=server)
    port = listener.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=client, server_hostname=server_hostname
        )
        writer.write(b"hello\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 5)
        writer.close()
        return line.decode().strip()
    finally:
        listener.close()
        await listener.wait_closed()


def _certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


@pytest.mark.parametrize("server_hostname", ["localhost", "127.0.0.1"], ids=["dns", "ip"])
async def test_a_client_trusting_the_ca_accepts_the_service_certificate(
    tmp_path: Path, server_hostname: str
) -> None:
    ca = LocalCA.create(tmp_path / "pki")
    paths = ca.issue("picker")
    assert (
        await _handshake(
            _server_context(paths), _client_context(paths.ca), server_hostname=server_hostname
        )
        == "hello"
    )


async def test_a_client_trusting_another_ca_refuses_the_certificate(tmp_path: Path) -> None:
    paths = LocalCA.create(tmp_path / "one").issue("picker")
    other = LocalCA.create(tmp_path / "other")
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"):
        await _handshake(
            _server_context(paths), _client_context(other.ca_path), server_hostname="localhost"
        )


async def test_a_name_not_in_the_certificate_is_refused(tmp_path: Path) -> None:
    paths = LocalCA.create(tmp_path).issue("picker", dns_names=["picker.gie"], ip_addresses=[])
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        await _handshake(
            _server_context(paths), _client_context(paths.ca), server_hostname="localhost"
        )


async def test_an_expired_certificate_is_refused(tmp_path: Path) -> None:
    ca = LocalCA.create(tmp_path)
    paths = ca.issue(
        "picker",
        not_before=datetime.now(UTC) - timedelta(days=2),
        valid_for=timedelta(days=1),
    )
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate has expired"):
        await _handshake(
            _server_context(paths), _client_context(paths.ca), server_hostname="localhost"
        )


async def test_mutual_tls_needs_a_client_certificate_from_the_ca(tmp_path: Path) -> None:
    ca = LocalCA.create(tmp_path)
    server = _server_context(ca.issue("picker", usage="server"), require_client=True)
    client = ca.issue("envoy", usage="client")
    assert (
        await _handshake(server, _client_context(ca.ca_path, client), server_hostname="localhost")
        == "hello"
    )
    stranger = LocalCA.create(tmp_path / "other").issue("envoy", usage="client")
    for refused in (_client_context(ca.ca_path), _client_context(ca.ca_path, stranger)):
        # TLS 1.3: the client's handshake ends before the server judges it; the server
        # closes instead of echoing.
        try:
            echoed = await _handshake(server, refused, server_hostname="localhost")
        except (ssl.SSLError, ConnectionError):
            echoed = ""
        assert echoed == ""


def test_the_certificate_carries_the_names_usages_and_validity_asked_for(
    tmp_path: Path,
) -> None:
    ca = LocalCA.create(tmp_path)
    paths = ca.issue(
        "flow-controller",
        dns_names=["localhost", "flow.gie.local"],
        ip_addresses=["127.0.0.1", "::1"],
        usage="server",
        valid_for=timedelta(hours=3),
    )
    certificate = _certificate(paths.certificate)
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost", "flow.gie.local"]
    assert names.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.SERVER_AUTH]
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert lifetime == timedelta(hours=3)
    certificate.verify_directly_issued_by(_certificate(ca.ca_path))


def test_keys_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    ca = LocalCA.create(tmp_path / "pki")
    paths = ca.issue("picker")
    for key in (paths.key, tmp_path / "pki" / "ca-key.pem"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    assert stat.S_IMODE((tmp_path / "pki").stat().st_mode) == 0o700


def test_a_loaded_ca_issues_certificates_the_same_ca_verifies(tmp_path: Path) -> None:
    LocalCA.create(tmp_path)
    reopened = LocalCA.load(tmp_path)
    paths = reopened.issue("picker")
    _certificate(paths.certificate).verify_directly_issued_by(_certificate(reopened.ca_path))


def test_reissuing_replaces_the_pair_with_a_new_key(tmp_path: Path) -> None:
    ca = LocalCA.create(tmp_path)
    first = ca.issue("picker")
    old_key = first.key.read_bytes()
    second = ca.issue("picker")
    assert second == first
    assert first.key.read_bytes() != old_key


def test_loading_a_directory_without_a_ca_names_the_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CertificateFileError, match=r"ca\.pem: cannot be read"):
        LocalCA.load(tmp_path)


def test_a_key_that_does_not_match_its_certificate_is_refused(tmp_path: Path) -> None:
    ca = LocalCA.create(tmp_path)
    stray = self_signed_certificate("stray", dns_names=["x"], valid_for=timedelta(days=1))
    write_key_and_certificate(
        stray, certificate_path=tmp_path / "stray.pem", key_path=tmp_path / "ca-key.pem"
    )
    del ca
    with pytest.raises(CertificateFileError, match=r"ca-key\.pem: does not match"):
        LocalCA.load(tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "Picker"}, "name"),
        ({"name": "../picker"}, "name"),
        ({"name": "ca"}, "name"),
        ({"name": "picker", "ip_addresses": ["localhost"]}, "ip_addresses"),
        ({"name": "picker", "dns_names": [], "ip_addresses": []}, "dns_names"),
        ({"name": "picker", "valid_for": timedelta(0)}, "valid_for"),
    ],
    ids=["uppercase", "path", "ca-name", "ip-not-an-ip", "no-names", "no-validity"],
)
def test_bad_input_is_a_value_error_naming_the_field(
    tmp_path: Path, kwargs: dict[str, object], field: str
) -> None:
    ca = LocalCA.create(tmp_path)
    with pytest.raises(ValueError, match=field):
        ca.issue(**kwargs)  # type: ignore[arg-type]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ca-key.pem", "ca.pem"]
