"""Rich rendering of a stack's status for the terminal."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from gie_cli.devstack import StackStatus

__all__ = ["kubectl_hint", "print_status"]


def kubectl_hint(kubeconfig: Path | str) -> str:
    """How to point kubectl at the stack's Kubernetes API."""
    return f"KUBECONFIG={kubeconfig} kubectl get pods"


def _health(alive: bool, healthy: bool) -> str:
    if healthy:
        return "[green]healthy[/]"
    if alive:
        return "[yellow]unhealthy[/]"
    return "[red]not running[/]"


def print_status(console: Console, status: StackStatus) -> None:
    """Print the gateway URL and one row per part: name, kind, pid, addresses, health."""
    gateway = status.gateway or "(not up yet)"
    console.print(f"gateway [bold cyan]{gateway}[/]   state dir {status.state_dir}")
    if status.kubeconfig is not None:
        console.print(f"kubeconfig {status.kubeconfig}   try: {kubectl_hint(status.kubeconfig)}")
    table = Table(show_edge=False, pad_edge=False)
    for column in ("part", "kind", "pid", "address", "health"):
        table.add_column(column, no_wrap=column != "address")
    kube = status.kubeconfig is not None
    for part in status.parts:
        addresses = {
            key: value
            for key, value in part.addresses.items()
            if not (kube and part.kind == "sim" and key == "manifest")
        }
        if kube and part.kind == "sim":
            addresses["pod"] = part.pod or "none"
        table.add_row(
            part.name,
            part.kind,
            str(part.pid),
            "  ".join(f"{key}={value}" for key, value in addresses.items()),
            _health(part.alive, part.healthy),
        )
    console.print(table)
    if kube:
        _print_podless(console, status)


def _print_podless(console: Console, status: StackStatus) -> None:
    """The simulators without a Pod, and how to give them one."""
    for part in status.parts:
        if part.kind == "sim" and part.pod is None and "manifest" in part.addresses:
            console.print(
                f"{part.name} at {part.addresses['endpoint']} has no Pod; to add it to the "
                f"pool: KUBECONFIG={status.kubeconfig} kubectl apply -f "
                f"{part.addresses['manifest']}",
                highlight=False,
                soft_wrap=True,
            )
