"""Helpers for the local stack with Kubernetes discovery: kubectl on its kubeconfig,
traffic through its gateway, and what each simulator says it served.

``kubectl`` is the pinned binary of ``make k8s-tools``; tests that need it skip without
it (fail with ``GIE_REQUIRE_K8S_TOOLS=1``), see :mod:`tests.support.k8s_tools`.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from gie_cli.devstack import StackOptions
from gie_cli.devstack.state import StackState
from tests.support.k8s_tools import kubectl, tool_env

KUBE_SIMS = 3  # simulators with a Pod: sim-0, sim-1, sim-2
KUBE_SPARES = 1  # sim-3, without a Pod
KUBE_TIME_SCALE = 0.05


def kube_stack_options(state_dir: Path, **more: Any) -> StackOptions:
    return StackOptions(
        state_dir=state_dir,
        sims=KUBE_SIMS,
        spare_sims=KUBE_SPARES,
        time_scale=KUBE_TIME_SCALE,
        discovery="kubernetes",
        **more,
    )


@dataclass(frozen=True)
class Kubectl:
    """The pinned kubectl, pointed at one kubeconfig, with its own HOME and cache."""

    kubeconfig: Path
    home: Path

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        env = {**tool_env(self.home), "KUBECONFIG": str(self.kubeconfig)}
        done = subprocess.run(
            [str(kubectl()), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {done.stderr}")
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json").stdout)


def gie(*args: str) -> subprocess.CompletedProcess[str]:
    """``gie ARGS`` as a user runs it (no ``GIE_STATE_DIR`` from the environment)."""
    env = {k: v for k, v in os.environ.items() if k != "GIE_STATE_DIR"}
    return subprocess.run(
        [sys.executable, "-m", "gie_cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def sim_endpoints(state: StackState) -> dict[str, str]:
    """Part name -> ``ip:port`` of every simulator (``sim-0`` ...)."""
    return {p.name: p.addresses["endpoint"] for p in state.parts if p.kind == "sim"}


def manifest_of(state: StackState, sim: str) -> Path:
    """The Pod manifest the stack wrote for simulator part ``sim``."""
    return Path(next(p.addresses["manifest"] for p in state.parts if p.name == sim))


async def success_count(client: httpx.AsyncClient, endpoint: str) -> float:
    """``vllm:request_success_total`` of one simulator: requests it has served."""
    text = (await client.get(f"http://{endpoint}/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("vllm:request_success_total")
    )


@dataclass(frozen=True)
class Served:
    """One request through the gateway: when it was sent, its status, who served it."""

    sent_at: float  # time.monotonic()
    status: int
    served_by: str | None
    model: str | None


async def complete(client: httpx.AsyncClient, gateway: str, model: str = "sim-llama") -> Served:
    """One completion with a prompt of its own (no prefix-cache affinity)."""
    sent_at = time.monotonic()
    body = {"model": model, "prompt": f"hello {uuid.uuid4().hex}", "max_tokens": 3}
    response = await client.post(f"{gateway}/v1/completions", json=body)
    served_model = response.json().get("model") if response.status_code == 200 else None
    return Served(sent_at, response.status_code, response.headers.get("x-served-by"), served_model)


async def send(
    client: httpx.AsyncClient, gateway: str, count: int, *, concurrency: int = 8, **kw: str
) -> list[Served]:
    """``count`` completions, ``concurrency`` at a time."""
    results: list[Served] = []
    for start in range(0, count, concurrency):
        batch = range(start, min(count, start + concurrency))
        results += await asyncio.gather(*(complete(client, gateway, **kw) for _ in batch))
    return results


async def until_served_by(
    client: httpx.AsyncClient, gateway: str, wanted: set[str], *, timeout_s: float
) -> collections.Counter[str | None]:
    """Send traffic until every endpoint of ``wanted`` has served; the counts so far.

    Raises AssertionError naming the endpoints that never served within ``timeout_s``.
    """
    counts: collections.Counter[str | None] = collections.Counter()
    deadline = time.monotonic() + timeout_s
    while not wanted <= set(counts):
        if time.monotonic() > deadline:
            raise AssertionError(
                f"never served within {timeout_s:g}s: {sorted(wanted - set(counts))}; "
                f"served: {dict(counts)}"
            )
        counts.update(s.served_by for s in await send(client, gateway, 8) if s.status == 200)
    return counts
