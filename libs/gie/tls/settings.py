"""TLS settings of gie's gRPC servers and clients (environment, prefix ``GIE_``).

:class:`GrpcServerTlsSettings` is mixed into the settings of every service that serves
gRPC (picker: ext_proc; flow-controller: FlowControl), so both read the same
``GIE_GRPC_TLS_*`` variables. :class:`FlowControlClientTlsSettings` is the picker's
side of the FlowControl channel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gie.tls.server_credentials import ServerTlsFiles

__all__ = ["FlowControlClientTlsSettings", "GrpcServerTlsSettings"]


class GrpcServerTlsSettings(BaseSettings):
    """How a service's gRPC server does TLS."""

    model_config = SettingsConfigDict(env_prefix="GIE_", extra="ignore", frozen=True)

    grpc_tls_cert_file: Path | None = Field(
        default=None,
        description="PEM certificate chain the gRPC server presents (with "
        "GIE_GRPC_TLS_KEY_FILE; unset: plaintext). Re-read when it changes: new "
        "connections get the new certificate, open streams keep going.",
    )
    grpc_tls_key_file: Path | None = Field(
        default=None, description="PEM private key of GIE_GRPC_TLS_CERT_FILE."
    )
    grpc_tls_client_ca_file: Path | None = Field(
        default=None,
        description="PEM CA bundle; set: every client must present a certificate signed "
        "by it (mutual TLS). Re-read with the certificate.",
    )
    grpc_tls_self_signed: bool = Field(
        default=False,
        description="Serve TLS with a self-signed certificate made at start (logged as a "
        "warning: encrypts, but clients cannot tell this server from an impostor). Only "
        "without GIE_GRPC_TLS_CERT_FILE.",
    )

    @model_validator(mode="after")
    def _tls_files_make_sense(self) -> Self:
        has_cert = self.grpc_tls_cert_file is not None
        if has_cert != (self.grpc_tls_key_file is not None):
            raise ValueError("grpc_tls_cert_file and grpc_tls_key_file go together")
        if has_cert and self.grpc_tls_self_signed:
            raise ValueError("grpc_tls_self_signed excludes grpc_tls_cert_file")
        if self.grpc_tls_client_ca_file is not None and not (has_cert or self.grpc_tls_self_signed):
            raise ValueError("grpc_tls_client_ca_file needs grpc_tls_cert_file (TLS)")
        return self

    def grpc_server_tls_files(self) -> ServerTlsFiles | None:
        """The configured files (None: plaintext, or self-signed to be made)."""
        if self.grpc_tls_cert_file is None or self.grpc_tls_key_file is None:
            return None
        return ServerTlsFiles(
            certificate=self.grpc_tls_cert_file,
            key=self.grpc_tls_key_file,
            client_ca=self.grpc_tls_client_ca_file,
        )


class FlowControlClientTlsSettings(BaseSettings):
    """How the picker's FlowControl client does TLS."""

    model_config = SettingsConfigDict(env_prefix="GIE_", extra="ignore", frozen=True)

    flow_control_tls_ca_file: Path | None = Field(
        default=None,
        description="PEM CA bundle the flow-controller's certificate must chain to; set: "
        "FlowControl calls use TLS (unset: plaintext).",
    )
    flow_control_tls_server_name: str = Field(
        default="",
        description="Name the flow-controller's certificate must carry (empty: the target's host).",
    )
    flow_control_tls_cert_file: Path | None = Field(
        default=None,
        description="PEM client certificate for mutual TLS with the flow-controller (with "
        "GIE_FLOW_CONTROL_TLS_KEY_FILE; read at start).",
    )
    flow_control_tls_key_file: Path | None = Field(
        default=None, description="PEM private key of GIE_FLOW_CONTROL_TLS_CERT_FILE."
    )

    @model_validator(mode="after")
    def _client_files_make_sense(self) -> Self:
        has_cert = self.flow_control_tls_cert_file is not None
        if has_cert != (self.flow_control_tls_key_file is not None):
            raise ValueError("flow_control_tls_cert_file and flow_control_tls_key_file go together")
        if has_cert and self.flow_control_tls_ca_file is None:
            raise ValueError("flow_control_tls_cert_file needs flow_control_tls_ca_file (TLS)")
        return self
