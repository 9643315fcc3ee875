"""A self-signed certificate only when asked for, with a loud warning; made once for
every picker worker; half-given TLS settings are refused naming the fields."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography import x509
from pydantic import ValidationError

from gie.tls import (
    CertificateFileError,
    FlowControlClientTlsSettings,
    client_channel_credentials,
    server_credentials,
)
from gie_picker.server.workers import prepare_worker_tls
from gie_picker.settings import PickerSettings
from tests.support.logs import captured_logs


def test_no_tls_settings_mean_plaintext() -> None:
    assert (
        server_credentials(PickerSettings(), server="ext_proc", host="0.0.0.0", registry=None)
        is None
    )


def test_self_signed_is_made_and_warned_about() -> None:
    settings = PickerSettings(grpc_tls_self_signed=True)
    with captured_logs("gie.tls") as logs:
        tls = server_credentials(settings, server="ext_proc", host="10.1.2.3", registry=None)
    assert tls is not None
    (warning,) = [entry for entry in logs if entry["level"] == "warning"]
    assert "SELF-SIGNED" in warning["event"] and "NOT authenticated" in warning["event"]
    certificate = x509.load_pem_x509_certificate(tls.files.certificate.read_bytes())
    assert certificate.issuer == certificate.subject
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert "10.1.2.3" in [str(ip) for ip in names.get_values_for_type(x509.IPAddress)]
    assert oct(tls.files.key.stat().st_mode & 0o777) == "0o600"


def test_workers_share_one_self_signed_certificate(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GIE_GRPC_TLS_SELF_SIGNED", "GIE_GRPC_TLS_CERT_FILE", "GIE_GRPC_TLS_KEY_FILE"):
        monkeypatch.setenv(name, "")  # restored (unset) after the test: the call sets them
        monkeypatch.delenv(name)
    prepare_worker_tls(PickerSettings(grpc_tls_self_signed=True, workers=2))
    assert os.environ["GIE_GRPC_TLS_SELF_SIGNED"] == "false"
    worker = PickerSettings()  # what every worker reads from the environment
    files = worker.grpc_server_tls_files()
    assert files is not None and files.certificate.exists() and files.key.exists()


def test_workers_do_not_start_with_an_unusable_certificate(tmp_path: Path) -> None:
    (tmp_path / "tls.crt").write_text("not a certificate")
    (tmp_path / "tls.key").write_text("not a key")
    settings = PickerSettings(
        grpc_tls_cert_file=tmp_path / "tls.crt", grpc_tls_key_file=tmp_path / "tls.key", workers=2
    )
    with pytest.raises(CertificateFileError, match=r"tls\.crt: not PEM"):
        prepare_worker_tls(settings)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"grpc_tls_cert_file": "c.pem"}, "grpc_tls_cert_file and grpc_tls_key_file"),
        (
            {"grpc_tls_cert_file": "c", "grpc_tls_key_file": "k", "grpc_tls_self_signed": True},
            "grpc_tls_self_signed excludes",
        ),
        ({"grpc_tls_client_ca_file": "ca.pem"}, "grpc_tls_client_ca_file needs"),
        ({"flow_control_tls_cert_file": "c.pem"}, "flow_control_tls_cert_file and"),
        (
            {"flow_control_tls_cert_file": "c", "flow_control_tls_key_file": "k"},
            "flow_control_tls_cert_file needs flow_control_tls_ca_file",
        ),
    ],
    ids=[
        "cert-without-key",
        "files-and-self-signed",
        "client-ca-without-tls",
        "client-cert-without-key",
        "client-cert-without-ca",
    ],
)
def test_half_given_tls_settings_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PickerSettings(**fields)  # type: ignore[arg-type]


def test_a_missing_flow_control_ca_is_an_error_naming_it(tmp_path: Path) -> None:
    settings = FlowControlClientTlsSettings(flow_control_tls_ca_file=tmp_path / "ca.pem")
    with pytest.raises(CertificateFileError, match=r"ca\.pem: cannot be read"):
        client_channel_credentials(settings)
