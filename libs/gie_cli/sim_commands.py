"""``gie sim fault``: break (or heal) a simulator of the local stack while it runs.

The stack records, for each simulator part, its endpoint and the admin listener of its
process (``sim-admin``); the command posts the fault there, so a simulator that refuses
connections can be healed too. See docs/simulator.md (API fault modes).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import httpx
import typer

from gie_cli.devstack import StateStore, default_state_dir
from gie_cli.runtime import EXIT_FAILED, console, err_console, run_command
from gie_cli.stack_commands import StateDirOption

__all__ = ["fault", "sim_app"]

sim_app = typer.Typer(
    name="sim",
    help="Control the local stack's simulated model servers.",
    no_args_is_help=True,
    add_completion=False,
)


class ApiFault(StrEnum):
    NONE = "none"
    REFUSE = "refuse"
    RESET = "reset"
    HANG = "hang"
    HTTP503 = "http503"


@sim_app.callback()
def sim() -> None:
    """Control the local stack's simulated model servers."""


async def _post_fault(state_dir: StateDirOption, part: str, body: dict[str, object]) -> int:
    store = StateStore((state_dir or default_state_dir()).absolute())
    state = store.load()
    if state is None:
        err_console.print(f"no stack recorded in {store.root}")
        return EXIT_FAILED
    sims = {p.name: p for p in state.parts if p.kind == "sim"}
    record = sims.get(part) or next(
        (p for p in sims.values() if p.addresses.get("endpoint") == part), None
    )
    if record is None:
        names = ", ".join(sorted(sims)) or "none"
        err_console.print(f"no simulator {part!r} in the stack (simulators: {names})")
        return EXIT_FAILED
    admin = record.addresses.get("sim-admin")
    if not admin:
        err_console.print(f"{record.name} was started without an admin listener")
        return EXIT_FAILED
    url = f"{admin}/sim/servers/{record.addresses['endpoint']}/api-faults"
    async with httpx.AsyncClient(timeout=10.0, trust_env=False) as client:
        try:
            response = await client.post(url, json=body)
        except httpx.HTTPError as error:
            err_console.print(f"{record.name}'s process does not answer: {error!r}")
            return EXIT_FAILED
    if response.status_code != 200:
        err_console.print(f"{record.name} refused the fault: {response.text}")
        return EXIT_FAILED
    console.print(f"{record.name} ({record.addresses['endpoint']}): {response.text}")
    return 0


def fault(
    part: Annotated[str, typer.Argument(help="Simulator part (sim-0) or its endpoint ip:port.")],
    mode: Annotated[ApiFault, typer.Argument(help="Fault mode; none heals the server.")],
    for_s: Annotated[
        float | None,
        typer.Option(min=0.001, help="Heal by itself after this many seconds.", show_default=False),
    ] = None,
    reset_after_chunks: Annotated[
        int, typer.Option(min=0, help="reset: token chunks a stream gets first.")
    ] = 1,
    state_dir: StateDirOption = None,
) -> None:
    """Make a simulator refuse connections, reset them, hang or answer 503 (none: heal)."""
    body: dict[str, object] = {"mode": mode.value, "reset_after_chunks": reset_after_chunks}
    if for_s is not None:
        body["for_s"] = for_s
    raise typer.Exit(run_command(_post_fault(state_dir, part, body)))


sim_app.command()(fault)
