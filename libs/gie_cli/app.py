"""The ``gie`` command: one Typer app, commands registered explicitly."""

from __future__ import annotations

import typer

from gie_cli.bench_commands import bench
from gie_cli.config_commands import config_app
from gie_cli.demo import demo
from gie_cli.events_commands import events_app
from gie_cli.kube_commands import kube_app
from gie_cli.sim_commands import sim_app
from gie_cli.stack_commands import down, status, up

__all__ = ["app", "main"]

app = typer.Typer(
    name="gie",
    help="gie: an event-sourced Endpoint Picker for Envoy's ext_proc.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(up)
app.command()(status)
app.command()(down)
app.command()(demo)
app.add_typer(config_app, name="config")
app.command()(bench)
app.add_typer(kube_app, name="kube")
app.add_typer(events_app, name="events")
app.add_typer(sim_app, name="sim")


def main() -> None:
    """Console-script entry point."""
    app()
