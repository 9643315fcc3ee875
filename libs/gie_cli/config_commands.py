"""``gie config validate FILE``: check an EndpointPickerConfig and show its effective form."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["EXIT_INVALID", "EXIT_NO_FILE", "config", "config_app", "validate"]

EXIT_INVALID = 1
EXIT_NO_FILE = 2

config_app = typer.Typer(
    name="config",
    help="The picker's EndpointPickerConfig (upstream's YAML format).",
    no_args_is_help=True,
    add_completion=False,
)


@config_app.callback()
def config() -> None:
    """The picker's EndpointPickerConfig (upstream's YAML format)."""


@config_app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="The EndpointPickerConfig YAML file.")],
) -> None:
    """Print the effective configuration (every default filled in), or the problems.

    Exit 0 when valid, 1 when invalid (one problem per line on stderr), 2 when
    the file cannot be found.
    """
    from gie_picker.config import ConfigError, load_config, render_effective  # noqa: PLC0415

    if not file.is_file():
        typer.echo(f"error: no such file: {file}", err=True)
        raise typer.Exit(EXIT_NO_FILE)
    try:
        config = load_config(file)
    except ConfigError as error:
        typer.echo(f"{file}: invalid EndpointPickerConfig", err=True)
        for problem in error.problems:
            typer.echo(problem, err=True)
        raise typer.Exit(EXIT_INVALID) from None
    for warning in config.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(render_effective(config), nl=False)
