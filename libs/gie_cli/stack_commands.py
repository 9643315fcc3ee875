"""``gie up``, ``gie status`` and ``gie down``: the local stack from the command line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from gie.config.settings import check_pool_name
from gie_cli.devstack import (
    BodyMode,
    FailureMode,
    ProcessRecord,
    ResponsePath,
    RunningStack,
    StackOptions,
    StateStore,
    StopOutcome,
    check_stack,
    default_state_dir,
    start_stack,
    stop_stack,
)
from gie_cli.devstack.readiness import log_tail
from gie_cli.render import kubectl_hint, print_status
from gie_cli.runtime import (
    EXIT_FAILED,
    console,
    err_console,
    print_log_tail,
    print_progress,
    run_command,
)

__all__ = ["Discovery", "down", "status", "up"]

EXIT_UNHEALTHY = 2


class Discovery(StrEnum):
    """``gie up --discovery``: where ingest finds the pool's endpoints."""

    FILE = "file"
    KUBERNETES = "kubernetes"


StateDirOption = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        help="Where the stack is recorded \\[default: $GIE_STATE_DIR or ./.gie/stack].",
        show_default=False,
    ),
]


def _state_dir(option: Path | None) -> Path:
    return (option or default_state_dir()).absolute()


async def _stopped_elsewhere(running: RunningStack) -> bool:
    """True when ``gie down`` is stopping the stack; returns once it is done (max 60 s)."""
    current = running.store.load()
    if current is not None and not current.stopping:
        return False
    err_console.print("the stack is being stopped by `gie down`")
    for _ in range(600):
        if running.store.load() is None:
            break
        await asyncio.sleep(0.1)
    return True


def _report_exit(record: ProcessRecord, exit_code: int) -> None:
    err_console.print(f"[bold red]error:[/] {record.name} exited with code {exit_code}")
    print_log_tail(f"last lines of {record.log}", log_tail(record.log))


async def _serve_until_stopped(running: RunningStack) -> int:
    """Hold the stack until SIGINT/SIGTERM, a part exits, or ``gie down`` stops it."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    console.print("press Ctrl-C to stop")
    code = 0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.5)
        if await _stopped_elsewhere(running):
            return 0
        if (exited := running.exited()) is not None:
            _report_exit(*exited)
            code = EXIT_FAILED
            break
    err_console.print("stopping the stack ...")
    await running.stop()
    err_console.print("stopped")
    return code


async def _up(options: StackOptions, *, detach: bool) -> int:
    running = await start_stack(options, progress=print_progress)
    print_status(console, await check_stack(running.state))
    gateway = running.gateway
    body = json.dumps({"model": options.model, "prompt": "hello", "max_tokens": 5})
    console.print(f"\n[bold green]gie stack is up[/]: gateway [bold cyan]{gateway}[/]")
    console.print(
        escape(f"try:  curl -s {gateway}/v1/completions -H 'content-type: application/json' ")
        + escape(f"-d '{body}'"),
        highlight=False,
    )
    console.print(f"logs: {running.store.logs}", highlight=False)
    if options.secure:
        pki = running.state.data_dir / "pki"
        console.print(f"TLS: CA and certificates in {pki} (ca.pem)", highlight=False)
    if running.state.kubeconfig is not None:
        console.print(f"kubectl: {kubectl_hint(running.state.kubeconfig)}", highlight=False)
    if detach:
        console.print(f"stop: gie down --state-dir {running.store.root}", highlight=False)
        return 0
    return await _serve_until_stopped(running)


def up(
    *,
    sims: Annotated[int, typer.Option(min=1, help="Number of simulated model servers.")] = 4,
    time_scale: Annotated[
        float,
        typer.Option(min=0.0, help="Simulated latency multiplier (1 = realistic, 0.1 = faster)."),
    ] = 1.0,
    model: Annotated[str, typer.Option(help="Model the simulated servers serve.")] = "sim-llama",
    pool: Annotated[str, typer.Option(help="Pool name, namespace/name.")] = "default/sim-pool",
    body_mode: Annotated[
        BodyMode, typer.Option(help="How Envoy sends request bodies to the picker.")
    ] = BodyMode.FULL_DUPLEX_STREAMED,
    response_path: Annotated[
        ResponsePath,
        typer.Option(
            help="How the picker learns of each response's end: Envoy's completion records "
            "(usage read by Envoy) or every response chunk through ext_proc."
        ),
    ] = ResponsePath.RECORDS,
    picker_workers: Annotated[
        int,
        typer.Option(min=1, max=64, help="Worker processes of each picker replica (one port)."),
    ] = 1,
    pickers: Annotated[
        int,
        typer.Option(
            min=1, max=16, help="Picker replicas (own processes; Envoy balances over all)."
        ),
    ] = 1,
    envoy_workers: Annotated[
        int, typer.Option(min=1, max=64, help="Envoy worker threads (its --concurrency).")
    ] = 1,
    collectors: Annotated[
        int, typer.Option(min=1, max=16, help="Metrics-collector replicas (endpoints split).")
    ] = 1,
    ingests: Annotated[
        int, typer.Option(min=1, max=16, help="Ingest replicas (active-active).")
    ] = 1,
    failure_mode: Annotated[
        FailureMode,
        typer.Option(
            help="When no picker answers: FailClose answers 503 (picker unavailable); "
            "FailOpen sends the request to a pool endpoint, round robin."
        ),
    ] = FailureMode.FAIL_CLOSE,
    flow_controllers: Annotated[
        int,
        typer.Option(min=1, max=16, help="Flow-controller replicas (shards split between them)."),
    ] = 1,
    detach: Annotated[
        bool, typer.Option("--detach", "-d", help="Return once ready; leave the stack running.")
    ] = False,
    timeout: Annotated[
        float, typer.Option(min=1.0, help="Seconds each part may take to become ready.")
    ] = 60.0,
    config: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="EndpointPickerConfig YAML for the picker."),
    ] = None,
    discovery: Annotated[
        Discovery,
        typer.Option(
            help="How ingest finds the pool: a pool file, or a local Kubernetes API "
            "(Pods and an InferencePool; kubectl works against it)."
        ),
    ] = Discovery.FILE,
    spare_sims: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=200,
            help="With --discovery kubernetes: simulators started without a Pod, for you "
            "to `kubectl apply` one (default 1).",
            show_default=False,
        ),
    ] = None,
    crds: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            file_okay=False,
            help="With --discovery kubernetes: folder of the CRDs to apply "
            "(default: the chart's helm/gie/crds).",
            show_default=False,
        ),
    ] = None,
    served_model_name: Annotated[
        list[str] | None,
        typer.Option(
            help="A name every simulator answers to besides --model, e.g. a target of an "
            "InferenceModelRewrite; repeatable or comma-separated.",
            show_default=False,
        ),
    ] = None,
    sim_processes: Annotated[
        bool,
        typer.Option(
            "--sim-processes",
            help="Run each simulator in its own process (sim-0, sim-1, ...), so one can be "
            "killed alone.",
        ),
    ] = False,
    secure: Annotated[
        bool,
        typer.Option(
            "--secure",
            help="TLS with a local CA made at start: Envoy verifies the picker's certificate "
            "(CA and name) and the picker the flow-controllers'; clients present "
            "certificates too (mutual TLS).",
        ),
    ] = False,
    state_dir: StateDirOption = None,
) -> None:
    """Start the local stack and print the gateway URL (foreground unless --detach)."""
    try:
        check_pool_name(pool)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--pool") from None
    if discovery is Discovery.FILE and (spare_sims is not None or crds is not None):
        raise typer.BadParameter(
            "--spare-sims and --crds need --discovery kubernetes", param_hint="--discovery"
        )
    options = StackOptions(
        state_dir=_state_dir(state_dir),
        discovery=discovery.value,
        spare_sims=spare_sims,
        crds_dir=crds.resolve() if crds else None,
        served_model_names=tuple(
            name.strip()
            for value in served_model_name or ()
            for name in value.split(",")
            if name.strip()
        ),
        sims=sims,
        sim_processes=sim_processes,
        time_scale=time_scale,
        model=model,
        pool=pool,
        body_mode=body_mode,
        response_path=response_path,
        picker_workers=picker_workers,
        envoy_workers=envoy_workers,
        flow_controllers=flow_controllers,
        pickers=pickers,
        collectors=collectors,
        ingests=ingests,
        failure_mode=failure_mode,
        ready_timeout_s=timeout,
        config_file=config.resolve() if config else None,
        secure=secure,
    )
    raise typer.Exit(run_command(_up(options, detach=detach)))


async def _status(root: Path, *, as_json: bool) -> int:
    state = StateStore(root).load()
    if state is None:
        err_console.print(f"no stack recorded in {root}")
        return EXIT_FAILED
    report = await check_stack(state)
    if as_json:
        sys.stdout.write(json.dumps(report.to_json()) + "\n")
    else:
        print_status(console, report)
    return 0 if report.healthy else EXIT_UNHEALTHY


def status(
    *,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    state_dir: StateDirOption = None,
) -> None:
    """Show every part of the recorded stack: pid, addresses, health.

    Exit code: 0 all healthy, 1 no stack recorded, 2 some part unhealthy.
    """
    raise typer.Exit(run_command(_status(_state_dir(state_dir), as_json=as_json)))


async def _down(root: Path) -> int:
    outcomes = await stop_stack(root)
    if outcomes is None:
        console.print(f"no stack recorded in {root}; nothing to stop")
        return 0
    for name, outcome in outcomes:
        console.print(f"{name:<18} {outcome.value}", highlight=False)
    stuck = [name for name, outcome in outcomes if outcome is StopOutcome.STUCK]
    if stuck:
        err_console.print(f"[bold red]error:[/] still running after SIGKILL: {', '.join(stuck)}")
        return EXIT_FAILED
    console.print("the stack is down")
    return 0


def down(*, state_dir: StateDirOption = None) -> None:
    """Stop every part of the recorded stack (no stack: nothing to do)."""
    raise typer.Exit(run_command(_down(_state_dir(state_dir))))
