"""Building the flow-controller's parts from its settings and configuration (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from gie.bus import BackgroundPublisher, BusMetrics, EventPublisher
from gie.clock import Clock
from gie.tls import server_credentials
from gie.view import PoolView
from gie_flow_controller.admission import Admitter, Completions, OutcomeWaiters
from gie_flow_controller.api import FlowControlServer, FlowControlServicer
from gie_flow_controller.config_file import FlowControllerConfig
from gie_flow_controller.gate import CapacityGate
from gie_flow_controller.model import BandTable
from gie_flow_controller.policies import PolicySet, builtin_policies
from gie_flow_controller.settings import FlowControllerSettings
from gie_flow_controller.sharding import ShardSupervisor, ShardWorker
from gie_flow_controller.state import RedisFlowStore, RedisNotifications, StoreSettings
from gie_flow_controller.telemetry import FlowControlMetrics, FlowEvents, QueueGauges


@dataclass
class LayoutState:
    """Set once an Admit found the flow state laid out in another shardCount than this
    replica's: readiness fails with it until the replica restarts with the new one."""

    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Parts:
    store: RedisFlowStore
    notifications: RedisNotifications
    view: PoolView
    supervisor: ShardSupervisor
    admitter: Admitter
    waiters: OutcomeWaiters
    completions: Completions
    server: FlowControlServer
    publisher: BackgroundPublisher
    gauges: QueueGauges
    metrics: FlowControlMetrics
    layout: LayoutState


def store_settings(settings: FlowControllerSettings, config: FlowControllerConfig) -> StoreSettings:
    return StoreSettings(
        flow_idle_ms=round(config.flow_control.flow_idle_timeout_s * 1000),
        outcome_keep_ms=round(settings.outcome_retention_s * 1000),
        inflight_ttl_ms=round(settings.inflight_ttl_s * 1000),
    )


def build(
    settings: FlowControllerSettings,
    config: FlowControllerConfig,
    *,
    client: Redis,
    bus: EventPublisher,
    bus_metrics: BusMetrics,
    registry: CollectorRegistry,
    clock: Clock,
) -> Parts:
    """Every part, wired; UnknownPolicyError when a band names an unknown policy."""
    pool, replica = settings.pool, settings.instance_id
    fc = config.flow_control
    bands = BandTable(fc)
    policies = PolicySet(bands, builtin_policies())
    policies.validate()
    store = RedisFlowStore(client, pool, settings=store_settings(settings, config))
    metrics = FlowControlMetrics(registry)
    publisher = BackgroundPublisher(bus, metrics=bus_metrics)
    events = FlowEvents(publisher, pool=pool, source=replica, metrics=metrics)
    view = PoolView(pool)
    gate = CapacityGate(view, config.saturation, now=clock.now)

    def make_worker(shard: int) -> ShardWorker:
        return ShardWorker(
            shard,
            owner=replica,
            store=store,
            bands=bands,
            policies=policies,
            gate=gate,
            events=events,
            clock=clock,
            tick_s=settings.dispatch_tick_s,
            sweep_s=settings.expiry_sweep_s,
        )

    supervisor = ShardSupervisor(
        store=store,
        shards=fc.shard_count,
        owner=replica,
        make_worker=make_worker,
        clock=clock,
        lease_s=settings.shard_lease_s,
        on_restart=metrics.count_restart,
    )
    waiters = OutcomeWaiters(
        store,
        poll_s=settings.outcome_poll_s,
        on_lost=lambda: metrics.count_admit_error("state-lost"),
    )
    admitter = Admitter(
        store=store,
        config=fc,
        bands=bands,
        waiters=waiters,
        events=events,
        metrics=metrics,
        clock=clock,
        replica=replica,
        wake=supervisor.wake,
    )
    layout = LayoutState()

    def layout_changed(problem: str) -> None:
        metrics.count_admit_error("layout-changed")
        layout.problem = problem

    server = FlowControlServer(
        FlowControlServicer(
            admitter,
            pool=pool,
            on_unavailable=lambda: metrics.count_admit_error("store-unavailable"),
            on_layout_changed=layout_changed,
        ),
        host=settings.grpc_host,
        port=settings.grpc_port,
        tls=server_credentials(
            settings, server="flow_control", host=settings.grpc_host, registry=registry
        ),
    )
    return Parts(
        store=store,
        notifications=RedisNotifications(
            client, pool, count_malformed=metrics.count_malformed_notice
        ),
        view=view,
        supervisor=supervisor,
        admitter=admitter,
        waiters=waiters,
        completions=Completions(store, pool=pool, clock=clock),
        server=server,
        publisher=publisher,
        gauges=QueueGauges(store, metrics),
        metrics=metrics,
        layout=layout,
    )
