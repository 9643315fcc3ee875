"""``/sim/*``: run-time control of a simulated server's ``/metrics`` page.

* ``GET /sim/faults`` -> the current :class:`~gie_sim.faults.Faults`;
  ``POST /sim/faults`` with e.g. ``{"mode": "slow", "delay_ms": 300}`` replaces them
  (omitted fields take their defaults; ``{"mode": "none"}`` heals the server).
* ``GET /sim/overrides`` / ``POST /sim/overrides`` with e.g. ``{"waiting": 7}``: values
  reported instead of the engine's (see :mod:`gie_sim.overrides`); ``{}`` clears them.

Both answer with the new state as JSON; invalid bodies get 400 in the OpenAI error shape.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from gie_sim.faults import Faults
from gie_sim.openai_api import ApiError, parse_json
from gie_sim.overrides import MetricOverrides, SimControls

__all__ = ["MetricsControl", "add_admin_routes"]

_Model = TypeVar("_Model", bound=BaseModel)


class MetricsControl(Protocol):
    """What the admin routes change on a server."""

    faults: Faults
    controls: SimControls


def _reply(model: BaseModel) -> web.Response:
    return web.Response(
        body=orjson.dumps(model.model_dump(mode="json")), content_type="application/json"
    )


async def _read(request: web.Request, model: type[_Model]) -> _Model:
    try:
        return model.model_validate(parse_json(await request.read()))
    except ValidationError as exc:
        raise ApiError(400, str(exc)) from None


def add_admin_routes(app: web.Application, target: MetricsControl) -> None:
    """Register the ``/sim/*`` routes of ``target`` on ``app``."""

    async def get_faults(_request: web.Request) -> web.Response:
        return _reply(target.faults)

    async def set_faults(request: web.Request) -> web.Response:
        target.faults = await _read(request, Faults)
        return _reply(target.faults)

    async def get_overrides(_request: web.Request) -> web.Response:
        return _reply(target.controls.overrides)

    async def set_overrides(request: web.Request) -> web.Response:
        target.controls.set_overrides(await _read(request, MetricOverrides))
        return _reply(target.controls.overrides)

    app.router.add_get("/sim/faults", get_faults)
    app.router.add_post("/sim/faults", set_faults)
    app.router.add_get("/sim/overrides", get_overrides)
    app.router.add_post("/sim/overrides", set_overrides)
