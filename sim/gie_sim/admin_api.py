"""``/sim/*``: run-time control of a simulated server's ``/metrics`` page.

* ``GET /sim/faults`` -> the current :class:`~gie_sim.faults.Faults`;
  ``POST /sim/faults`` with e.g. ``{"mode": "slow", "delay_ms": 300}`` replaces them
  (omitted fields take their defaults; ``{"mode": "none"}`` heals the server).
* ``GET /sim/overrides`` / ``POST /sim/overrides`` with e.g. ``{"waiting": 7}``: values
  reported instead of the engine's (see :mod:`gie_sim.overrides`); ``{}`` clears them.

* ``GET /sim/kv-events`` / ``POST /sim/kv-events`` with e.g. ``{"drop_next": 3}``: drop
  or reorder the next KV-event batches (see :class:`~gie_sim.kv_publisher.KvEventsControl`),
  answered with the control and ``next_seq``.
* ``GET /sim/api-faults`` / ``POST /sim/api-faults`` with e.g. ``{"mode": "reset"}``:
  break the OpenAI API (see :mod:`gie_sim.api_faults`); a ``refuse`` asked for here is
  answered on the asking connection, which is then closed.
* ``POST /reset_prefix_cache`` (vLLM's route): forget every cached block, announced as
  ``AllBlocksCleared``.

All answer with the new state as JSON; invalid bodies get 400 in the OpenAI error shape.
"""

from __future__ import annotations

import asyncio
from typing import Protocol, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from gie_sim.api_faults import ApiFaults
from gie_sim.faults import Faults
from gie_sim.kv_cache import PrefixCache
from gie_sim.kv_publisher import KvEventsControl, KvPublisher
from gie_sim.openai_api import ApiError, parse_json
from gie_sim.overrides import MetricOverrides, SimControls

__all__ = [
    "ApiFaultControl",
    "KvControl",
    "MetricsControl",
    "add_admin_routes",
    "add_api_fault_routes",
    "add_kv_routes",
    "read_body",
    "reply",
]

_Model = TypeVar("_Model", bound=BaseModel)


class MetricsControl(Protocol):
    """What the admin routes change on a server."""

    faults: Faults
    controls: SimControls


class KvControl(Protocol):
    """What the KV-event routes change on a server."""

    @property
    def kv_events(self) -> KvPublisher: ...

    @property
    def prefix_cache(self) -> PrefixCache: ...


class ApiFaultControl(Protocol):
    """What the API fault routes change on a server."""

    @property
    def api_faults(self) -> ApiFaults: ...

    async def set_api_faults(
        self, faults: ApiFaults, *, spare: asyncio.BaseTransport | None = None
    ) -> None: ...


def reply(model: BaseModel) -> web.Response:
    """``model`` as a JSON answer."""
    return web.Response(
        body=orjson.dumps(model.model_dump(mode="json")), content_type="application/json"
    )


async def read_body(request: web.Request, model: type[_Model]) -> _Model:
    """The request's JSON body as ``model``; ApiError(400) naming the problem."""
    try:
        return model.model_validate(parse_json(await request.read()))
    except ValidationError as exc:
        raise ApiError(400, str(exc)) from None


def add_admin_routes(app: web.Application, target: MetricsControl) -> None:
    """Register the ``/sim/*`` routes of ``target`` on ``app``."""

    async def get_faults(_request: web.Request) -> web.Response:
        return reply(target.faults)

    async def set_faults(request: web.Request) -> web.Response:
        target.faults = await read_body(request, Faults)
        return reply(target.faults)

    async def get_overrides(_request: web.Request) -> web.Response:
        return reply(target.controls.overrides)

    async def set_overrides(request: web.Request) -> web.Response:
        target.controls.set_overrides(await read_body(request, MetricOverrides))
        return reply(target.controls.overrides)

    app.router.add_get("/sim/faults", get_faults)
    app.router.add_post("/sim/faults", set_faults)
    app.router.add_get("/sim/overrides", get_overrides)
    app.router.add_post("/sim/overrides", set_overrides)


def add_api_fault_routes(app: web.Application, target: ApiFaultControl) -> None:
    """Register ``/sim/api-faults`` of ``target`` on ``app``."""

    async def get_api_faults(_request: web.Request) -> web.Response:
        return reply(target.api_faults)

    async def set_api_faults(request: web.Request) -> web.Response:
        await target.set_api_faults(await read_body(request, ApiFaults), spare=request.transport)
        response = reply(target.api_faults)
        response.force_close()  # a refusing server keeps no connection open
        return response

    app.router.add_get("/sim/api-faults", get_api_faults)
    app.router.add_post("/sim/api-faults", set_api_faults)


def add_kv_routes(app: web.Application, target: KvControl) -> None:
    """Register ``/sim/kv-events`` and ``/reset_prefix_cache`` of ``target`` on ``app``."""

    def state() -> web.Response:
        body = {**target.kv_events.control.model_dump(), "next_seq": target.kv_events.next_seq}
        return web.Response(body=orjson.dumps(body), content_type="application/json")

    async def get_kv(_request: web.Request) -> web.Response:
        return state()

    async def set_kv(request: web.Request) -> web.Response:
        target.kv_events.control = await read_body(request, KvEventsControl)
        return state()

    async def reset(_request: web.Request) -> web.Response:
        dropped = target.prefix_cache.clear()
        target.prefix_cache.events.flush()
        return web.Response(
            body=orjson.dumps({"cleared_blocks": dropped}), content_type="application/json"
        )

    app.router.add_get("/sim/kv-events", get_kv)
    app.router.add_post("/sim/kv-events", set_kv)
    app.router.add_post("/reset_prefix_cache", reset)
