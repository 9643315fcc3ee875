"""The pickers' views, sampled: digest and stream positions of every replica.

A sample is *equal* when every picker that answered ``/debug/view`` showed the same
view digest at the same position on the state stream (two replicas that applied the same
state events hold the same view). Under load the state stream moves tens of events a
second and two pages are never read at quite the same instant, so few samples are
equal; two checks do not depend on that luck:

* :func:`diverged_positions`: a view's digest is a function of the state events up to
  its position, so two views at the same position with different digests (in any
  samples, of any replicas) are a divergence;
* :func:`agreeing_at`: samples in which every replica moved on since the previous
  sample (none frozen) and all are within a few events of each other (or equal).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from gie_cli.devstack import RunningStack
from gie_cli.devstack.readiness import local_http_client

__all__ = [
    "STATE_FOLLOWING",
    "ViewSample",
    "ViewSampler",
    "agreeing_at",
    "diverged_positions",
    "picker_admins",
    "positions_behind",
    "read_view",
]

PICKER = "picker"
STATE_FOLLOWING = "pool state"


def _is_picker_replica(name: str) -> bool:
    """``picker``, ``picker-1``, ...; not a worker's part (``picker-w1``, ``picker-1-w1``)."""
    return name == PICKER or (name.startswith(f"{PICKER}-") and name[len(PICKER) + 1 :].isdigit())


def picker_admins(stack: RunningStack) -> dict[str, str]:
    """Picker replica part name -> its admin URL."""
    return {
        part.name: part.addresses["admin"]
        for part in stack.state.parts
        if part.kind == "service" and _is_picker_replica(part.name)
    }


@dataclass(frozen=True, kw_only=True)
class ViewSample:
    at: float  # time.monotonic()
    views: dict[str, dict[str, Any] | None]  # replica -> {digest, positions, endpoints}

    @property
    def equal(self) -> bool:
        """Every replica that answered holds the same view at the same state position
        (a killed replica does not answer and does not count; at least one must)."""
        keys = {
            (view["digest"], view["positions"].get(STATE_FOLLOWING))
            for view in self.views.values()
            if view is not None
        }
        return len(keys) == 1


async def read_view(client: httpx.AsyncClient, admin: str) -> dict[str, Any] | None:
    """The parts of a picker's ``/debug/view`` compared here; None if it did not answer."""
    try:
        response = await client.get(f"{admin}/debug/view")
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    page = response.json()
    return {
        "digest": page["digest"],
        "positions": page.get("positions", {}),
        "endpoints": [
            endpoint["address"] for endpoint in page["endpoints"] if endpoint["metrics"] is not None
        ],
    }


class ViewSampler:
    """Samples every picker's view each ``every_s`` until stopped."""

    def __init__(self, stack: RunningStack, *, every_s: float) -> None:
        self._stack = stack
        self._every_s = every_s
        self.samples: list[ViewSample] = []
        self._task: asyncio.Task[None] | None = None

    async def sample(self, client: httpx.AsyncClient) -> ViewSample:
        admins = picker_admins(self._stack)
        at = time.monotonic()
        views = await asyncio.gather(*(read_view(client, admin) for admin in admins.values()))
        return ViewSample(at=at, views=dict(zip(admins, views, strict=True)))

    async def _run(self) -> None:
        async with local_http_client(timeout_s=1.0) as client:
            while True:
                self.samples.append(await self.sample(client))
                await asyncio.sleep(self._every_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def settle(self, *, timeout_s: float) -> ViewSample:
        """After the load: sample until every replica has the same digest and the same
        position on every stream, or ``timeout_s``; the last sample."""
        deadline = time.monotonic() + timeout_s
        async with local_http_client(timeout_s=1.0) as client:
            while True:
                last = await self.sample(client)
                if last.equal and not positions_behind(last):
                    return last
                if time.monotonic() > deadline:
                    return last
                await asyncio.sleep(self._every_s)


def positions_behind(sample: ViewSample) -> int:
    """Stream sequences each replica is behind the furthest one, summed over replicas
    and followings (0 when every replica applied up to the same place)."""
    views = [view for view in sample.views.values() if view is not None]
    names = set().union(*(view["positions"] for view in views)) if views else set()
    behind = 0
    for name in names:
        positions = [int(view["positions"].get(name, 0)) for view in views]
        behind += sum(max(positions) - position for position in positions)
    return behind


def diverged_positions(samples: Sequence[ViewSample]) -> int:
    """State positions at which views had different digests."""
    digests: dict[int, set[str]] = {}
    for sample in samples:
        for view in sample.views.values():
            if view is not None:
                position = int(view["positions"].get(STATE_FOLLOWING, 0))
                digests.setdefault(position, set()).add(view["digest"])
    return sum(1 for found in digests.values() if len(found) > 1)


def agreeing_at(samples: Sequence[ViewSample], *, max_gap: int) -> list[float]:
    """When the replicas agreed: every one that answered moved on since the previous
    sample and all are within ``max_gap`` state events of each other."""
    times = []
    previous: dict[str, int] = {}
    for sample in samples:
        positions = {
            name: int(view["positions"].get(STATE_FOLLOWING, 0))
            for name, view in sample.views.items()
            if view is not None
        }
        moving = all(position > previous.get(name, -1) for name, position in positions.items())
        if positions and moving and max(positions.values()) - min(positions.values()) <= max_gap:
            times.append(sample.at)
        previous = positions
    return times
