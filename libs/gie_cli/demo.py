"""``gie demo``: start a throw-away stack, send completions through the gateway, show
which simulated server served each one, and bring the stack down again."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.markup import escape
from rich.table import Table

from gie_cli.devstack import RunningStack, StackOptions, start_stack
from gie_cli.devstack.readiness import local_http_client
from gie_cli.runtime import EXIT_FAILED, console, err_console, print_progress, run_command

__all__ = ["DemoResult", "demo", "demo_succeeded", "send_completions"]

PROMPTS = (
    "Explain how a load balancer decides where to send a request.",
    "Write a haiku about GPUs waiting in a queue.",
    "What is the capital of Australia?",
    "Summarise the plot of Hamlet in one sentence.",
    "List three uses of a prefix cache in LLM serving.",
    "Translate 'good morning' into French, Spanish and German.",
    "Why is the sky blue? Answer for a five-year-old.",
    "Give me a name for a cat who likes routers.",
)


@dataclass(frozen=True, kw_only=True)
class DemoResult:
    index: int
    prompt: str
    status: int | None  # None when no HTTP response arrived
    served_by: str | None
    elapsed_ms: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.served_by)


async def _complete(
    client: httpx.AsyncClient, url: str, *, index: int, prompt: str, model: str
) -> DemoResult:
    started = time.perf_counter()
    body = {"model": model, "prompt": prompt, "max_tokens": 5}
    try:
        response = await client.post(url, json=body)
    except httpx.HTTPError as exc:
        elapsed = (time.perf_counter() - started) * 1000
        return DemoResult(
            index=index,
            prompt=prompt,
            status=None,
            served_by=None,
            elapsed_ms=elapsed,
            error=repr(exc),
        )
    elapsed = (time.perf_counter() - started) * 1000
    error = None if response.status_code == 200 else response.text[:200]
    return DemoResult(
        index=index,
        prompt=prompt,
        status=response.status_code,
        served_by=response.headers.get("x-served-by"),
        elapsed_ms=elapsed,
        error=error,
    )


async def send_completions(
    gateway: str, *, count: int, concurrency: int, model: str = "sim-llama"
) -> list[DemoResult]:
    """POST ``count`` completions to ``<gateway>/v1/completions`` in bursts of ``concurrency``."""
    url = f"{gateway}/v1/completions"
    results: list[DemoResult] = []
    async with local_http_client(timeout_s=60.0) as client:
        for start in range(0, count, concurrency):
            burst = range(start, min(start + concurrency, count))
            results += await asyncio.gather(
                *(
                    _complete(client, url, index=i, prompt=PROMPTS[i % len(PROMPTS)], model=model)
                    for i in burst
                )
            )
    return results


def demo_succeeded(results: Sequence[DemoResult], *, sims: int) -> bool:
    """All requests answered 200 by a server and, with two or more sims, several served."""
    served = {result.served_by for result in results if result.ok}
    return bool(results) and all(r.ok for r in results) and (sims < 2 or len(served) > 1)


def _print_results(results: Sequence[DemoResult], names: dict[str, str]) -> None:
    table = Table(title="requests", show_edge=False, pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column("status")
    table.add_column("served by", no_wrap=True)
    table.add_column("ms", justify="right")
    table.add_column("prompt")
    for r in results:
        status = "[green]200[/]" if r.status == 200 else f"[red]{r.status or 'error'}[/]"
        server = f"{r.served_by} ({names.get(r.served_by, '?')})" if r.served_by else "-"
        prompt = r.prompt if len(r.prompt) <= 30 else r.prompt[:29] + "…"
        detail = prompt if r.error is None else f"{prompt}  [red]{escape(r.error)}[/]"
        table.add_row(str(r.index + 1), status, server, f"{r.elapsed_ms:.0f}", detail)
    console.print(table, soft_wrap=False)
    counts = Counter(r.served_by for r in results if r.ok)
    summary = Table(title="served per server", show_edge=False, pad_edge=False)
    for column in ("server", "name", "requests"):
        summary.add_column(column)
    for server, name in names.items():
        summary.add_row(server, name, str(counts.get(server, 0)))
    console.print(summary, soft_wrap=False)


async def _demo(options: StackOptions, *, requests: int, concurrency: int) -> int:
    running: RunningStack | None = None
    succeeded = False
    try:
        running = await start_stack(options, progress=print_progress)
        console.print(f"gateway [bold cyan]{running.gateway}[/]")
        names = {
            part.addresses["endpoint"]: part.name
            for part in running.state.parts
            if part.kind == "sim"
        }
        results = await send_completions(
            running.gateway, count=requests, concurrency=concurrency, model=options.model
        )
        _print_results(results, names)
        succeeded = demo_succeeded(results, sims=options.sims)
    finally:
        if running is not None:
            await running.stop()
        if succeeded:
            shutil.rmtree(options.state_dir, ignore_errors=True)
        else:
            err_console.print(f"logs kept in {options.state_dir / 'logs'}")
    served = "" if options.sims < 2 else " and spread over several servers"
    if succeeded:
        console.print(f"[bold green]demo passed[/]: all {requests} requests succeeded{served}")
        return 0
    err_console.print(f"[bold red]demo failed[/]: not all requests succeeded{served}")
    return EXIT_FAILED


def demo(
    *,
    sims: Annotated[int, typer.Option(min=1, help="Number of simulated model servers.")] = 4,
    requests: Annotated[int, typer.Option(min=1, help="Number of completions to send.")] = 24,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Requests per burst \\[default: --sims].")
    ] = None,
    time_scale: Annotated[
        float, typer.Option(min=0.0, help="Simulated latency multiplier (1 = realistic).")
    ] = 1.0,
) -> None:
    """Start a temporary stack, send completions through the gateway, show where they landed."""
    options = StackOptions(
        state_dir=Path(tempfile.mkdtemp(prefix="gie-demo-")), sims=sims, time_scale=time_scale
    )
    code = run_command(_demo(options, requests=requests, concurrency=concurrency or sims))
    raise typer.Exit(code)
