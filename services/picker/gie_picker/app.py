"""Wiring of the picker: state stream → PoolView → ext_proc routing decisions."""

from __future__ import annotations

import asyncio

import grpc
from fastapi.responses import JSONResponse

from gie.bus import STATE, BackgroundPublisher, Deliver
from gie.events.subjects import pool_filter
from gie.service import ServiceKit
from gie.view import PoolView
from gie_picker.extproc import ExtProcServicer, add_servicer
from gie_picker.extproc.protocol import BUFFERED, FULL_DUPLEX_STREAMED
from gie_picker.routing import Router, RoutingMetrics
from gie_picker.scheduling import ShortestQueuePicker
from gie_picker.settings import PickerSettings


async def run(settings: PickerSettings, stop: asyncio.Event) -> None:
    async with ServiceKit("picker", settings) as kit:
        view = PoolView(settings.pool)
        publisher = BackgroundPublisher(kit.bus, metrics=kit.bus_metrics)
        publisher.start()
        router = Router(
            view=view,
            picker=ShortestQueuePicker(),
            publisher=publisher,
            source=settings.instance_id,
            metrics=RoutingMetrics(kit.registry),
        )
        following = await kit.bus.follow(
            STATE, pool_filter(settings.pool), view.apply, deliver=Deliver.LAST_PER_SUBJECT
        )

        @kit.admin_app.get("/debug/view")
        def debug_view() -> JSONResponse:
            return JSONResponse(
                {
                    "pool": view.pool,
                    "digest": view.digest(),
                    "endpoints": [
                        {
                            "address": state.address,
                            "metrics": state.metrics.model_dump() if state.metrics else None,
                            "scraped_at": state.scraped_at.isoformat()
                            if state.scraped_at
                            else None,
                        }
                        for state in view.endpoints()
                    ],
                }
            )

        server = grpc.aio.server()
        mode = (
            FULL_DUPLEX_STREAMED
            if settings.default_body_mode == "FULL_DUPLEX_STREAMED"
            else BUFFERED
        )
        add_servicer(
            server,
            ExtProcServicer(
                router,
                max_body_bytes=settings.max_body_bytes,
                chunk_bytes=settings.body_chunk_bytes,
                default_mode=mode,
            ),
        )
        port = server.add_insecure_port(f"{settings.grpc_host}:{settings.grpc_port}")
        await server.start()
        kit.log.info("ext_proc serving", address=f"{settings.grpc_host}:{port}")
        kit.health.add_check(
            "view", lambda: None if following.caught_up.is_set() else "replaying pool state"
        )
        try:
            await stop.wait()
        finally:
            await server.stop(grace=5.0)
            await following.stop()
            await publisher.close()
