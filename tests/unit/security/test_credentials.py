"""Client credentials: a password file is read at each connection, a bad one is an
error naming the file and the setting, TLS options come from the CA file, and the
settings refuse a password file without a user."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from pydantic import ValidationError

from gie.config import ServiceSettings
from gie.security import CredentialsError, NatsCredentials, RedisCredentials
from gie.service import nats_credentials
from gie_cli.devstack.local_ca import LocalCA


def test_no_credentials_means_anonymous_plain_tcp() -> None:
    assert NatsCredentials().connect_options() == {}
    assert RedisCredentials().client_options() == {}


def test_the_password_file_is_read_at_each_connection(tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text("first\n")
    credentials = NatsCredentials(user="gie-picker", password_file=password)
    assert credentials.connect_options() == {"user": "gie-picker", "password": "first"}
    password.write_text("rotated")
    assert credentials.connect_options()["password"] == "rotated"


@pytest.mark.parametrize(("content", "error"), [(None, "cannot read"), ("  \n", "is empty")])
def test_a_bad_password_file_names_the_file_and_the_setting(
    tmp_path: Path, content: str | None, error: str
) -> None:
    password = tmp_path / "password"
    if content is not None:
        password.write_text(content)
    with pytest.raises(CredentialsError, match=f"nats_password_file: .*{error}"):
        NatsCredentials(user="u", password_file=password).connect_options()
    with pytest.raises(CredentialsError, match=f"redis_password_file: .*{error}"):
        RedisCredentials(username="u", password_file=password).client_options()


def test_a_ca_file_turns_tls_on_and_verifies(tmp_path: Path) -> None:
    ca = LocalCA.create(tmp_path / "ca")
    options = NatsCredentials(tls_ca_file=ca.ca_path).connect_options()
    context = options["tls"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    redis = RedisCredentials(tls_ca_file=ca.ca_path).client_options()
    assert redis == {"ssl_ca_certs": str(ca.ca_path)}


def test_an_unreadable_ca_file_is_an_error_naming_the_settings(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="nats_tls_"):
        NatsCredentials(tls_ca_file=tmp_path / "missing.pem").connect_options()


def test_a_service_with_a_user_receives_under_its_own_inbox(tmp_path: Path) -> None:
    settings = ServiceSettings(nats_user="gie-picker", nats_password_file=tmp_path / "p")
    assert nats_credentials(settings, "picker").inbox_prefix == "_GIE_INBOX.picker"
    assert nats_credentials(ServiceSettings(), "picker").inbox_prefix is None


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"nats_password_file": Path("p")}, "nats_password_file is set but nats_user is not"),
        ({"nats_tls_cert_file": Path("c")}, "nats_tls_cert_file and nats_tls_key_file"),
    ],
    ids=["password-without-user", "cert-without-key"],
)
def test_incomplete_settings_are_refused(fields: dict[str, Path], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        ServiceSettings(**fields)  # type: ignore[arg-type]
