"""``gie kube serve``: the Kubernetes API stand-in in the foreground."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated, Any

import typer

from gie_cli.runtime import EXIT_FAILED, err_console, run_command

__all__ = ["kube_app", "serve"]

DEFAULT_KUBECONFIG = Path(".gie/kube/kubeconfig")

kube_app = typer.Typer(
    name="kube",
    help="A Kubernetes API server stand-in for kubectl and client libraries.",
    no_args_is_help=True,
    add_completion=False,
)


@kube_app.callback()
def kube() -> None:
    """A Kubernetes API server stand-in for kubectl and client libraries."""


async def _serve(kubeconfig: Path, options_of: dict[str, Any]) -> int:
    from gie.telemetry import configure_logging  # noqa: PLC0415
    from gie_cli.kube import KubeApiServer, ServerOptions, StateFileError, write_kubeconfig  # noqa: PLC0415

    configure_logging(level="info", fmt="console", service="kube-api")

    options = ServerOptions(**options_of)
    try:
        server = KubeApiServer(options)
    except StateFileError as error:
        err_console.print(f"[bold red]error:[/] {error}")
        return EXIT_FAILED
    async with server:
        path = write_kubeconfig(kubeconfig, server.url)
        typer.echo(f"Kubernetes API stand-in at {server.url}", err=True)
        typer.echo(f"kubeconfig: {path} (export KUBECONFIG={path})", err=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        try:
            await stop.wait()
        finally:
            typer.echo("stopping", err=True)
    typer.echo("stopped", err=True)
    return 0


@kube_app.command()
def serve(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 0,
    kubeconfig: Annotated[
        Path, typer.Option(help="Where to write the kubeconfig.")
    ] = DEFAULT_KUBECONFIG,
    state: Annotated[
        Path | None,
        typer.Option(help="Keep objects and resourceVersions in this file across restarts."),
    ] = None,
    bookmark_interval: Annotated[
        float, typer.Option(help="Seconds between watch BOOKMARK events.")
    ] = 60.0,
    history: Annotated[
        int, typer.Option(help="Changes kept for watches resuming from a resourceVersion.")
    ] = 1000,
    *,
    kubelet: Annotated[
        bool,
        typer.Option(
            "--kubelet/--no-kubelet",
            help="Run Pods annotated gie.dev/simulator=HOST:PORT on that simulator.",
        ),
    ] = True,
) -> None:
    """Serve the Kubernetes API stand-in in the foreground until SIGTERM or Ctrl-C."""
    options = {
        "port": port,
        "state_file": state,
        "bookmark_interval": bookmark_interval,
        "history": history,
        "kubelet": kubelet,
    }
    code = run_command(_serve(kubeconfig.absolute(), options))
    if code == 130:
        code = 0
    raise typer.Exit(code)
