"""Settings of the ingest service (environment, prefix ``GIE_``).

``GIE_DISCOVERY`` picks where the pool's members come from:

* ``file``: the static pool file ``GIE_POOL_FILE`` (required in this mode only);
* ``kubernetes``: the InferencePool named by ``GIE_POOL`` and the Pods it selects,
  plus the pool's InferenceObjectives and InferenceModelRewrites;
* ``selector``: no InferencePool; the Pods of ``GIE_POOL``'s namespace matching
  ``GIE_ENDPOINT_SELECTOR``, on ``GIE_TARGET_PORTS``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from gie.config import ServiceSettings
from gie.label_selector import LabelSelectorError, format_selector, parse_selector

POOL_GROUPS = ("inference.networking.k8s.io", "inference.networking.x-k8s.io")
MAX_TARGET_PORTS = 8


class IngestSettings(ServiceSettings):
    discovery: Literal["file", "kubernetes", "selector"] = Field(
        default="file",
        description="Where endpoints come from: `file` (GIE_POOL_FILE), `kubernetes` "
        "(the InferencePool GIE_POOL and its Pods), `selector` (Pods matching "
        "GIE_ENDPOINT_SELECTOR, no InferencePool).",
    )
    pool_file: Path | None = Field(
        default=None,
        description="YAML pool file: pool name and endpoints (required with discovery `file`).",
    )
    pool_file_poll_s: float = Field(
        default=2.0, gt=0, description="How often the pool file is checked for changes."
    )
    kubeconfig: Path | None = Field(
        default=None,
        description="Kubeconfig file; unset: in-cluster config when KUBERNETES_SERVICE_HOST "
        "is set, else $KUBECONFIG or ~/.kube/config.",
    )
    pool_group: str = Field(
        default="inference.networking.k8s.io",
        description="API group of the InferencePool: `inference.networking.k8s.io` (v1) or "
        "the deprecated `inference.networking.x-k8s.io` (v1alpha2).",
    )
    endpoint_selector: str | None = Field(
        default=None,
        description="Label selector of the model-server Pods (discovery `selector`), "
        "e.g. `app=vllm,tier in (a,b)`.",
    )
    target_ports: str | None = Field(
        default=None,
        description="Comma-separated ports of each Pod, 1 to 8 (discovery `selector`); "
        "several ports are data-parallel ranks.",
    )
    kube_watch_timeout_s: int = Field(
        default=300,
        ge=1,
        le=3600,
        description="Watch requests ask the API server to end them after this long; the "
        "watch then resumes from the last resourceVersion seen.",
    )
    kube_backoff_max_s: float = Field(
        default=30.0, gt=0, description="Longest wait before retrying a failed watch."
    )
    admin_port: int = Field(default=9093, ge=0, le=65535, description="Port of the admin app.")

    @field_validator("pool_group")
    @classmethod
    def _check_group(cls, value: str) -> str:
        if value not in POOL_GROUPS:
            raise ValueError(f"pool_group must be one of {', '.join(POOL_GROUPS)}; got {value!r}")
        return value

    @field_validator("kubeconfig")
    @classmethod
    def _check_kubeconfig(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"kubeconfig: no such file: {value}")
        return value

    @field_validator("endpoint_selector")
    @classmethod
    def _check_selector(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return format_selector(parse_selector(value))
        except LabelSelectorError as exc:
            raise ValueError(f"endpoint_selector: {exc}") from exc

    @field_validator("target_ports")
    @classmethod
    def _check_ports(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parse_target_ports(value)
        return value

    @model_validator(mode="after")
    def _check_mode(self) -> Self:
        if self.discovery == "file" and self.pool_file is None:
            raise ValueError("GIE_POOL_FILE is required when GIE_DISCOVERY is file")
        if self.discovery != "file" and self.pool_file is not None:
            raise ValueError(
                f"GIE_POOL_FILE is only read when GIE_DISCOVERY is file (it is {self.discovery})"
            )
        selector_mode = self.discovery == "selector"
        for name, value in (
            ("GIE_ENDPOINT_SELECTOR", self.endpoint_selector),
            ("GIE_TARGET_PORTS", self.target_ports),
        ):
            if selector_mode and value is None:
                raise ValueError(f"{name} is required when GIE_DISCOVERY is selector")
            if not selector_mode and value is not None:
                raise ValueError(
                    f"{name} is only read when GIE_DISCOVERY is selector (it is {self.discovery})"
                )
        return self

    def ports(self) -> tuple[int, ...]:
        """GIE_TARGET_PORTS as numbers (discovery ``selector``)."""
        return parse_target_ports(self.target_ports or "")


def parse_target_ports(value: str) -> tuple[int, ...]:
    """``"8000,8001"`` → ``(8000, 8001)``; ValueError naming GIE_TARGET_PORTS otherwise."""
    parts = [part.strip() for part in value.split(",")]
    ports: list[int] = []
    for part in parts:
        if not part.isdigit() or not 1 <= int(part) <= 65535:
            raise ValueError(f"target_ports: {part!r} is not a port number (1-65535)")
        if int(part) in ports:
            raise ValueError(f"target_ports: port {part} is listed twice")
        ports.append(int(part))
    if not 1 <= len(ports) <= MAX_TARGET_PORTS:
        raise ValueError(f"target_ports: 1 to {MAX_TARGET_PORTS} ports, got {len(ports)}")
    return tuple(ports)
