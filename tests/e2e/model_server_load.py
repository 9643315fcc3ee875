"""Steady load through the gateway, each request's outcome and the picker's choice.

:func:`drive` sends completions from a few clients for a while and calls a fault
at a given moment; :func:`destinations` reads, from Envoy's access log, the
endpoints the picker named for each request (primary first), and
:func:`first_left_out`, from the picker's log, when it left a server out.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import httpx
import orjson

BODY = {"model": "sim-llama", "prompt": "hello", "max_tokens": 2}


@dataclass(frozen=True)
class Run:
    outcomes: list[Outcome]
    fault_wall: float  # time.time() once the fault was in place


@dataclass(frozen=True)
class Outcome:
    request_id: str
    sent_s: float  # since the fault was in place (negative: before)
    status: int  # 0: no answer (timeout, connection error)
    served_by: str
    error: str = ""


async def drive(
    gateway: str,
    *,
    fault: Callable[[], Awaitable[None]],
    fault_at_s: float,
    duration_s: float,
    clients: int = 3,
    timeout_s: float = 10.0,
) -> Run:
    """``clients`` loops send completions for ``duration_s``; ``fault`` runs at ``fault_at_s``."""
    start = time.monotonic()
    fault_time = start + fault_at_s  # then: when the fault was in place
    outcomes: list[Outcome] = []
    fault_wall = 0.0

    async def client_loop(client: httpx.AsyncClient) -> None:
        while (now := time.monotonic()) < start + duration_s:
            request_id = uuid.uuid4().hex
            try:
                response = await client.post(
                    "/v1/completions", json=BODY, headers={"x-request-id": request_id}
                )
                outcome = Outcome(
                    request_id,
                    now,
                    response.status_code,
                    response.headers.get("x-served-by", ""),
                    "" if response.status_code == 200 else response.text[:200],
                )
            except httpx.HTTPError as error:
                outcome = Outcome(request_id, now, 0, "", repr(error))
            outcomes.append(outcome)
            await asyncio.sleep(0.02)

    async def fault_later() -> None:
        nonlocal fault_wall, fault_time
        await asyncio.sleep(max(0.0, fault_time - time.monotonic()))
        await fault()
        fault_time, fault_wall = time.monotonic(), time.time()

    async with httpx.AsyncClient(base_url=gateway, timeout=timeout_s, trust_env=False) as client:
        await asyncio.gather(fault_later(), *(client_loop(client) for _ in range(clients)))
    since_fault = [replace(o, sent_s=o.sent_s - fault_time) for o in outcomes]
    return Run(since_fault, fault_wall)


LEFT_OUT = ("endpoint ejected", "endpoint left out: no scrape")


def first_left_out(picker_log: Path, endpoint: str, after_wall: float) -> float | None:
    """Wall time the picker first logged leaving ``endpoint`` out after ``after_wall``."""
    for line in picker_log.read_text().splitlines():
        if not line.startswith("{"):
            continue
        entry = orjson.loads(line)
        if entry.get("event") in LEFT_OUT and entry.get("endpoint") == endpoint:
            stamp = datetime.fromisoformat(entry["timestamp"]).timestamp()
            if stamp >= after_wall:
                return stamp
    return None


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


async def destinations(access_log: Path, request_ids: set[str]) -> dict[str, list[str]]:
    """Request id -> the endpoints the picker named (Envoy flushes its log every second)."""
    found: dict[str, list[str]] = {}
    for _ in range(50):
        for line in _lines(access_log):
            entry = orjson.loads(line)
            if entry.get("request_id") in request_ids and entry.get("destination"):
                found[entry["request_id"]] = entry["destination"].split(",")
        if request_ids <= found.keys():
            break
        await asyncio.sleep(0.1)
    return found
