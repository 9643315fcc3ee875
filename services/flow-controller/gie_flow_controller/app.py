"""The flow-controller's lifecycle: start the parts, serve until stopped, drain.

Start: admin app and NATS (ServiceKit); Redis; the pool view from the state stream and
completions from the event stream; outcome notices; the gRPC server (health NOT_SERVING);
the shard layout check, then the supervisor and housekeeping. The gRPC health turns
SERVING once the view has caught up. Stop, in reverse: refuse new calls and hand waiting
ones back (UNAVAILABLE, the picker retries elsewhere), stop the tasks, release the shards
so another replica takes them over at once, stop following, flush events, close Redis.

The long-lived tasks (Redis health, notices, outcome polling, the shard supervisor and
each shard worker, housekeeping) run supervised: one that fails is logged, counted and
started again with backoff, and ``/readyz`` names it (``task:<name>``; the workers under
``task:shard-worker``) while it is down.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import structlog

from gie.bus import EVENTS, STATE, Deliver, Following
from gie.clock import Clock, SystemClock
from gie.events import Event
from gie.events.subjects import pool_filter, routing_subject
from gie.lifecycle import cancel_and_wait, wait_either
from gie.service import ServiceKit
from gie.tls import watch_certificates
from gie_flow_controller.config_file import FlowControllerConfig, load_config_file
from gie_flow_controller.errors import StoreError
from gie_flow_controller.redis_client import redis_client
from gie_flow_controller.redis_health import RedisHealth
from gie_flow_controller.settings import FlowControllerSettings
from gie_flow_controller.tasks import Supervised
from gie_flow_controller.wiring import Parts, build

_log = structlog.get_logger("gie.flow_controller")


async def _housekeeping(parts: Parts, clock: Clock, period_s: float) -> None:
    """Collect idle flows and stale in-flight requests; refresh the queue gauges."""
    failing = False
    while True:
        await asyncio.sleep(period_s)
        try:
            collected = await parts.store.collect(now_ms=clock.now_ms())
            await parts.gauges.refresh(parts.supervisor.owned)
        except StoreError as exc:
            if not failing:
                _log.warning("housekeeping failed", error=str(exc))
            failing = True
            continue
        failing = False
        if collected.flows_collected or collected.inflight_expired:
            _log.debug(
                "housekeeping",
                flows_collected=collected.flows_collected,
                inflight_expired=collected.inflight_expired,
            )


async def _confirm_layout(parts: Parts, shards: int, stop: asyncio.Event) -> bool:
    """Wait until Redis confirms the shard layout (ShardLayoutError is fatal)."""
    while not stop.is_set():
        try:
            await parts.store.check_layout(shards)
            return True
        except StoreError:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    await stop.wait()
    return False


@asynccontextmanager
async def _serve(parts: Parts, grace_s: float) -> AsyncIterator[None]:
    """The gRPC server; on exit: refuse new calls, hand waiting ones back, stop."""
    await parts.server.start()
    try:
        yield
    finally:
        parts.admitter.drain()
        await parts.server.stop(grace_s=grace_s)


def _add_checks(kit: ServiceKit, parts: Parts, state: Following, redis_health: RedisHealth) -> None:
    subscribed = parts.notifications.subscribed

    def view() -> str | None:
        return None if state.caught_up.is_set() else "replaying pool state"

    def notices() -> str | None:
        # Reported only while Redis answers: an unreachable Redis is the "redis" check.
        if subscribed.is_set() or redis_health.problem is not None:
            return None
        return "subscribing to outcome notices"

    kit.health.add_check("redis", lambda: redis_health.problem)
    kit.health.add_check("view", view)
    kit.health.add_check("notices", notices)
    kit.health.add_check("task:shard-worker", lambda: parts.supervisor.problem)
    kit.health.add_check("shard-layout", lambda: parts.layout.problem)


def _supervised(
    kit: ServiceKit, parts: Parts, name: str, loop: Callable[[], Awaitable[None]]
) -> asyncio.Task[None]:
    """``loop`` as a task, restarted when it fails; readiness fails while it is down."""
    supervised = Supervised(name, loop, on_restart=parts.metrics.count_restart)
    kit.health.add_check(f"task:{name}", lambda: supervised.problem)
    return asyncio.create_task(supervised.run(), name=name)


async def run(
    settings: FlowControllerSettings,
    stop: asyncio.Event,
    *,
    config: FlowControllerConfig | None = None,
    clock: Clock | None = None,
) -> None:
    config = config or load_config_file(settings.config_file)  # a broken config stops here
    clock = clock or SystemClock()
    async with ServiceKit("flow-controller", settings) as kit, AsyncExitStack() as stack:
        kit.log.info(
            "flow control configured",
            flow_control=config.flow_control.model_dump(by_alias=True),
            saturation=config.saturation.model_dump(by_alias=True),
        )
        # Cleanups run in reverse: server, tasks, shards, streams, events, Redis.
        client = redis_client(settings)
        stack.push_async_callback(client.aclose)
        parts = build(
            settings,
            config,
            client=client,
            bus=kit.bus,
            bus_metrics=kit.bus_metrics,
            registry=kit.registry,
            clock=clock,
        )
        parts.publisher.start()
        stack.push_async_callback(parts.publisher.close)

        def on_state(event: Event) -> None:
            if parts.view.apply(event):
                parts.supervisor.wake_for_capacity()

        pool = settings.pool
        state = await kit.bus.follow(
            STATE, pool_filter(pool), on_state, deliver=Deliver.LAST_PER_SUBJECT
        )
        stack.push_async_callback(state.stop)
        completions = await kit.bus.follow(
            EVENTS, routing_subject(pool, "completed"), parts.completions.apply, deliver=Deliver.NEW
        )
        stack.push_async_callback(completions.stop)
        stack.push_async_callback(parts.supervisor.stop)
        tasks: list[asyncio.Task[None]] = []
        stack.push_async_callback(cancel_and_wait, tasks)
        redis_health = RedisHealth(client, period_s=settings.redis_check_s)
        _add_checks(kit, parts, state, redis_health)
        kit.started()

        def supervise(name: str, loop: Callable[[], Awaitable[None]]) -> None:
            tasks.append(_supervised(kit, parts, name, loop))

        supervise("redis-health", redis_health.run)
        supervise(
            "notices",
            lambda: parts.notifications.run(parts.waiters.deliver, parts.supervisor.wake),
        )
        supervise("outcome-poll", parts.waiters.poll_forever)
        if (tls := parts.server.tls) is not None:
            supervise("tls-watch", lambda: watch_certificates(tls))
        await stack.enter_async_context(_serve(parts, settings.drain_grace_s))
        kit.log.info("FlowControl serving", grpc_port=parts.server.port)
        if await _confirm_layout(parts, config.flow_control.shard_count, stop):
            supervise("supervisor", parts.supervisor.run)
            supervise("housekeeping", lambda: _housekeeping(parts, clock, settings.housekeeping_s))
        if await wait_either(state.caught_up, stop) is state.caught_up:
            await parts.server.set_ready(True)
            kit.log.info("ready", endpoints=len(parts.view), shards=parts.supervisor.owned)
        await stop.wait()
