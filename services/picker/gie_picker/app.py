"""Wiring of the picker: state stream → PoolView → ext_proc routing decisions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import grpc
from fastapi.responses import JSONResponse

from gie.bus import EVENTS, STATE, BackgroundPublisher, Deliver
from gie.events.subjects import pool_filter, pool_prefix
from gie.lifecycle import wait_either
from gie.service import ServiceKit
from gie.view import InFlightView, PoolView, RoutingHistory
from gie_picker.debug_view import render_view
from gie_picker.director import Director
from gie_picker.extproc import ExtProcServicer, add_servicer
from gie_picker.extproc.protocol import BUFFERED, FULL_DUPLEX_STREAMED
from gie_picker.health import GrpcHealth
from gie_picker.prefix_cache import PrefixCacheState
from gie_picker.routing_memory import RoutingMemory
from gie_picker.settings import PickerSettings
from gie_picker.telemetry import PickerMetrics, PoolCollector
from gie_picker.wiring import configured_scheduler, load_picker_config


def _now() -> datetime:
    return datetime.now(UTC)


async def _expire_inflight(inflight: InFlightView, period_s: float) -> None:
    while True:
        await asyncio.sleep(period_s)
        inflight.expire(_now())


async def run(settings: PickerSettings, stop: asyncio.Event) -> None:
    config = load_picker_config(settings)  # a broken config stops start-up here
    async with ServiceKit("picker", settings) as kit:
        view = PoolView(settings.pool)
        inflight = InFlightView(settings.pool, ttl_s=settings.inflight_ttl_s)
        prefix_cache = PrefixCacheState(view, registry=kit.registry)
        history = RoutingHistory(settings.pool)
        routing_memory = RoutingMemory(history)
        saturation = config.saturation
        publisher = BackgroundPublisher(kit.bus, metrics=kit.bus_metrics)
        publisher.start()
        kit.registry.register(PoolCollector(view, saturation, _now))
        director = Director(
            view=view,
            scheduler=configured_scheduler(
                config,
                registry=kit.registry,
                inflight=inflight,
                prefix_cache=prefix_cache,
                routing=routing_memory,
            ),
            prefix_cache=prefix_cache,
            routing=routing_memory,
            saturation=saturation,
            publisher=publisher,
            metrics=PickerMetrics(kit.registry),
            source=settings.instance_id,
            now=_now,
        )

        @kit.admin_app.get("/debug/view")
        def debug_view() -> JSONResponse:
            return JSONResponse(render_view(view, saturation, _now, inflight, prefix_cache.index))

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
        # In-flight requests of every replica: routing facts younger than the TTL.
        routing = await kit.bus.follow(
            EVENTS,
            f"{pool_prefix(settings.pool)}.routing.>",
            lambda event: (
                inflight.apply(event),
                prefix_cache.apply(event),
                history.apply(event),
            ),
            deliver=Deliver.SINCE,
            since=_now() - timedelta(seconds=settings.inflight_ttl_s),
        )
        expiry = asyncio.create_task(_expire_inflight(inflight, 5.0))
        kit.health.add_check(
            "view", lambda: None if following.caught_up.is_set() else "replaying pool state"
        )
        kit.health.add_check(
            "in-flight", lambda: None if routing.caught_up.is_set() else "replaying routing"
        )
        try:
            caught_up = [following.caught_up, routing.caught_up]
            if all([await wait_either(event, stop) is event for event in caught_up]):
                await grpc_health.set_ready(True)
                kit.log.info("view caught up", endpoints=len(view), digest=view.digest())
            await stop.wait()
        finally:
            expiry.cancel()
            await routing.stop()
            await grpc_health.stop()
            await server.stop(grace=5.0)
            await following.stop()
            await publisher.close()
