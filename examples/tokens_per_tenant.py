"""Tokens per tenant, from gie's events: an example consumer of the SDK.

``RequestCompleted`` carries the tokens a request used but not its tenant. The
tenant is the request's fairness id (the ``x-gateway-inference-fairness-id``
header), which the flow-controller's ``RequestQueued`` / ``RequestDispatched``
events carry; this consumer joins them by ``request_id``. A request routed without
flow control has no flow event and is counted under ``default-flow`` (the fairness
id gie gives a request without one).

Run it against the local stack (``gie up``)::

    python -m examples.tokens_per_tenant --nats-url nats://127.0.0.1:4222 --since 10m

With ``--durable NAME`` it resumes where it stopped, and counts every completion
at least once (duplicates are dropped by event id while it runs).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from gie.consume import Gap, RawEvent, subscribe
from gie.events import Event, RequestCompleted, RequestDispatched, RequestQueued

DEFAULT_TENANT = "default-flow"
TYPES = ("RequestQueued", "RequestDispatched", "RequestCompleted")


@dataclass
class Usage:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class TokensPerTenant:
    """Folds events into usage per tenant; remembers at most ``capacity`` tenants of
    requests still in flight (the oldest are forgotten first)."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._capacity = capacity
        self._tenant_of: dict[str, str] = {}
        self.usage: dict[str, Usage] = {}

    def apply(self, event: Event | RawEvent) -> None:
        if isinstance(event, RequestQueued | RequestDispatched):
            if len(self._tenant_of) >= self._capacity:
                del self._tenant_of[next(iter(self._tenant_of))]
            self._tenant_of[event.request_id] = event.fairness_id
        elif isinstance(event, RequestCompleted):
            tenant = self._tenant_of.pop(event.request_id, DEFAULT_TENANT)
            usage = self.usage.setdefault(tenant, Usage())
            usage.requests += 1
            usage.prompt_tokens += event.prompt_tokens or 0
            usage.completion_tokens += event.completion_tokens or 0


async def consume(
    nats_url: str,
    *,
    pool: str | None = None,
    since: str | None = None,
    durable: str | None = None,
    limit: int | None = None,
    on_gap: Callable[[Gap], object] | None = None,
    totals: TokensPerTenant | None = None,
) -> TokensPerTenant:
    """Fold events into ``totals`` (a new one when None) until ``limit`` have been seen
    (forever when None)."""
    totals = totals if totals is not None else TokensPerTenant()
    seen = 0
    async for event in subscribe(
        nats_url, pool=pool, types=TYPES, since=since, durable=durable, on_gap=on_gap
    ):
        totals.apply(event)
        seen += 1
        if limit is not None and seen >= limit:
            break
    return totals


def report(totals: TokensPerTenant) -> str:
    rows = [f"{'tenant':<24} {'requests':>9} {'prompt':>10} {'completion':>11}"]
    for tenant, usage in sorted(totals.usage.items()):
        rows.append(
            f"{tenant:<24} {usage.requests:>9} {usage.prompt_tokens:>10} "
            f"{usage.completion_tokens:>11}"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nats-url", default="nats://127.0.0.1:4222")
    parser.add_argument("--pool", help="namespace/name of one pool (default: every pool)")
    parser.add_argument("--since", help="start this long ago (10m) or at an RFC 3339 time")
    parser.add_argument("--durable", help="name of a durable consumer to resume")
    parser.add_argument("--limit", type=int, help="stop after this many events")
    parser.add_argument(
        "--every", type=float, default=0.0, help="also print the totals every N seconds"
    )
    args = parser.parse_args()

    def gap(found: Gap) -> None:
        print(f"warning: {found.missing} {found.type} events of {found.publisher} missing")

    totals = TokensPerTenant()

    async def run() -> None:
        printer = asyncio.create_task(print_every(args.every, totals)) if args.every else None
        try:
            await consume(
                args.nats_url,
                pool=args.pool,
                since=args.since,
                durable=args.durable,
                limit=args.limit,
                on_gap=gap,
                totals=totals,
            )
        finally:
            if printer is not None:
                printer.cancel()

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: the totals so far
        asyncio.run(run())
    print(report(totals))


async def print_every(seconds: float, totals: TokensPerTenant) -> None:
    while True:
        await asyncio.sleep(seconds)
        print(report(totals), flush=True)


if __name__ == "__main__":
    main()
