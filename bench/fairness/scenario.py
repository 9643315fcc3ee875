"""The fairness scenario's settings, configs and stack shape, shared by its phases."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gie_cli.devstack import RunningStack, StackOptions

__all__ = [
    "HEAVY",
    "INPUT_WEIGHT",
    "LIGHT",
    "MODEL",
    "OUTPUT_WEIGHT",
    "FairnessOptions",
    "config_text",
    "cpu_groups",
    "stack_options",
]

MODEL = "sim-llama"
LIGHT, HEAVY = "light", "heavy"
INPUT_WEIGHT, OUTPUT_WEIGHT = 1, 2  # virtual-token-fairness defaults
# Processes whose CPU is the feature's cost: the pickers, every flow-controller, Envoy.
_CPU_PROCESSES = ("picker", "flow-controller", "envoy")


@dataclass(frozen=True, kw_only=True)
class FairnessOptions:
    quick: bool = False
    seed: int = 0
    work_dir: Path
    picker_replicas: int = 2
    flow_controller_replicas: int = 2
    # The saturated phase: few slow servers with small batches.
    sims: int = 2
    max_num_seqs: int = 2
    time_scale: float = 6.0
    prompt_chars: int = 512  # ~128 prompt tokens
    max_tokens: int = 32
    light_rate: float = 1.2  # requests/s (about its fair share); heavy sends 10x this
    heavy_factor: float = 10.0
    saturated_s: float = 60.0
    drain_s: float = 20.0
    # Served requests per second are compared over [warm-up, saturated_s): the same
    # window in both modes, whenever each mode's load was cut off.
    throughput_warmup_s: float = 10.0
    # The overhead phase: fast servers (no endpoint ever queues), paired rounds.
    overhead_time_scale: float = 1.0
    overhead_rate: float = 8.0  # requests/s of both tenants together
    overhead_window_s: float = 15.0
    overhead_rounds: int = 10
    overhead_idle_s: float = 3.0  # each arm idles this long before its load in a round
    overhead_warmup_s: float = 3.0

    @classmethod
    def for_mode(cls, *, quick: bool, seed: int, work_dir: Path) -> FairnessOptions:
        if quick:
            return cls(
                quick=True,
                seed=seed,
                work_dir=work_dir,
                saturated_s=15.0,
                drain_s=6.0,
                throughput_warmup_s=4.0,
                overhead_window_s=2.0,
                overhead_rounds=2,
                overhead_idle_s=0.5,
                overhead_warmup_s=0.5,
            )
        return cls(seed=seed, work_dir=work_dir)

    @property
    def heavy_share(self) -> float:
        return self.heavy_factor / (self.heavy_factor + 1)


def config_text(*, flow_control: bool) -> str:
    """The EndpointPickerConfig of one mode; both share the saturation detector."""
    lines = [
        "apiVersion: inference.networking.x-k8s.io/v1alpha1",
        "kind: EndpointPickerConfig",
    ]
    if flow_control:
        lines.append("featureGates: [flowControl]")
    lines.append("saturationDetector: {queueDepthThreshold: 1, metricsStalenessThreshold: 2s}")
    if flow_control:
        lines += [
            "flowControl:",
            "  shardCount: 2",
            "  defaultPriorityBand: {fairnessPolicy: virtual-token-fairness}",
        ]
    lines += ["plugins:", "- type: queue-scorer", ""]
    return "\n".join(lines)


def stack_options(
    directory: Path, *, servers: list[str], flow_control: bool, options: FairnessOptions
) -> StackOptions:
    """A stack in front of ``servers``; the modes differ only in the config file."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "epp.yaml"
    config.write_text(config_text(flow_control=flow_control), encoding="utf-8")
    return StackOptions(
        state_dir=directory / "stack",
        endpoints=tuple(servers),
        model=MODEL,
        picker_workers=options.picker_replicas,
        flow_controllers=options.flow_controller_replicas,
        config_file=config,
        stop_grace_s=5.0,
    )


def cpu_groups(stack: RunningStack) -> dict[str, int]:
    """Process name -> process group id of every picker, flow-controller and Envoy."""
    return {
        record.name: record.pid
        for record in stack.state.processes
        if any(record.name == p or record.name.startswith(f"{p}-") for p in _CPU_PROCESSES)
    }
