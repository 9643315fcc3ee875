"""LoRA adapters from vLLM's ``vllm:lora_requests_info``.

Each change of the adapter sets adds a series whose labels carry the lists
(``running_lora_adapters``, ``waiting_lora_adapters``, comma-separated, and ``max_lora``)
and whose value is the time of the change; older series stay on the page. The newest
series wins, including one with empty lists (all adapters drained): upstream skips those
and would keep reporting the old adapters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from gie_metrics_collector.parsing import Sample

__all__ = ["LoraState", "latest_lora"]


@dataclass(frozen=True, slots=True)
class LoraState:
    running: tuple[str, ...]
    waiting: tuple[str, ...]
    max_lora: int | None


_COUNT = re.compile(r"[0-9]{1,6}")


def _adapters(value: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in value.split(",") if name.strip())


def latest_lora(samples: Sequence[Sample]) -> LoraState | None:
    """The adapters of the newest series; None when there is no series."""
    if not samples:
        return None
    newest = max(samples, key=lambda sample: sample.value)
    labels = newest.labels
    raw_max = labels.get("max_lora", "")
    # ASCII digits only (isdigit() also takes "²", which int() refuses), and few of them.
    max_lora = int(raw_max) if _COUNT.fullmatch(raw_max) else None
    return LoraState(
        running=_adapters(labels.get("running_lora_adapters", "")),
        waiting=_adapters(labels.get("waiting_lora_adapters", "")),
        max_lora=max_lora,
    )
