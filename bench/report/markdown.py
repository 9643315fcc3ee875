"""The results as a markdown table: one row per arm and load."""

from __future__ import annotations

from bench.results import BenchResult, PointResult

__all__ = ["cpu_table", "render_markdown", "results_table"]

_HEADER = (
    "| arm | load | ok | TTFT p50 / p90 / p99 (ms) | e2e p90 (s) | output tok/s "
    "| hit rate | requests per server | router CPU (s) | machine CPU |"
)
_RULE = "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f}"


def _row(arm: str, point: PointResult, unit: str) -> str:
    load = f"{point.load:g}{unit}"
    if point.error is not None:
        reason = point.error.splitlines()[0].replace("|", "\\|")
        return f"| {arm} | {load} | failed: {reason} |  |  |  |  |  |  |  |"
    ttft = f"{_ms(point.ttft_p50_s)} / {_ms(point.ttft_p90_s)} / {_ms(point.ttft_p99_s)}"
    e2e = "-" if point.e2e_p90_s is None else f"{point.e2e_p90_s:.2f}"
    hit = "-" if point.hit_rate is None else f"{point.hit_rate:.1%}"
    spread = "/".join(str(n) for n in point.spread) or "-"
    cpu = "-" if point.router_cpu_s is None else f"{point.router_cpu_s:.1f}"
    machine = "-" if point.machine_cpu is None else f"{point.machine_cpu:.0%}"
    return (
        f"| {arm} | {load} | {point.success_rate:.0%} | {ttft} | {e2e} "
        f"| {point.tokens_per_s:.0f} | {hit} | {spread} | {cpu} | {machine} |"
    )


def results_table(result: BenchResult) -> str:
    """The table alone (for docs/benchmarks.md)."""
    unit = " req/s" if result.load_kind == "rate" else " conc."
    lines = [_HEADER, _RULE]
    for name, arm in result.arms.items():
        if arm.skipped is not None:
            reason = arm.skipped.splitlines()[0].replace("|", "\\|")
            lines.append(f"| {name} | - | skipped: {reason} |  |  |  |  |  |  |  |")
        lines.extend(_row(name, point, unit) for point in arm.points)
    return "\n".join(lines)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def cpu_table(result: BenchResult) -> str:
    """Where the machine's CPU went during each run (is the measurement CPU-bound?)."""
    lines = [
        "| arm | load | router CPU (s) | per request (ms) | router parts (s) | support CPU (s) "
        "| simulators CPU (s) "
        "| load generator CPU (s) | run (s) | bench share of machine | machine CPU "
        "| p99 send lateness (ms) |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    cores = float(result.machine.get("cores") or 1)
    unit = " req/s" if result.load_kind == "rate" else " conc."
    for name, arm in result.arms.items():
        for p in arm.points:
            if p.error is not None:
                continue
            parts = ", ".join(f"{part} {sec:.1f}" for part, sec in p.router_parts.items())
            machine = "-" if p.machine_cpu is None else f"{p.machine_cpu:.0%}"
            lateness = _ms(p.lateness_p99_s)
            ours = sum(
                value or 0.0
                for value in (p.router_cpu_s, p.support_cpu_s, p.sims_cpu_s, p.loadgen_cpu_s)
            )
            share = ours / (p.duration_s * cores) if p.duration_s > 0 else 0.0
            lines.append(
                f"| {name} | {p.load:g}{unit} | {_seconds(p.router_cpu_s)} "
                f"| {_seconds(p.router_cpu_ms_per_request)} | {parts} "
                f"| {_seconds(p.support_cpu_s)} | {_seconds(p.sims_cpu_s)} "
                f"| {_seconds(p.loadgen_cpu_s)} | {p.duration_s:.0f} | {share:.0%} | {machine} "
                f"| {lateness} |"
            )
    return "\n".join(lines)


def render_markdown(result: BenchResult) -> str:
    """A self-contained report: what ran, the table, what each arm is."""
    arms = "\n".join(
        f"* **{name}**: {arm.description}; router CPU = {arm.router_cpu_covers}"
        for name, arm in result.arms.items()
    )
    return f"""# gie bench: {result.scenario}

{result.description}; {result.parameters.get("requests")} requests per run, seed {result.seed}.
{result.sims} simulated servers, time scale {result.time_scale:g}; a fresh set of servers
and a fresh router for every run. Machine: {result.machine.get("cores")} cores
({result.machine.get("cpu")}). Started {result.started_at}, finished {result.finished_at}.

Command: `{result.command}`

{results_table(result)}

{arms}

CPU during each run ({result.machine.get("cores")} cores). "Support" is what the router needs
beside itself (NATS, Redis and the other gie services); "bench share" is router + support +
simulators + load generator over the run's length and all cores; "machine CPU" counts
everything on the machine, other work included:

{cpu_table(result)}

![TTFT p90](ttft_p90.png) ![throughput](throughput.png) ![hit rate](hit_rate.png)
"""
