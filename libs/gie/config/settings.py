"""Environment settings shared by every service (prefix ``GIE_``)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_instance_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def check_pool_name(value: str) -> str:
    """``value`` when it is ``namespace/name``; ValueError naming it otherwise."""
    namespace, sep, name = value.partition("/")
    if not sep or not namespace or not name or "/" in name:
        raise ValueError(f"pool must be namespace/name, got {value!r}")
    return value


class ServiceSettings(BaseSettings):
    """Settings every service reads. Each service subclasses it with its own."""

    model_config = SettingsConfigDict(env_prefix="GIE_", extra="ignore", frozen=True)

    nats_url: str = Field(default="nats://127.0.0.1:4222", description="NATS server URL.")
    pool: str = Field(
        default="default/sim-pool",
        description="The InferencePool this service works for, as namespace/name.",
    )
    instance_id: str = Field(
        default_factory=_default_instance_id,
        description="Unique id of this replica; the `source` of the events it publishes.",
    )
    admin_host: str = Field(default="127.0.0.1", description="Bind address of the admin app.")
    admin_port: int = Field(default=9090, ge=0, le=65535, description="Port of the admin app.")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Lowest level logged."
    )
    log_format: Literal["json", "console"] = Field(
        default="json", description="JSON lines, or human-readable console lines."
    )
    nats_connect_timeout_s: float = Field(
        default=30.0, gt=0, description="Give up start-up if NATS is unreachable this long."
    )
    stream_replicas: int = Field(
        default=1,
        ge=1,
        le=5,
        description="Copies JetStream keeps of each stream the service sets up (3 on a "
        "3-node cluster survives the loss of a node; at most the cluster's size).",
    )
    max_view_lag_s: float = Field(
        default=10.0,
        gt=0,
        description="Readiness fails when one of the service's event stream consumers has "
        "been gone from the server this long (it is re-created from the last applied "
        "event after 5 s).",
    )

    nats_user: str | None = Field(
        default=None,
        description="NATS user this service connects as (its own identity: see "
        "docs/security.md); unset: anonymous.",
    )
    nats_password_file: Path | None = Field(
        default=None,
        description="File holding the NATS user's password (a mounted Secret); read at "
        "each connection.",
    )
    nats_tls_ca_file: Path | None = Field(
        default=None,
        description="CA certificate (PEM) to verify the NATS server with; set: TLS.",
    )
    nats_tls_cert_file: Path | None = Field(
        default=None, description="Client certificate (PEM) for NATS mutual TLS."
    )
    nats_tls_key_file: Path | None = Field(
        default=None, description="Private key (PEM) of nats_tls_cert_file."
    )

    @field_validator("pool")
    @classmethod
    def _check_pool(cls, value: str) -> str:
        return check_pool_name(value)

    @model_validator(mode="after")
    def _check_nats_credentials(self) -> ServiceSettings:
        if self.nats_password_file is not None and self.nats_user is None:
            raise ValueError("nats_password_file is set but nats_user is not")
        if (self.nats_tls_cert_file is None) != (self.nats_tls_key_file is None):
            raise ValueError("nats_tls_cert_file and nats_tls_key_file go together")
        return self
