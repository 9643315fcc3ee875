"""Running the CLI's async commands: signals, error reporting, exit codes."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any

from rich.console import Console
from rich.markup import escape

from gie_cli.devstack import DevstackError, PartStartError

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "console",
    "err_console",
    "print_log_tail",
    "print_progress",
    "report_error",
    "run_command",
]

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def report_error(error: DevstackError) -> None:
    """Print a devstack error; a part that failed to start comes with its log tail."""
    err_console.print(f"[bold red]error:[/] {escape(str(error))}")
    if isinstance(error, PartStartError) and error.log_tail:
        print_log_tail(f"last lines of {error.part}'s log", error.log_tail)


def print_progress(message: str) -> None:
    """One dim line on stderr per step of a long command."""
    err_console.print(f"[dim]· {escape(message)}[/]")


def print_log_tail(title: str, tail: str) -> None:
    """Print a log excerpt between rules, lines unwrapped so they can be copied."""
    err_console.rule(escape(title))
    err_console.print(escape(tail), highlight=False)
    err_console.rule()


async def _with_sigterm(command: Coroutine[Any, Any, int]) -> int:
    task = asyncio.current_task()
    if task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await command


def run_command(command: Coroutine[Any, Any, int]) -> int:
    """Run an async command; SIGTERM and Ctrl-C cancel it (so its cleanup runs).

    Returns the command's exit code, 1 after a :class:`DevstackError`, 130 when interrupted.
    """
    try:
        return asyncio.run(_with_sigterm(command))
    except DevstackError as error:
        report_error(error)
        return EXIT_FAILED
    except (KeyboardInterrupt, asyncio.CancelledError):
        err_console.print("[yellow]interrupted[/]")
        return EXIT_INTERRUPTED
