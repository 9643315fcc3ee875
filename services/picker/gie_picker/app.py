"""Wiring of the picker: event stream → projections → ext_proc routing decisions."""

from __future__ import annotations

import asyncio
import contextlib
import time

from prometheus_client import CollectorRegistry
from starlette.responses import JSONResponse

from gie.bus import BackgroundPublisher
from gie.clock import SystemClock
from gie.flowcontrol import FlowControlClient
from gie.lifecycle import cancel_and_wait, collector_paused, freeze_heap, wait_either
from gie.prefix import load_prefix_key, report_prefix_key
from gie.service import ServiceKit
from gie.tls import client_channel_credentials, server_credentials, watch_certificates
from gie_picker.admission.flow_gate import FlowGate
from gie_picker.completions import CompletionRecordService, RecordMetrics
from gie_picker.config import EffectiveConfig
from gie_picker.health import EndpointHealth, HealthMetrics
from gie_picker.projections.event_reading import EventReading
from gie_picker.projections.state import Projections
from gie_picker.requestcontrol.director import Director
from gie_picker.server.grpc_server import build_grpc_server
from gie_picker.server.health import GrpcHealth
from gie_picker.settings import PickerSettings
from gie_picker.telemetry.debug_view import render_view
from gie_picker.telemetry.metrics import PickerMetrics, PoolCollector
from gie_picker.wiring import configured_scheduler, load_picker_config

# The wall clock every part of the picker judges staleness and expiry by.
_CLOCK = SystemClock()
_now = _CLOCK.now


def _endpoint_health(
    settings: PickerSettings, config: EffectiveConfig, registry: CollectorRegistry
) -> EndpointHealth:
    """Ejection of failing endpoints (completion records and scrapes judge them)."""
    return EndpointHealth(
        metrics=HealthMetrics(registry),
        monotonic=_CLOCK.monotonic,
        base_ejection_s=settings.ejection_base_s,
        max_ejection_s=settings.ejection_max_s,
        unreachable_after_s=settings.unreachable_after_s
        and max(settings.unreachable_after_s, 2 * config.saturation.metrics_staleness_s),
    )


def _add_admin_views(kit: ServiceKit, state: Projections, config: EffectiveConfig) -> None:
    """The pool's gauges on /metrics and the view on /debug/view."""
    kit.registry.register(PoolCollector(state.view, config.saturation, _now))

    @kit.admin_app.get("/debug/view")
    async def debug_view() -> JSONResponse:  # on the loop, as every view read
        return JSONResponse(
            await render_view(
                state.view,
                config.saturation,
                _now,
                state.inflight,
                state.prefix_cache.index,
                precise_index=state.prefix_cache.precise,
                positions=lambda: {n: f.position for n, f in state.followings.items()},
            )
        )


async def _caught_up(
    kit: ServiceKit,
    state: Projections,
    grpc_health: GrpcHealth,
    stop: asyncio.Event,
    replay: contextlib.ExitStack,
    *,
    started: float,
) -> bool:
    """Wait until every replay has caught up (False: stopped first); then end the
    ``replay`` context, serve gRPC readiness, log it and freeze the heap."""
    replays = [f.caught_up for f in state.followings.values()]
    caught_up = all([await wait_either(event, stop) is event for event in replays])
    replay.close()
    if caught_up:
        await grpc_health.set_ready(True)
        kit.log.info(
            "caught up",
            endpoints=len(state.view),
            in_flight=len(state.inflight),
            digest=state.view.digest(),
            replay_s=round(time.monotonic() - started, 3),
            cpu_s=round(time.process_time(), 3),
        )
        freeze_heap()
    return caught_up


async def run(settings: PickerSettings, stop: asyncio.Event) -> None:
    config = load_picker_config(settings)  # a broken config stops start-up here
    targets = [t.strip() for t in settings.flow_control_targets.split(",") if t.strip()]
    flow_control = config.feature_enabled("flowControl")
    if flow_control and not targets:
        raise SystemExit("the flowControl feature gate is on but GIE_FLOW_CONTROL_TARGETS is empty")
    prefix_key = load_prefix_key(settings.prefix_key_file)  # a bad key file stops start-up
    async with ServiceKit("picker", settings) as kit, contextlib.AsyncExitStack() as resources:
        report_prefix_key(kit.log, prefix_key)
        state = Projections.create(settings, kit.registry)
        flow_gate = None
        if flow_control:
            flow_gate = FlowGate(
                client=await resources.enter_async_context(
                    FlowControlClient(targets, tls=client_channel_credentials(settings))
                ),
                backlog=state.backlog,
                saturation=config.saturation,
                pool=settings.pool,
                now=_now,
            )
        publisher = BackgroundPublisher(
            kit.bus,
            metrics=kit.bus_metrics,
            confirm=settings.confirm_routing_events,
            batch_s=settings.routing_event_batch_s,
            batch_max=settings.routing_event_batch_max,
            ride_along_s=settings.routing_event_ride_along_s,
        )
        publisher.start()
        reading = EventReading(min_interval_s=settings.event_settle_interval_s)
        health = _endpoint_health(settings, config, kit.registry)
        director = Director(
            view=state.view,
            scheduler=configured_scheduler(
                config,
                registry=kit.registry,
                inflight=state.inflight,
                prefix_cache=state.prefix_cache,
                routing=state.routing,
                prefix_key=prefix_key,
            ),
            prefix_cache=state.prefix_cache,
            routing=state.routing,
            inflight=state.inflight,
            flow_gate=flow_gate,
            settle_events=reading.settle,
            fold_own=state.fold_own,
            model_rewrites=state.rewrites,
            health=health,
            saturation=config.saturation,
            publisher=publisher,
            metrics=PickerMetrics(kit.registry),
            source=settings.instance_id,
            now=_now,
        )
        _add_admin_views(kit, state, config)
        records = (
            CompletionRecordService(director, RecordMetrics(kit.registry), health=health)
            if settings.completion_records
            else None
        )
        tls = server_credentials(
            settings, server="ext_proc", host=settings.grpc_host, registry=kit.registry
        )
        server, grpc_health = build_grpc_server(settings, director, records=records, tls=tls)
        await grpc_health.start()
        await server.start()
        store = kit.bus.snapshots()
        kit.health.add_check("replay", state.not_caught_up)  # before any event arrives
        kit.started()
        replay_started = time.monotonic()
        replay = resources.enter_context(contextlib.ExitStack())  # closed once caught up
        replay.enter_context(collector_paused())
        await state.follow(kit.bus, store, settings, _now, flow_control=flow_gate is not None)
        tasks = state.background_tasks(store, settings, _now)
        if tls is not None:
            tasks.append(asyncio.create_task(watch_certificates(tls), name="tls-watch"))
        try:
            caught_up = await _caught_up(
                kit, state, grpc_health, stop, replay, started=replay_started
            )
            delay = settings.effective_event_read_delay_s  # 0: read on arrival
            if caught_up and delay:
                reading.start(kit.bus.read_in_bursts(delay))
            await stop.wait()
        finally:
            await cancel_and_wait(tasks)
            await grpc_health.stop()
            if records is not None:
                records.stop()
            await server.stop(grace=5.0)
            await state.stop()
            await publisher.close()
