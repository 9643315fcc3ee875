"""The run as markdown tables (latency, CPU, targets) or as one JSON object."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from bench.picker_overhead.arms import DIRECT_ARM
from bench.picker_overhead.runner import BenchRun
from bench.picker_overhead.summary import ArmSummary, WindowSummary, summarize
from bench.picker_overhead.targets import TargetCheck, evaluate

__all__ = ["checks_of", "render_json", "render_markdown", "summaries_of"]


def summaries_of(run: BenchRun) -> dict[str, ArmSummary]:
    """One summary per arm, in the order the arms ran."""
    names = list(dict.fromkeys(r.arm for r in run.rounds))
    return {name: summarize([r for r in run.rounds if r.arm == name]) for name in names}


def checks_of(run: BenchRun) -> list[TargetCheck]:
    return evaluate(summaries_of(run), rate=run.options.rate)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _latency(window: WindowSummary | None, base: WindowSummary | None) -> list[str]:
    if window is None:
        return ["-"] * 5
    added = ["-", "-"]
    if base is not None:
        added = [f"{window.p50_ms - base.p50_ms:+.2f}", f"{window.p99_ms - base.p99_ms:+.2f}"]
    return [f"{window.throughput:.0f}", f"{window.p50_ms:.2f}", f"{window.p99_ms:.2f}", *added]


def _latency_rows(summaries: dict[str, ArmSummary]) -> list[list[str]]:
    base = summaries.get(DIRECT_ARM)
    rows = []
    for s in summaries.values():
        failed = s.loaded.failed + (s.paced.failed if s.paced else 0)
        requests = s.loaded.requests + (s.paced.requests if s.paced else 0)
        rows.append(
            [
                s.arm,
                *_latency(s.loaded, base.loaded if base else None),
                *_latency(s.paced, base.paced if base else None),
                f"{failed}/{requests}",
            ]
        )
    return rows


def _both(s: ArmSummary, value: Callable[[WindowSummary], str]) -> str:
    return f"{value(s.loaded)} / {value(s.paced)}" if s.paced else value(s.loaded)


def _cpu_rows(summaries: dict[str, ArmSummary]) -> list[list[str]]:
    rows = []
    for s in summaries.values():
        shares = " / ".join(f"{x * 100:.1f}%" for x in s.worker_shares) or "-"
        idle = s.idle_ext_proc_ms_per_s
        ext_proc = "-"
        if s.worker_streams:
            ext_proc = _both(
                s,
                lambda w: f"{w.ext_proc_ms:.3f} ({w.ext_proc_ms_min:.2f}-{w.ext_proc_ms_max:.2f})",
            )
        rows.append(
            [
                s.arm,
                ext_proc,
                "-" if idle is None or not s.worker_streams else f"{idle:.1f}",
                _both(s, lambda w: f"{w.envoy_ms:.3f}"),
                _both(s, lambda w: f"{w.nats_ms:.3f}"),
                _both(s, lambda w: f"{w.upstreams_ms:.3f}"),
                _both(s, lambda w: f"{w.loadgen_ms:.3f}"),
                _both(s, lambda w: f"{w.busy_cores:.2f} ({w.other_cores:.2f})"),
                shares,
            ]
        )
    return rows


def _plan_sentence(run: BenchRun) -> str:
    o = run.options
    steps = [f"{o.warmup} warm-up requests"]
    if o.idle_s > 0:
        steps.append(f"{o.idle_s:g} s idle")
    steps.append(f"a saturated window ({o.requests} requests, {o.concurrency} in flight)")
    if o.paced_requests:
        steps.append(f"a paced window ({o.paced_requests} requests at {o.rate:g} req/s)")
    return (
        f"Each arm, each of {o.rounds} round(s): {', then '.join(steps)}. Medians over "
        f"rounds; {o.endpoints} endpoints in the picker's view."
    )


def render_markdown(run: BenchRun) -> str:
    o = run.options
    summaries = summaries_of(run)
    latency_header = ["arm", "req/s", "p50", "p99", "+p50", "+p99"]
    latency_header += [f"{h} @{o.rate:g}/s" for h in ("req/s", "p50", "p99", "+p50", "+p99")]
    cpu_header = [
        "arm",
        "ext_proc (min-max)",
        "ext_proc idle, ms/s",
        "Envoy",
        "NATS",
        "upstreams",
        "load generator",
    ]
    cpu_header += ["busy cores (other load)", "streams per worker (saturated)"]
    lines = [
        _plan_sentence(run),
        "",
        "Latency at the client, ms (+ = added over envoy-direct):",
        "",
        *_table([*latency_header, "failed"], _latency_rows(summaries)),
        "",
        "CPU per request, ms (saturated / paced):",
        "",
        *_table(cpu_header, _cpu_rows(summaries)),
        "",
        "Targets:",
        "",
        *_table(
            ["target", "measured", "result"],
            [[c.target, c.measured, c.verdict] for c in checks_of(run)],
        ),
        "",
        "Machine: " + ", ".join(f"{key} {value}" for key, value in run.machine.items()),
    ]
    return "\n".join(lines)


def render_json(run: BenchRun) -> dict[str, Any]:
    options = asdict(run.options)
    options["log_dir"] = str(run.options.log_dir) if run.options.log_dir else None
    options["profile_dir"] = str(run.options.profile_dir) if run.options.profile_dir else None
    return {
        "options": options,
        "machine": run.machine,
        "summaries": [s.to_json() for s in summaries_of(run).values()],
        "targets": [c.to_json() for c in checks_of(run)],
        "rounds": [r.to_json() for r in run.rounds],
    }
