"""Turn raw request results, server counters and CPU deltas into a :class:`PointResult`."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence

from bench.loadgen import Load, RequestResult
from bench.measure.cpu import CpuSnapshot
from bench.measure.server_counters import ServerCounters
from bench.results import PointResult

__all__ = ["percentile", "summarise"]


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def _cv(values: Sequence[int]) -> float | None:
    if len(values) < 2 or sum(values) == 0:
        return None
    return statistics.pstdev(values) / statistics.fmean(values)


def summarise(
    *,
    load: Load,
    results: Sequence[RequestResult],
    counters: Sequence[ServerCounters],
    side: Sequence[RequestResult] = (),
    servers: Sequence[str],
    cpu: CpuSnapshot,
    router_groups: Sequence[str],
    support_groups: Sequence[str],
    sims_group: str,
) -> PointResult:
    """Summarise one run; ``counters`` are per-server deltas, ``cpu`` a delta.

    ``side``: the second client's requests, sent straight to the servers. The servers
    counted them too: their own usage (``cached_tokens``, ``prompt_tokens``, the servers'
    numbers per request) is taken out of the hit rate, which stays the router traffic's.
    """
    ok = [r for r in results if r.ok]
    start = min((r.sent_at for r in results), default=0.0)
    end = max((r.finished_at for r in results), default=0.0)
    duration = max(end - start, 1e-9)
    ttft = [r.ttft_s for r in ok if r.ttft_s is not None]
    e2e = [r.latency_s for r in ok]
    side_ok = [r for r in side if r.ok]
    hits = sum(c.prefix_hits for c in counters) - sum(r.cached_tokens for r in side_ok)
    queries = sum(c.prefix_queries for c in counters) - sum(r.prompt_tokens for r in side_ok)
    router_parts = {name: round(cpu.groups[name], 3) for name in router_groups}
    router_cpu = sum(router_parts.values())
    errors = Counter((r.error or "no tokens")[:80] for r in results if not r.ok)
    served = Counter(r.served_by or "?" for r in ok)
    spread = [round(c.requests) for c in counters]
    side_fields = (
        {
            "side_requests": len(side),
            "side_success_rate": len(side_ok) / len(side),
            "side_hit_rate": _ratio(
                sum(r.cached_tokens for r in side_ok), sum(r.prompt_tokens for r in side_ok)
            ),
            "side_ttft_p90_s": percentile([r.ttft_s for r in side_ok if r.ttft_s is not None], 90),
        }
        if side
        else {}
    )
    return PointResult(
        load=load.value,
        load_kind="rate" if load.rate is not None else "concurrency",
        requests=len(results),
        succeeded=len(ok),
        success_rate=len(ok) / len(results) if results else 0.0,
        duration_s=duration,
        ttft_p50_s=percentile(ttft, 50),
        ttft_p90_s=percentile(ttft, 90),
        ttft_p99_s=percentile(ttft, 99),
        e2e_p50_s=percentile(e2e, 50),
        e2e_p90_s=percentile(e2e, 90),
        e2e_p99_s=percentile(e2e, 99),
        ttft_share_p50=percentile(
            [r.ttft_s / r.latency_s for r in ok if r.ttft_s is not None and r.latency_s > 0], 50
        ),
        tokens_per_s=sum(r.output_tokens for r in ok) / duration,
        requests_per_s=len(ok) / duration,
        hit_rate=_ratio(hits, queries),
        client_hit_rate=_ratio(sum(r.cached_tokens for r in ok), sum(r.prompt_tokens for r in ok)),
        served={server: served.get(server, 0) for server in servers},
        spread=spread,
        spread_cv=_cv(spread),
        router_cpu_s=router_cpu,
        router_parts=router_parts,
        router_cpu_ms_per_request=1000 * router_cpu / len(results) if results else None,
        support_cpu_s=sum(cpu.groups[name] for name in support_groups) if support_groups else None,
        sims_cpu_s=cpu.groups.get(sims_group),
        loadgen_cpu_s=cpu.own,
        machine_cpu=cpu.machine_utilisation,
        lateness_p99_s=percentile([r.lateness_s for r in results], 99),
        errors=dict(errors.most_common(5)),
        **side_fields,
    )
