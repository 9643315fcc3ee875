"""The flow-state Lua scripts, each prefixed by the shared ``common.lua``."""

from __future__ import annotations

from importlib import resources

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

NAMES = (
    "admit",
    "snapshot",
    "dispatch",
    "expire",
    "cancel",
    "complete",
    "collect",
    "leases",
    "stats",
    "layout",
)


def script_text(name: str) -> str:
    """The full source of script ``name``: the prelude, then its body."""
    folder = resources.files("gie_flow_controller.state.lua")
    prelude = folder.joinpath("common.lua").read_text(encoding="utf-8")
    return prelude + "\n" + folder.joinpath(f"{name}.lua").read_text(encoding="utf-8")


def register_scripts(client: Redis) -> dict[str, AsyncScript]:
    """Every script, registered on ``client`` (EVALSHA, loading on first use)."""
    return {name: client.register_script(script_text(name)) for name in NAMES}
