"""Wiring of the picker: state stream → PoolView → ext_proc routing decisions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import grpc
from fastapi.responses import JSONResponse

from gie.bus import STATE, BackgroundPublisher, Deliver
from gie.events.subjects import pool_filter
from gie.lifecycle import wait_either
from gie.saturation import SaturationConfig
from gie.service import ServiceKit
from gie.view import PoolView
from gie_picker.debug_view import render_view
from gie_picker.director import Director
from gie_picker.extproc import ExtProcServicer, add_servicer
from gie_picker.extproc.protocol import BUFFERED, FULL_DUPLEX_STREAMED
from gie_picker.health import GrpcHealth
from gie_picker.scheduling import ShortestQueuePicker
from gie_picker.scheduling.queue_scheduler import ShortestQueueScheduler
from gie_picker.settings import PickerSettings
from gie_picker.telemetry import PickerMetrics, PoolCollector


def _now() -> datetime:
    return datetime.now(UTC)


async def run(settings: PickerSettings, stop: asyncio.Event) -> None:
    async with ServiceKit("picker", settings) as kit:
        view = PoolView(settings.pool)
        saturation = SaturationConfig()
        publisher = BackgroundPublisher(kit.bus, metrics=kit.bus_metrics)
        publisher.start()
        kit.registry.register(PoolCollector(view, saturation, _now))
        director = Director(
            view=view,
            scheduler=ShortestQueueScheduler(ShortestQueuePicker()),
            saturation=saturation,
            publisher=publisher,
            metrics=PickerMetrics(kit.registry),
            source=settings.instance_id,
            now=_now,
        )

        @kit.admin_app.get("/debug/view")
        def debug_view() -> JSONResponse:
            return JSONResponse(render_view(view, saturation, _now))

        # SO_REUSEPORT lets several worker processes serve one port.
        server = grpc.aio.server(options=[("grpc.so_reuseport", 1)])
        mode = FULL_DUPLEX_STREAMED
        if settings.default_body_mode == "BUFFERED":
            mode = BUFFERED
        add_servicer(
            server,
            ExtProcServicer(
                director,
                max_body_bytes=settings.max_body_bytes,
                chunk_bytes=settings.body_chunk_bytes,
                default_mode=mode,
            ),
        )
        grpc_health = GrpcHealth(server)
        port = server.add_insecure_port(f"{settings.grpc_host}:{settings.grpc_port}")
        if settings.worker_port_base:
            own = settings.worker_port_base + settings.worker_index
            server.add_insecure_port(f"{settings.grpc_host}:{own}")
            kit.log.info("ext_proc worker port", address=f"{settings.grpc_host}:{own}")
        await grpc_health.start()
        await server.start()
        kit.log.info("ext_proc serving", address=f"{settings.grpc_host}:{port}")
        following = await kit.bus.follow(
            STATE, pool_filter(settings.pool), view.apply, deliver=Deliver.LAST_PER_SUBJECT
        )
        kit.health.add_check(
            "view", lambda: None if following.caught_up.is_set() else "replaying pool state"
        )
        try:
            if await wait_either(following.caught_up, stop) is following.caught_up:
                await grpc_health.set_ready(True)
                kit.log.info("view caught up", endpoints=len(view), digest=view.digest())
            await stop.wait()
        finally:
            await grpc_health.stop()
            await server.stop(grace=5.0)
            await following.stop()
            await publisher.close()
