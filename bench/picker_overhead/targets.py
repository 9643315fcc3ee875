"""The issue's targets, checked against the summaries.

* CPU: the picker's ext_proc CPU per request at most 1.5x the bare server's, with the
  same number of workers (``gie-1`` vs ``bare-1``, ``gie-4`` vs ``bare-4``; medians),
  checked in the saturated window and in the paced one (the same rate for both arms).
  Each round's own ratio is shown too: the two arms of a round run minutes apart,
  so it is less exposed to the machine's drift than the ratio of the medians.
* Spread: with 4 workers behind the shipped Envoy configuration, each worker serves
  25% +- 5% of the streams, in every round (``gie-4``, saturated window).

A target whose arms were not run is reported as not measured (``met`` is None).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bench.picker_overhead.summary import ArmSummary, WindowSummary

__all__ = ["CPU_RATIO_LIMIT", "SHARE_TOLERANCE", "TargetCheck", "evaluate", "round_ratios"]

CPU_RATIO_LIMIT = 1.5
SHARE_TOLERANCE = 0.05
_CPU_PAIRS = (("gie-1", "bare-1"), ("gie-4", "bare-4"))
_SPREAD_ARM = "gie-4"


@dataclass(frozen=True, slots=True)
class TargetCheck:
    target: str
    measured: str
    met: bool | None  # None: the arms it needs were not run

    @property
    def verdict(self) -> str:
        return {True: "MET", False: "NOT MET", None: "not measured"}[self.met]

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "verdict": self.verdict}


def _cpu_check(
    picker: WindowSummary | None, bare: WindowSummary | None, target: str
) -> TargetCheck:
    if picker is None or bare is None or bare.ext_proc_ms <= 0:
        return TargetCheck(target, "-", None)
    ratio = picker.ext_proc_ms / bare.ext_proc_ms
    measured = f"{ratio:.2f}x ({picker.ext_proc_ms:.3f} vs {bare.ext_proc_ms:.3f} ms)"
    rounds = round_ratios(picker, bare)
    if len(rounds) > 1:
        measured += "; by round " + ", ".join(f"{r:.2f}x" for r in rounds)
    return TargetCheck(target, measured, ratio <= CPU_RATIO_LIMIT)


def round_ratios(picker: WindowSummary, bare: WindowSummary) -> tuple[float, ...]:
    """Picker over bare CPU per request within each round (rounds where both ran)."""
    pairs = zip(picker.ext_proc_ms_rounds, bare.ext_proc_ms_rounds, strict=False)
    return tuple(p / b for p, b in pairs if b > 0)


def _cpu_checks(summaries: Mapping[str, ArmSummary], *, rate: float) -> list[TargetCheck]:
    checks = []
    for picker_name, bare_name in _CPU_PAIRS:
        picker, bare = summaries.get(picker_name), summaries.get(bare_name)
        target = f"{picker_name} ext_proc CPU/request <= {CPU_RATIO_LIMIT:g}x {bare_name}'s"
        checks.append(
            _cpu_check(
                picker.loaded if picker else None,
                bare.loaded if bare else None,
                f"{target}, saturated",
            )
        )
        checks.append(
            _cpu_check(
                picker.paced if picker else None,
                bare.paced if bare else None,
                f"{target}, at {rate:g} req/s",
            )
        )
    return checks


def _spread_check(picker: ArmSummary | None) -> TargetCheck:
    target = f"{_SPREAD_ARM}: each worker serves 25% +- {SHARE_TOLERANCE * 100:g}% of streams"
    if picker is None or picker.worst_share_deviation is None:
        return TargetCheck(target, "-", None)
    shares = " / ".join(f"{share * 100:.1f}%" for share in picker.worker_shares)
    worst = picker.worst_share_deviation
    measured = f"{shares} (worst round: {worst * 100:.1f} points off)"
    return TargetCheck(target, measured, worst <= SHARE_TOLERANCE + 1e-9)


def evaluate(summaries: Mapping[str, ArmSummary], *, rate: float) -> list[TargetCheck]:
    """Every target; the paced CPU checks are 'not measured' without a paced window."""
    return [*_cpu_checks(summaries, rate=rate), _spread_check(summaries.get(_SPREAD_ARM))]
