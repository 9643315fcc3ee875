"""Checks before measuring: the servers serve the workload's models; the router routes.

Both talk only to 127.0.0.1 and are bounded in time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import httpx

from bench.errors import ArmStartError, ScenarioError

__all__ = ["check_models", "wait_routable"]


async def check_models(client: httpx.AsyncClient, server: str, models: Sequence[str]) -> None:
    """Raise :class:`ScenarioError` unless ``server``'s ``/v1/models`` lists every model."""
    response = await client.get(f"http://{server}/v1/models")
    response.raise_for_status()
    served = {item.get("id") for item in response.json().get("data", [])}
    missing = [model for model in models if model not in served]
    if missing:
        raise ScenarioError(
            f"the simulated servers do not serve {', '.join(missing)} (they serve "
            f"{', '.join(sorted(str(m) for m in served))}); this scenario needs a simulator "
            "that serves LoRA adapters"
        )


async def wait_routable(
    client: httpx.AsyncClient, arm: str, url: str, *, model: str, timeout_s: float
) -> None:
    """Send a one-token completion until the router answers 200 (a picker may need a
    moment to learn the pool after it reports ready). Raises :class:`ArmStartError`."""
    body = {"model": model, "prompt": "ping", "max_tokens": 1}
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = await client.post(f"{url}/v1/completions", json=body, timeout=5.0)
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}: {response.text[:200]}"
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}: {exc}"
        await asyncio.sleep(0.2)
    raise ArmStartError(arm, f"does not route requests after {timeout_s:g}s (last: {last})")
