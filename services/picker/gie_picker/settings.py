"""Settings of the picker (environment, prefix ``GIE_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator

from gie.config import ServiceSettings
from gie.tls import FlowControlClientTlsSettings, GrpcServerTlsSettings

# Once caught up, events are read in bursts at least this often (and before decisions):
# most events a picker follows are the collector's metrics (every endpoint, up to 20
# a second each) and waking up for each one cost more than all the routing did.
EVENT_READ_DELAY_S = 0.5
MULTI_WORKER_READ_DELAY_S = EVENT_READ_DELAY_S
RIDE_ALONG_SHARE = 0.2  # of GIE_ROUTING_EVENT_BATCH_S, per worker
# Each worker of a multi-worker picker follows every other worker's routing events:
# unless set, it batches its own and settles before decisions half as often as a
# single process (the other workers learn of a decision up to ~0.2 s late).
MULTI_WORKER_BATCH_S = 0.1
MULTI_WORKER_SETTLE_INTERVAL_S = 0.1


class PickerSettings(ServiceSettings, GrpcServerTlsSettings, FlowControlClientTlsSettings):
    config_file: Path | None = Field(
        default=None,
        description="EndpointPickerConfig YAML (upstream format); unset: the upstream "
        "chart's default configuration.",
    )
    inflight_ttl_s: float = Field(
        default=600.0, gt=0, description="In-flight requests without a completion expire."
    )
    prefix_snapshot_interval_s: float = Field(
        default=60.0,
        ge=0,
        description="How often the prefix index is snapshotted for warm starts (0: never).",
    )
    confirm_routing_events: bool = Field(
        default=False,
        description="Wait for JetStream's acknowledgement of every routing event "
        "(off: events are handed to the connection, cheaper; a few may be lost when "
        "the connection drops).",
    )
    routing_event_batch_s: float = Field(
        default=0.05,
        ge=0,
        le=5.0,
        description="Longest a routing event waits to share one NATS message with "
        "others (a batch; the other replicas learn of a decision at most this late; "
        "under steady traffic batches go out after a fifth of it). 0: one message per "
        "event. Ignored with confirm_routing_events. Unset in a multi-worker picker: "
        "0.1 in each worker.",
    )
    routing_event_ride_along_s: float | None = Field(
        default=None,
        ge=0,
        le=5.0,
        description="Under steady traffic, how long the oldest held routing event waits "
        "before its batch goes out with a later decision (at most "
        "GIE_ROUTING_EVENT_BATCH_S). Unset: a fifth of GIE_ROUTING_EVENT_BATCH_S, times "
        "the number of workers in each worker of a multi-worker picker (each sees a "
        "share of the traffic: batches as large as one process's).",
    )
    routing_event_batch_max: int = Field(
        default=64, ge=1, le=10_000, description="Most routing events in one batch message."
    )
    flow_control_targets: str = Field(
        default="",
        description="FlowControl gRPC targets, comma-separated host:port (or one "
        "dns:/// name); required when the config enables the flowControl gate.",
    )
    event_read_delay_s: float | None = Field(
        default=None,
        ge=0,
        description="Once caught up, read events in bursts: before every routing "
        "decision, and at least this often in between, instead of one wake-up per event "
        "(0: read every event as it arrives; unset: 0.5; most events a picker follows are "
        "the collector's metrics, and the other workers' decisions in a multi-worker "
        "picker).",
    )
    event_settle_interval_s: float = Field(
        default=0.05,
        ge=0,
        le=5.0,
        description="While reading in bursts: a routing decision first reads what has "
        "arrived only if the last decision to do so was at least this long ago, so the "
        "other replicas' decisions reach this one at most this much later (0: every "
        "decision reads first). Unset in a multi-worker picker: 0.1 in each worker.",
    )
    grpc_host: str = Field(default="127.0.0.1", description="Bind address of ext_proc gRPC.")
    grpc_port: int = Field(default=9002, ge=0, le=65535, description="Port of ext_proc gRPC.")
    admin_port: int = Field(default=9090, ge=0, le=65535)
    max_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        gt=0,
        le=1024 * 1024 * 1024,
        description="Largest request body accepted (413 above); at most 1 GiB.",
    )
    default_body_mode: Literal["FULL_DUPLEX_STREAMED", "BUFFERED"] = Field(
        default="FULL_DUPLEX_STREAMED",
        description="Request body mode assumed when Envoy does not announce one.",
    )
    workers: int = Field(
        default=1, ge=1, le=64, description="Worker processes sharing the ext_proc port."
    )
    worker_port_base: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="With several workers, worker i also listens on this port + i, so a "
        "gateway can list every worker as its own host (0: shared port only).",
    )
    worker_index: int = Field(default=0, ge=0, description="Set by the supervisor.")
    completion_records: bool = Field(
        default=False,
        description="The gateway sends completion records: serve the gRPC access-log "
        "service on the ext_proc port and, for requests whose response Envoy does not "
        "send to the picker (response_body_mode NONE), publish RequestCompleted from the "
        "gateway's record (status, served endpoint, duration, usage read by Envoy). Off: "
        "such a request completes when its ext_proc stream ends, without usage. The "
        "local stack and the chart turn it on with the Envoy they configure.",
    )
    body_chunk_bytes: int = Field(
        default=62_000, gt=0, description="Chunk size when re-streaming the request body."
    )

    @property
    def effective_event_read_delay_s(self) -> float:
        """``event_read_delay_s``, or the default when unset (0: read on arrival)."""
        if self.event_read_delay_s is None:
            return EVENT_READ_DELAY_S
        return self.event_read_delay_s

    @model_validator(mode="after")
    def _ride_along_within_the_batch(self) -> Self:
        ride_along = self.routing_event_ride_along_s
        if ride_along is not None and ride_along > self.routing_event_batch_s:
            raise ValueError(
                f"routing_event_ride_along_s ({ride_along}) must not exceed "
                f"routing_event_batch_s ({self.routing_event_batch_s})"
            )
        return self
