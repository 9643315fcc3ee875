"""``gie bench``: run a benchmark scenario against several routers (the ``bench`` package).

Progress goes to stderr; stdout gets the markdown table, or with ``--json`` exactly one
JSON object (:meth:`bench.BenchResult.summary`). Exit code 0 when every arm that was not
skipped ran every load point, 1 otherwise or on bad input. The ``bench`` package ships
with gie, its own dependencies with the ``bench`` extra (``pip install 'gie[bench]'``);
without them ``gie bench`` says so and exits 1.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from gie_cli.runtime import EXIT_FAILED, console, err_console, print_progress, run_command

if TYPE_CHECKING:
    from bench.options import BenchOptions

__all__ = ["BENCH_EXTRA_MODULES", "bench"]

_DEFAULT_ARMS = "gie,round-robin,sglang-router,vllm-router"
# Modules the `bench` extra installs (pyproject.toml, [project.optional-dependencies]).
BENCH_EXTRA_MODULES = ("matplotlib",)
_BENCH_EXTRA_HINT = "pip install 'gie[bench]' (in a checkout: pip install '.[bench]' or make venv)"


def _missing_bench_modules() -> list[str]:
    return [name for name in BENCH_EXTRA_MODULES if importlib.util.find_spec(name) is None]


def _floats(text: str | None, option: str) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(item) for item in text.split(",") if item.strip())
    except ValueError:
        raise typer.BadParameter(f"{option} takes comma-separated numbers, got {text!r}") from None


def _ints(text: str | None, option: str) -> tuple[int, ...] | None:
    values = _floats(text, option)
    if values is not None and any(not v.is_integer() for v in values):
        raise typer.BadParameter(f"{option} takes whole numbers, got {text!r}")
    return None if values is None else tuple(int(v) for v in values)


def _gie_workers(workers: str | None, replicas: str | None) -> tuple[int, ...]:
    """``--gie-workers``, or its deprecated former name ``--gie-replicas`` (with a warning)."""
    if replicas is None:
        return _ints(workers, "--gie-workers") or (1,)
    if workers is not None:
        raise typer.BadParameter(
            "give --gie-workers or its deprecated alias --gie-replicas, not both"
        )
    err_console.print(
        "[yellow]warning:[/] --gie-replicas is deprecated: it sets picker worker processes; "
        "use --gie-workers"
    )
    return _ints(replicas, "--gie-replicas") or (1,)


def _list() -> None:
    from bench.arms import KINDS  # noqa: PLC0415
    from bench.workloads import SCENARIOS  # noqa: PLC0415 (keeps `gie` start-up light)

    for name, scenario in SCENARIOS.items():
        rates = ", ".join(f"{r:g}" for r in scenario.rates)
        console.print(f"{name:<16} {scenario.summary} (rates {rates} req/s)", highlight=False)
    console.print(f"\narm kinds: {', '.join(KINDS)}", highlight=False)


def _rerender(directory: Path) -> int:
    from bench.report import load_results, write_reports  # noqa: PLC0415

    try:
        result = load_results(directory)
    except (OSError, ValueError) as error:
        err_console.print(f"[bold red]error:[/] cannot read {directory}/results.json: {error}")
        return EXIT_FAILED
    written = write_reports(result, directory)
    print_progress(f"results: {', '.join(str(path) for path in written)}")
    return 0


async def _bench(options: BenchOptions, *, as_json: bool, command: list[str]) -> int:
    from bench.errors import BenchError  # noqa: PLC0415
    from bench.report import results_table, write_reports  # noqa: PLC0415
    from bench.runner import run_bench  # noqa: PLC0415

    try:
        result = await run_bench(options, progress=print_progress, command=command)
    except BenchError as error:
        err_console.print(f"[bold red]error:[/] {escape(str(error))}")
        return EXIT_FAILED
    written = write_reports(result, options.results_dir)
    print_progress(f"results: {', '.join(str(path) for path in written)}")
    if as_json:
        sys.stdout.write(json.dumps(result.summary()) + "\n")
    else:
        console.print(results_table(result), highlight=False, soft_wrap=True)
    return 0 if result.healthy else EXIT_FAILED


def bench(
    *,
    scenario: Annotated[
        str,
        typer.Option(
            help="shared-prefix, kv-pressure, multi-turn-chat, long-prompt, mixed, lora-mix, "
            "fairness, faults."
        ),
    ] = "shared-prefix",
    quick: Annotated[
        bool, typer.Option("--quick", help="Smoke run: 2 servers, one load, few requests.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON summary object on stdout.")
    ] = False,
    arms: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated arm kinds or names (see --list) [default: the scenario's, "
            f"else {_DEFAULT_ARMS}]."
        ),
    ] = None,
    rates: Annotated[
        str | None,
        typer.Option(help="Offered loads in requests/s, e.g. 2,4,8 [default: the scenario's]."),
    ] = None,
    concurrency: Annotated[
        str | None, typer.Option(help="Closed-loop concurrencies instead of rates, e.g. 4,16.")
    ] = None,
    gie_config: Annotated[
        list[str] | None,
        typer.Option(
            help="EndpointPickerConfig file for a gie arm; repeat to compare several "
            "('default' = no file) [default: default]."
        ),
    ] = None,
    gie_workers: Annotated[
        str | None,
        typer.Option(
            help="Picker worker processes for the gie arms, e.g. 1,2 (one arm each): one "
            "picker runs N processes on its ext_proc port, each with its own view and prefix "
            "index, and Envoy alternates requests between them [default: 1]."
        ),
    ] = None,
    gie_replicas: Annotated[
        str | None,
        typer.Option(
            help="Deprecated: the former name of --gie-workers (it sets picker worker "
            "processes, not replicas)."
        ),
    ] = None,
    sims: Annotated[int | None, typer.Option(min=1, help="Simulated servers per run.")] = None,
    time_scale: Annotated[
        float | None, typer.Option(min=0.0, help="Simulated time multiplier.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the workload and arrivals.")] = 0,
    results_dir: Annotated[
        Path | None,
        typer.Option(help="Where results go [default: .gie/bench/<scenario>-<time>]."),
    ] = None,
    peer_venvs: Annotated[
        Path | None,
        typer.Option(help="Where peer routers are installed [default: ~/.cache/gie-bench/venvs]."),
    ] = None,
    keep_logs: Annotated[
        bool, typer.Option("--keep-logs", help="Keep every run's logs, not only failed ones.")
    ] = False,
    list_all: Annotated[
        bool, typer.Option("--list", help="List scenarios and arm kinds, then exit.")
    ] = False,
    rerender: Annotated[
        Path | None,
        typer.Option(help="Rewrite results.md and the plots from DIR/results.json, then exit."),
    ] = None,
    faults: Annotated[
        str,
        typer.Option(help="With --scenario faults: comma-separated fault names [default: all]."),
    ] = "",
) -> None:
    """Benchmark routers (gie, Envoy round-robin, sglang-router, vllm-router) on simulated
    servers: TTFT, throughput, prefix-cache hit rate, load spread, router CPU."""
    missing = _missing_bench_modules()
    if missing:
        err_console.print(
            f"[bold red]error:[/] gie bench needs the 'bench' extra (missing: "
            f"{', '.join(missing)}); install it with {escape(_BENCH_EXTRA_HINT)}",
            highlight=False,
        )
        raise typer.Exit(EXIT_FAILED)
    if list_all:
        _list()
        raise typer.Exit(0)
    if rerender is not None:
        raise typer.Exit(_rerender(rerender))
    if scenario == "fairness":  # its own runner: two tenants, flow control on and off
        from bench.fairness.cli import run as run_fairness  # noqa: PLC0415

        raise typer.Exit(
            run_fairness(quick=quick, as_json=as_json, results_dir=results_dir, seed=seed)
        )
    if scenario == "faults":  # its own runner: one stack, one fault at a time
        from bench.faults.cli import run as run_faults  # noqa: PLC0415

        raise typer.Exit(
            run_faults(
                quick=quick, as_json=as_json, results_dir=results_dir, seed=seed, only=faults
            )
        )
    from bench.arms import DEFAULT_VENV_ROOT  # noqa: PLC0415
    from bench.options import BenchOptions  # noqa: PLC0415 (keeps `gie` start-up light)

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    options = BenchOptions(
        scenario=scenario,
        quick=quick,
        arms=tuple(a.strip() for a in arms.split(",") if a.strip()) if arms else None,
        gie_configs=tuple(
            None if c == "default" else Path(c).absolute() for c in (gie_config or ["default"])
        ),
        gie_workers=_gie_workers(gie_workers, gie_replicas),
        rates=_floats(rates, "--rates"),
        concurrency=_ints(concurrency, "--concurrency"),
        sims=sims,
        time_scale=time_scale,
        seed=seed,
        results_dir=(results_dir or Path(".gie/bench") / f"{scenario}-{stamp}").absolute(),
        venv_root=peer_venvs.absolute() if peer_venvs is not None else DEFAULT_VENV_ROOT,
        keep_logs=keep_logs,
    )
    command = ["gie", "bench", *sys.argv[2:]] if sys.argv[1:2] == ["bench"] else sys.argv
    raise typer.Exit(run_command(_bench(options, as_json=as_json, command=command)))
