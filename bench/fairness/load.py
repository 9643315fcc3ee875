"""Open-loop two-tenant load: Poisson arrivals per tenant, streaming, fairness header.

Each request records its first-token time as it happens, so requests still running
when the load is cut off keep what they got. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from bench.loadgen.arrivals import poisson_offsets
from bench.workloads.model import COMPLETIONS, streaming_body
from gie.flowcontrol import FAIRNESS_ID_HEADER

__all__ = ["Outcome", "TenantLoad", "run_load"]

_DATA = b"data: "


@dataclass(frozen=True, kw_only=True)
class TenantLoad:
    name: str
    rate: float  # requests/s
    count: int


@dataclass(kw_only=True)
class Outcome:
    tenant: str
    index: int
    sent_at: float
    first_token_at: float | None = None
    finished_at: float | None = None
    status: int | None = None
    prompt_tokens: int = 0
    output_tokens: int = 0
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None and self.finished_at is not None


def _prompt(tenant: str, index: int, chars: int) -> str:
    head = f"tenant {tenant} request {index}: "
    return (head + "lorem ipsum dolor sit amet " * (chars // 20 + 1))[:chars]


async def _send(
    session: aiohttp.ClientSession,
    url: str,
    *,
    body: Mapping[str, Any],
    tenant: str,
    outcome: Outcome,
    origin: float,
) -> None:
    try:
        headers = {FAIRNESS_ID_HEADER: tenant}
        async with session.post(url + COMPLETIONS, json=body, headers=headers) as response:
            outcome.status = response.status
            if response.status != 200:
                outcome.error = f"HTTP {response.status}"
                return
            async for raw in response.content:
                line = raw.strip()
                if not line.startswith(_DATA):
                    continue
                payload = line[len(_DATA) :]
                if payload == b"[DONE]":
                    outcome.finished_at = time.perf_counter() - origin
                    break
                chunk = orjson.loads(payload)
                choices = chunk.get("choices") or []
                if choices and choices[0].get("text") and outcome.first_token_at is None:
                    outcome.first_token_at = time.perf_counter() - origin
                usage = chunk.get("usage")
                if isinstance(usage, dict):
                    outcome.prompt_tokens = int(usage.get("prompt_tokens", 0))
                    outcome.output_tokens = int(usage.get("completion_tokens", 0))
    except (aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError) as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"[:200]


async def run_load(
    url: str,
    tenants: list[TenantLoad],
    *,
    model: str,
    prompt_chars: int,
    max_tokens: int,
    seed: int,
    drain_s: float,
    drain_tenant: str | None = None,
) -> tuple[list[Outcome], float]:
    """Send every tenant's requests on schedule; cut off ``drain_s`` after the last send
    at the latest, earlier once every request (of ``drain_tenant``, if given) finished.

    Returns the outcomes and the cut-off time (seconds since the start).
    """
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
    outcomes: list[Outcome] = []
    tasks: list[tuple[str, asyncio.Task[None]]] = []
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        origin = time.perf_counter()

        async def drive(load: TenantLoad, tenant_seed: int) -> None:
            offsets = poisson_offsets(load.count, rate=load.rate, seed=tenant_seed)
            for index, due in enumerate(offsets):
                delay = due - (time.perf_counter() - origin)
                if delay > 0:
                    await asyncio.sleep(delay)
                body = streaming_body(
                    model, max_tokens, prompt=_prompt(load.name, index, prompt_chars)
                )
                outcome = Outcome(
                    tenant=load.name, index=index, sent_at=time.perf_counter() - origin
                )
                outcomes.append(outcome)
                send = _send(
                    session, url, body=body, tenant=load.name, outcome=outcome, origin=origin
                )
                tasks.append((load.name, asyncio.create_task(send)))

        await asyncio.gather(*(drive(load, seed * 1000 + i) for i, load in enumerate(tenants)))
        pending = [task for name, task in tasks if not task.done() and drain_tenant in (None, name)]
        if pending:
            await asyncio.wait(pending, timeout=drain_s)
        cutoff = time.perf_counter() - origin
        for _, task in tasks:
            task.cancel()
        # The requests' own cancellations are results here; a cancellation of this
        # coroutine itself still propagates.
        await asyncio.gather(*(task for _, task in tasks), return_exceptions=True)
    return outcomes, cutoff
