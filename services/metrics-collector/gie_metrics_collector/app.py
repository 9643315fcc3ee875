"""Lifecycle of the metrics-collector process.

Start-up: admin app and bus (``ServiceKit``), then membership (so the first split is
right), then the pool's endpoint and saturation subjects (replay last-per-subject, then
follow), peers' metrics while there are peers, then the timers. Shutdown: leave the
membership (peers take over at once), stop following, stop the scrape loops and KV-event
followers, flush the outbox, close the bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import Any

from prometheus_client import CollectorRegistry

from gie.bus import STATE, BackgroundPublisher, Deliver, Following
from gie.clock import SystemClock
from gie.events.subjects import pool_prefix
from gie.lifecycle import cancel_and_wait, wait_either
from gie.prefix import load_prefix_key, report_prefix_key
from gie.saturation import SaturationConfig
from gie.service import ServiceKit, nats_credentials
from gie_metrics_collector.collector import Collector
from gie_metrics_collector.ha import KvMembership, Membership, PeerMetricsFeed, StaticMembership
from gie_metrics_collector.kv import KvMetrics, KvSupervisor
from gie_metrics_collector.pool import load_saturation_config
from gie_metrics_collector.settings import CollectorSettings

__all__ = ["run"]


def _membership(
    settings: CollectorSettings, clock: SystemClock, registry: CollectorRegistry
) -> Membership:
    if not settings.membership_enabled:
        return StaticMembership(settings.instance_id)
    return KvMembership(
        nats_url=settings.nats_url,
        bucket=settings.membership_bucket,
        pool=settings.pool,
        me=settings.instance_id,
        heartbeat_s=settings.membership_heartbeat_s,
        clock=clock,
        connect_timeout_s=settings.nats_connect_timeout_s,
        sync_timeout_s=settings.membership_sync_timeout_s,
        registry=registry,
        credentials=nats_credentials(settings, "metrics-collector"),
    )


def _log_start(kit: ServiceKit, settings: CollectorSettings, saturation: SaturationConfig) -> None:
    heartbeat = settings.effective_heartbeat_s(saturation)
    kit.log.info(
        "saturation thresholds and publishing",
        **saturation.model_dump(by_alias=True),
        heartbeat_s=heartbeat,
        scrape_interval_s=settings.scrape_interval_s,
        flavour=settings.metrics_flavour,
    )
    if heartbeat + settings.scrape_interval_s >= saturation.metrics_staleness_s:
        kit.log.warning(
            "heartbeat plus scrape interval reach metricsStalenessThreshold: "
            "idle endpoints will look stale to pickers",
            heartbeat_s=heartbeat,
            scrape_interval_s=settings.scrape_interval_s,
        )


def _report_end(kit: ServiceKit, task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        kit.health.alive = False  # a timer died of a bug: let the orchestrator restart us
        kit.log.error("timer task failed", task=task.get_name(), exc_info=task.exception())


async def _follow_state(
    kit: ServiceKit, settings: CollectorSettings, collector: Collector
) -> list[Following]:
    return [
        await kit.bus.follow(
            STATE,
            f"{pool_prefix(settings.pool)}.{kind}.>",
            collector.on_event,
            deliver=Deliver.LAST_PER_SUBJECT,
        )
        for kind in ("endpoint", "saturation")
    ]


async def run(
    settings: CollectorSettings,
    stop: asyncio.Event,
    *,
    saturation: SaturationConfig | None = None,
) -> None:
    """Run one collector replica until ``stop`` is set."""
    saturation = saturation or load_saturation_config(settings.config_file)
    clock = SystemClock()
    async with ServiceKit("metrics-collector", settings) as kit:
        _log_start(kit, settings, saturation)
        outbox = BackgroundPublisher(
            kit.bus,
            metrics=kit.bus_metrics,
            max_queue=settings.publish_queue_size,
            concurrency=settings.publish_concurrency,
        )
        outbox.start()
        kv = None
        if settings.kv_events_enabled:
            prefix_key = load_prefix_key(settings.prefix_key_file)
            report_prefix_key(kit.log, prefix_key)
            kv = KvSupervisor(
                bus=kit.bus,
                pool=settings.pool,
                source=settings.instance_id,
                port=settings.kv_events_port,
                replay_port=settings.kv_events_replay_port,
                replay_timeout_s=settings.kv_replay_timeout_s,
                metrics=KvMetrics(kit.registry),
                key=prefix_key,
                max_message_bytes=settings.kv_max_message_bytes,
                heartbeat_s=settings.kv_heartbeat_s,
            )
        collector = Collector(
            settings,
            saturation=saturation,
            outbox=outbox,
            clock=clock,
            registry=kit.registry,
            kv=kv,
        )

        @kit.admin_app.get("/debug/collector")
        async def debug_collector() -> dict[str, Any]:
            return collector.debug()

        replayed = asyncio.Event()
        kit.health.add_check(
            "state", lambda: None if replayed.is_set() else "joining peers, replaying state"
        )
        kit.started()
        peers = PeerMetricsFeed(kit.bus, pool=settings.pool, handler=collector.on_event)
        followings: list[Following] = []
        timers: list[asyncio.Task[None]] = []
        try:
            async with _membership(settings, clock, kit.registry) as membership:
                for listener in (collector.on_members, peers.want_for):
                    membership.on_change(listener)
                    listener(membership.members)
                followings = await _follow_state(kit, settings, collector)
                for following in followings:
                    if await wait_either(following.caught_up, stop) is stop:
                        return
                replayed.set()
                collector.monitor.arm(saturation.metrics_staleness_s)
                interval = settings.effective_saturation_interval_s(saturation)
                timers = [
                    asyncio.create_task(collector.monitor.run(interval), name="saturation"),
                    asyncio.create_task(collector.refresh_gauges(), name="gauges"),
                ]
                for timer in timers:
                    timer.add_done_callback(functools.partial(_report_end, kit))
                await stop.wait()
        finally:
            await peers.close()
            for following in followings:
                await following.stop()
            await cancel_and_wait(timers)
            await collector.supervisor.close()
            if kv is not None:
                await kv.close()
            with contextlib.suppress(asyncio.CancelledError):
                await outbox.close()
