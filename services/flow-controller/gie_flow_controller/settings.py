"""Settings of the flow-controller (environment, prefix ``GIE_``).

Behaviour (bands, policies, limits, TTLs, shard count) comes from the ``flowControl``
section of the EndpointPickerConfig file; these are operational knobs.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from gie.config import ServiceSettings
from gie.tls import GrpcServerTlsSettings


class FlowControllerSettings(ServiceSettings, GrpcServerTlsSettings):
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", description="Redis URL.")
    redis_sentinels: str = Field(
        default="",
        description="Redis Sentinel addresses, host:port comma-separated; set: the master "
        "named redis_master_name is found through them and redis_url is not used.",
    )
    redis_master_name: str = Field(
        default="mymaster", min_length=1, description="Master name the Sentinels monitor."
    )
    redis_password: str | None = Field(
        default=None,
        description="Password of Redis (and of the Sentinels, with redis_sentinels); a "
        "password in redis_url wins over it.",
    )
    redis_username: str | None = Field(
        default=None,
        description="Redis ACL user (gie-flow-controller: see docs/security.md); unset: "
        "the default user.",
    )
    redis_password_file: Path | None = Field(
        default=None,
        description="File holding the Redis password (a mounted Secret); wins over redis_password.",
    )
    redis_tls_ca_file: Path | None = Field(
        default=None,
        description="CA certificate (PEM) to verify Redis with; use a rediss:// URL.",
    )
    redis_check_s: float = Field(default=2.0, gt=0, description="Redis health-check period.")
    admin_port: int = Field(default=9094, ge=0, le=65535)
    config_file: Path | None = Field(
        default=None,
        description="EndpointPickerConfig YAML whose flowControl and saturationDetector "
        "sections are used (the picker's file); unset: the defaults.",
    )
    grpc_host: str = Field(default="127.0.0.1", description="Bind address of FlowControl gRPC.")
    grpc_port: int = Field(default=9004, ge=0, le=65535, description="Port of FlowControl gRPC.")
    shard_lease_s: float = Field(
        default=3.0,
        gt=0,
        description="Lease of a shard; a dead replica's shards are taken over within it "
        "(renewed every third of it).",
    )
    dispatch_tick_s: float = Field(
        default=0.05, gt=0, description="A shard worker looks for work at least this often."
    )
    expiry_sweep_s: float = Field(
        default=0.25, gt=0, description="How often a shard worker evicts expired requests."
    )
    outcome_poll_s: float = Field(
        default=0.5, gt=0, description="Waiting calls poll for their outcome this often."
    )
    outcome_retention_s: float = Field(
        default=600.0,
        gt=0,
        description="Outcomes are remembered this long: a retried Admit within it gets the "
        "same answer.",
    )
    inflight_ttl_s: float = Field(
        default=600.0,
        gt=0,
        description="A dispatched request without a RequestCompleted is forgotten after this.",
    )
    housekeeping_s: float = Field(
        default=1.0, gt=0, description="Period of flow collection and gauge refresh."
    )
    drain_grace_s: float = Field(
        default=2.0, ge=0, description="Time given to running calls at shutdown."
    )

    @field_validator("redis_sentinels")
    @classmethod
    def _check_sentinels(cls, value: str) -> str:
        parse_sentinels(value)  # raises ValueError naming the bad address
        return value


def parse_sentinels(text: str) -> list[tuple[str, int]]:
    """``host:port,host:port`` as (host, port) pairs; empty text: none."""
    addresses = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        host, sep, port = item.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"a Sentinel address is host:port, got {item!r}")
        addresses.append((host, int(port)))
    return addresses
