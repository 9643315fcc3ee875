"""Run-time overrides of what a simulated server's ``/metrics`` page reports.

Tests and benchmarks use them to change a metric at a known moment (``POST /sim/overrides``)
without driving real load. An unset field (``None``) reports the engine's real value.
LoRA fields produce vLLM's ``vllm:lora_requests_info`` series: every change adds a series
whose value is the wall-clock time of the change, and older series stay on the page, as in
vLLM, so a reader must pick the newest.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from gie_sim.engine import EngineSnapshot

__all__ = ["LoraInfo", "MetricOverrides", "SimControls"]

_LORA_HISTORY = 4


class MetricOverrides(BaseModel):
    """Values that replace the engine's own on the metrics page."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    waiting: int | None = Field(default=None, ge=0)
    running: int | None = Field(default=None, ge=0)
    kv_cache_usage: float | None = Field(default=None, ge=0.0, le=1.0)
    lora_running: tuple[str, ...] | None = None
    lora_waiting: tuple[str, ...] | None = None
    max_lora: int | None = Field(default=None, ge=0)

    @property
    def touches_lora(self) -> bool:
        return any(
            value is not None for value in (self.lora_running, self.lora_waiting, self.max_lora)
        )

    def apply(self, snap: EngineSnapshot) -> EngineSnapshot:
        return dataclasses.replace(
            snap,
            num_waiting=snap.num_waiting if self.waiting is None else self.waiting,
            num_running=snap.num_running if self.running is None else self.running,
            kv_cache_usage=(
                snap.kv_cache_usage if self.kv_cache_usage is None else self.kv_cache_usage
            ),
        )


@dataclass(frozen=True, slots=True)
class LoraInfo:
    """One ``vllm:lora_requests_info`` series: adapter lists and when they were set."""

    running: tuple[str, ...]
    waiting: tuple[str, ...]
    max_lora: int
    timestamp: float

    def labels(self) -> dict[str, str]:
        return {
            "running_lora_adapters": ",".join(self.running),
            "waiting_lora_adapters": ",".join(self.waiting),
            "max_lora": str(self.max_lora),
        }


@dataclass(slots=True)
class SimControls:
    """The mutable run-time state of one server's metrics page (faults live beside it)."""

    overrides: MetricOverrides = field(default_factory=MetricOverrides)
    lora: list[LoraInfo] = field(default_factory=list)

    def set_overrides(self, overrides: MetricOverrides) -> None:
        self.overrides = overrides
        if not overrides.touches_lora:
            return
        info = LoraInfo(
            running=overrides.lora_running or (),
            waiting=overrides.lora_waiting or (),
            max_lora=overrides.max_lora or 0,
            timestamp=time.time(),
        )
        # One series per label set, as in a Prometheus registry: a repeated set moves up.
        self.lora = [old for old in self.lora if old.labels() != info.labels()]
        self.lora.append(info)
        del self.lora[:-_LORA_HISTORY]
