"""Settings of the metrics-collector (environment, prefix ``GIE_``).

Signal overrides mirror upstream's flags (``--total-queued-requests-metric`` becomes
``GIE_TOTAL_QUEUED_REQUESTS_METRIC``) and take upstream's spec syntax
``name{label=value,...}``; they apply to every flavour. An empty string switches an
optional signal off. Durations are in seconds.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from gie.config import ServiceSettings
from gie.saturation import SaturationConfig
from gie_metrics_collector.parsing import MetricSpec, parse_spec
from gie_metrics_collector.signals import BUILTIN_SPECS, Flavour, SignalSpecs

__all__ = ["SIGNAL_SETTINGS", "CollectorSettings"]

# Setting name -> signal it overrides.
SIGNAL_SETTINGS = {
    "total_queued_requests_metric": "queue",
    "total_running_requests_metric": "running",
    "kv_cache_usage_percentage_metric": "kv_usage",
    "lora_info_metric": "lora",
    "cache_info_metric": "cache_info",
    "prefix_cache_hits_metric": "prefix_hits",
    "prefix_cache_queries_metric": "prefix_queries",
}
_REQUIRED = {"total_queued_requests_metric", "kv_cache_usage_percentage_metric"}
_BUCKET = re.compile(r"[A-Za-z0-9_-]+")


def _spec_field(signal: str) -> Any:
    return Field(default=None, description=f"Override of the {signal} metric spec.")


class CollectorSettings(ServiceSettings):
    admin_port: int = Field(default=9092, ge=0, le=65535, description="Port of the admin app.")

    # -- scraping ----------------------------------------------------------
    scrape_interval_s: float = Field(default=0.05, gt=0, description="Scrape period per endpoint.")
    scrape_timeout_s: float = Field(default=5.0, gt=0, description="Timeout of one scrape.")
    scrape_jitter: float = Field(
        default=0.1, ge=0, lt=1, description="Random spread of each period, as a fraction."
    )
    scrape_backoff_max_s: float = Field(
        default=2.0, gt=0, description="Longest period between scrapes of a failing endpoint."
    )
    metrics_path: str = Field(default="/metrics", description="Path of the metrics page.")
    metrics_port: int | None = Field(
        default=None, ge=1, le=65535, description="Scrape this port instead of the serving port."
    )
    metrics_scheme: Literal["http", "https"] = Field(
        default="http", description="https skips certificate verification, as upstream."
    )
    max_page_bytes: int = Field(
        default=8 * 1024 * 1024, gt=0, description="Larger pages are rejected (oversized)."
    )

    # -- signals -----------------------------------------------------------
    metrics_flavour: Literal["auto", "vllm", "sglang", "trtllm"] = Field(
        default="auto",
        description="Model server of endpoints without an engine-type label; "
        "auto recognises it from the page.",
    )
    total_queued_requests_metric: str | None = _spec_field("waiting queue")
    total_running_requests_metric: str | None = _spec_field("running requests")
    kv_cache_usage_percentage_metric: str | None = _spec_field("KV-cache utilisation")
    lora_info_metric: str | None = _spec_field("LoRA info")
    cache_info_metric: str | None = _spec_field("cache config info")
    prefix_cache_hits_metric: str | None = _spec_field("prefix-cache hits")
    prefix_cache_queries_metric: str | None = _spec_field("prefix-cache queries")

    # -- publishing ----------------------------------------------------------
    heartbeat_s: float | None = Field(
        default=None,
        gt=0,
        description="Publish unchanged values at least this often "
        "(default: half of metricsStalenessThreshold).",
    )
    publish_kv_delta: float = Field(
        default=0.01, ge=0, le=1, description="KV-utilisation change that is published at once."
    )
    publish_count_delta: int = Field(
        default=1, ge=1, description="Queue or running change that is published at once."
    )
    publish_queue_size: int = Field(
        default=10_000, ge=1, description="Events waiting for the bus before new ones are dropped."
    )
    publish_concurrency: int = Field(
        default=256,
        ge=1,
        description="Events awaiting the bus's acknowledgement at once; throughput is this "
        "many per round trip.",
    )

    # -- KV-cache events (precise prefix routing) --------------------------------
    kv_events_enabled: bool = Field(
        default=True,
        description="Follow each owned endpoint's KV-event stream and republish it as Kv* events.",
    )
    kv_events_port: int = Field(
        default=5557,
        ge=1,
        le=65535,
        description="KV-event PUB port on the endpoint's host, unless its gie.dev/kv-events "
        "label gives an address.",
    )
    kv_events_replay_port: int = Field(
        default=5558,
        ge=0,
        le=65535,
        description="Replay ROUTER port on the endpoint's host, unless its "
        "gie.dev/kv-events-replay label gives an address (0: no replay).",
    )
    kv_replay_timeout_s: float = Field(
        default=1.0, gt=0, description="How long a replay may take before the gap is unfilled."
    )
    kv_max_message_bytes: int = Field(
        default=64 * 1024 * 1024,
        gt=0,
        description="Largest KV-event message (one engine step's batch) accepted from a "
        "model server; a server sending a larger one is disconnected and its batches count "
        "as lost (the endpoint's state becomes unknown until its next cache clear).",
    )
    kv_heartbeat_s: float = Field(
        default=10.0,
        ge=0,
        description="ZMTP heartbeat on the KV-event sockets: a connection that carries "
        "nothing, not even the server's heartbeat answers, for three of these (a "
        "half-open one, after a failover that sent no FIN) is dropped and made again, and "
        "what was missed is replayed (0: no heartbeat).",
    )
    prefix_key_file: Path | None = Field(
        default=None,
        description="File holding the pool's secret (at least 16 bytes) that KV block keys "
        "are keyed with; every picker and collector replica of the pool must read the same "
        "one. Unset: a public default key (block keys confirm guessed prompts).",
    )

    # -- saturation ----------------------------------------------------------
    config_file: Path | None = Field(
        default=None,
        description="EndpointPickerConfig YAML whose saturationDetector section is used.",
    )
    saturation_interval_s: float | None = Field(
        default=None,
        gt=0,
        description="How often the pool's saturation is assessed "
        "(default: the scrape interval, at most a quarter of the staleness threshold).",
    )
    gauges_interval_s: float = Field(
        default=1.0, gt=0, description="Refresh period of the pool and endpoint gauges."
    )

    # -- high availability -----------------------------------------------------
    membership_enabled: bool = Field(
        default=True, description="Split endpoints with other replicas through NATS KV."
    )
    membership_bucket: str = Field(
        default="gie-collectors", description="NATS KV bucket of collector membership."
    )
    membership_heartbeat_s: float = Field(
        default=1.0,
        gt=0,
        description="Membership heartbeat; a dead replica is replaced within two of them.",
    )
    membership_sync_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="Longest wait at start-up for the membership bucket's current members; "
        "then the replica starts with those seen so far (logged and counted).",
    )

    @field_validator(*SIGNAL_SETTINGS)
    @classmethod
    def _check_spec(cls, value: str | None) -> str | None:
        if value:
            parse_spec(value)  # raises ValueError naming the problem
        return value

    @field_validator(*_REQUIRED)
    @classmethod
    def _check_required(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("this signal is required and cannot be switched off")
        return value

    @field_validator("membership_bucket")
    @classmethod
    def _check_bucket(cls, value: str) -> str:
        if not _BUCKET.fullmatch(value):
            raise ValueError(f"bucket names use letters, digits, '-' and '_': {value!r}")
        return value

    # -- derived -------------------------------------------------------------
    def signal_specs(self) -> dict[Flavour, SignalSpecs]:
        """Built-in specs of every flavour with this collector's overrides applied."""
        overrides: dict[str, MetricSpec | None] = {}
        for setting, signal in SIGNAL_SETTINGS.items():
            value: str | None = getattr(self, setting)
            if value is not None:
                overrides[signal] = parse_spec(value) if value.strip() else None
        return {
            flavour: specs.with_overrides(overrides) for flavour, specs in BUILTIN_SPECS.items()
        }

    @property
    def pinned_flavour(self) -> Flavour | None:
        return None if self.metrics_flavour == "auto" else Flavour(self.metrics_flavour)

    def effective_heartbeat_s(self, saturation: SaturationConfig) -> float:
        return self.heartbeat_s or saturation.metrics_staleness_s / 2

    def effective_saturation_interval_s(self, saturation: SaturationConfig) -> float:
        return self.saturation_interval_s or min(
            self.scrape_interval_s, saturation.metrics_staleness_s / 4
        )
