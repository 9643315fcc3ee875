"""PNG plots, one line per arm against the load: TTFT p90, output tokens/s, hit rate.

Uses matplotlib's object API (``Figure``, rendered by the Agg backend): no pyplot, no
global state, no display needed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from bench.results import BenchResult, PointResult

__all__ = ["PLOTS", "write_plots"]

Metric = Callable[[PointResult], float | None]

_MARKERS = "osD^v<>pX*h"


def _ttft(point: PointResult) -> float | None:
    return point.ttft_p90_s


def _hit_pct(point: PointResult) -> float | None:
    return None if point.hit_rate is None else point.hit_rate * 100


PLOTS: dict[str, tuple[str, str, Metric]] = {
    "ttft_p90.png": ("TTFT p90", "TTFT p90 (s, log scale)", _ttft),
    "throughput.png": ("Output throughput", "output tokens/s", lambda p: p.tokens_per_s),
    "hit_rate.png": ("Prefix-cache hit rate (servers' counters)", "hit rate (%)", _hit_pct),
}


def _plain(value: float, _position: float) -> str:
    return f"{value:g}"


def _log_axis(axes: Axes) -> None:
    """Log scale labelled with plain numbers (0.4, 2, 10); minor ticks 2, 3, 4, 6 of each
    decade are labelled too while the axis spans fewer than three decades."""
    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(FuncFormatter(_plain))
    low, high = axes.get_ylim()
    if low > 0 and math.log10(high / low) < 3:

        def minor(value: float, position: float) -> str:
            leading = f"{value:.0e}"[0]
            return _plain(value, position) if leading in "2346" else ""

        axes.yaxis.set_minor_formatter(FuncFormatter(minor))
    else:
        axes.yaxis.set_minor_formatter(NullFormatter())


def _plot(result: BenchResult, path: Path, title: str, ylabel: str, metric: Metric) -> None:
    figure = Figure(figsize=(7.5, 4.5), dpi=110, layout="constrained")
    axes = figure.subplots()
    for index, (name, arm) in enumerate(result.arms.items()):
        points = [(p.load, metric(p)) for p in arm.points if p.ran]
        xs = [x for x, y in points if y is not None]
        ys = [y for _, y in points if y is not None]
        if xs:
            style = "-" if arm.kind == "gie" else "--"
            axes.plot(xs, ys, style, marker=_MARKERS[index % len(_MARKERS)], label=name)
    if "log" in ylabel:
        _log_axis(axes)
    elif "%" in ylabel:
        axes.set_ylim(0, 100)
    else:
        axes.set_ylim(bottom=0)
    xlabel = "offered load (requests/s)" if result.load_kind == "rate" else "concurrency"
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(f"{result.scenario}: {title}")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")
    figure.savefig(path)


def write_plots(result: BenchResult, directory: Path) -> list[Path]:
    """Write every plot into ``directory``; returns the paths."""
    paths = []
    for filename, (title, ylabel, metric) in PLOTS.items():
        path = directory / filename
        _plot(result, path, title, ylabel, metric)
        paths.append(path)
    return paths
