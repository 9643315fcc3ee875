"""What the picker folds from the event stream, and how it follows the stream.

* ``view`` (pool state: endpoints, metrics, objectives, model rewrites): last
  event per subject; ``rewrites``, the lookup table of the view's model
  rewrites, rebuilt when a rewrite event changes them;
* ``inflight``, ``history`` and ``prefix_cache`` (requests in flight, endpoint
  recency and sessions, the shared prefix index), from one subscription to the
  routing events: from the latest prefix snapshot's sequence on, or the last
  in-flight TTL of routing events without one;
* ``prefix_cache.precise`` (what the model servers' KV events say they cache):
  the pool's ``kv.>`` subjects, replayed in full.

All are fed by bus callbacks on the service's event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from prometheus_client import CollectorRegistry

from gie.bus import EVENTS, KV, STATE, Deliver, EventBus, Following, SnapshotStore
from gie.events import (
    EndpointRemoved,
    EndpointUpserted,
    Event,
    ModelRewriteRemoved,
    ModelRewriteUpserted,
)
from gie.events.subjects import pool_filter, pool_prefix
from gie.flowcontrol import BacklogView
from gie.view import InFlightView, PoolView, RoutingHistory
from gie_picker.prefixcache.snapshots import load_snapshot, write_snapshots
from gie_picker.prefixcache.state import PrefixCacheState
from gie_picker.projections.routing_memory import RoutingMemory
from gie_picker.requestcontrol.model_rewrite import ModelRewrites
from gie_picker.settings import PickerSettings

_log = structlog.get_logger("gie.picker")


@dataclass
class Projections:
    view: PoolView
    inflight: InFlightView
    prefix_cache: PrefixCacheState
    history: RoutingHistory
    routing: RoutingMemory
    backlog: BacklogView
    rewrites: ModelRewrites = field(default_factory=ModelRewrites)
    followings: dict[str, Following] = field(default_factory=dict)
    subscribed: bool = False  # every following of :meth:`follow` is running

    @classmethod
    def create(cls, settings: PickerSettings, registry: CollectorRegistry) -> Projections:
        view = PoolView(settings.pool)
        history = RoutingHistory(settings.pool)
        return cls(
            view=view,
            inflight=InFlightView(settings.pool, ttl_s=settings.inflight_ttl_s),
            prefix_cache=PrefixCacheState(view, registry=registry),
            history=history,
            routing=RoutingMemory(history),
            backlog=BacklogView(settings.pool, ttl_s=settings.inflight_ttl_s),
        )

    async def follow(
        self,
        bus: EventBus,
        store: SnapshotStore,
        settings: PickerSettings,
        now: Callable[[], datetime],
        *,
        flow_control: bool,
    ) -> None:
        pool = settings.pool
        routing_filter = f"{pool_prefix(pool)}.routing.>"
        since = now() - timedelta(seconds=settings.inflight_ttl_s)
        self.followings["pool state"] = await bus.follow(
            STATE, pool_filter(pool), self.apply_state, deliver=Deliver.LAST_PER_SUBJECT
        )
        # One subscription feeds every routing projection: from the prefix snapshot's
        # sequence when there is one (older in-flight entries expire by themselves),
        # else the routing events of the last in-flight TTL.
        snapshot = await load_snapshot(store, pool)
        if snapshot is not None:
            self.prefix_cache.index = snapshot.index
        self.followings["routing"] = await bus.follow(
            EVENTS,
            routing_filter,
            self._on_routing,
            deliver=Deliver.FROM_SEQUENCE if snapshot else Deliver.SINCE,
            start_seq=snapshot.stream_seq + 1 if snapshot else None,
            since=None if snapshot else since,
        )

        # The model servers' cache changes, replayed in full: the precise index is
        # rebuilt from the stream (an endpoint whose run began before the stream's
        # retention stays "unknown" until its next clear).
        self.followings["kv events"] = await bus.follow(
            KV, f"{pool_prefix(pool)}.kv.>", self.prefix_cache.apply_kv, deliver=Deliver.ALL
        )

        # Queued flow-control work per band: the fast path needs no backlog at or above
        # a request's priority. Without flow control nothing reads it.
        if not flow_control:
            self.subscribed = True
            return
        self.followings["flow backlog"] = await bus.follow(
            EVENTS,
            f"{pool_prefix(pool)}.flow.>",
            self.backlog.apply,
            deliver=Deliver.SINCE,
            since=since,
        )
        self.subscribed = True

    def apply_state(self, event: Event) -> None:
        """A pool-state event: into the view; a changed rewrite rebuilds the table."""
        changed = self.view.apply(event)
        if isinstance(event, EndpointRemoved):
            # Even when the view never held it: a replica starting from a snapshot reads
            # only each endpoint's latest event, and the snapshot may hold its blocks.
            self.prefix_cache.forget_endpoint(event.address)
        elif isinstance(event, EndpointUpserted):
            self.prefix_cache.endpoint_back(event.endpoint.address)
        if changed and isinstance(event, ModelRewriteUpserted | ModelRewriteRemoved):
            rewrites = self.view.rewrites()
            self.rewrites.update(rewrites)
            table = self.rewrites.table
            _log.info(
                "model rewrites changed",
                rewrites=len(rewrites),
                exact_models=len(table.exact),
                generic=table.generic is not None,
            )

    def fold_own(self, event: Event) -> None:
        """This replica's routing event, as it publishes it: counted in flight at
        once (the copy the stream brings back later changes nothing there)."""
        self.inflight.apply(event)

    def _on_routing(self, event: Event) -> None:
        self.inflight.apply(event)
        self.history.apply(event)
        self.prefix_cache.apply(event)

    def not_caught_up(self) -> str | None:
        """Readiness: which replays are still running (all of them before
        :meth:`follow` has subscribed)."""
        if not self.subscribed:
            return "subscribing to the event streams"
        pending = [name for name, f in self.followings.items() if not f.caught_up.is_set()]
        return f"replaying {', '.join(pending)}" if pending else None

    def background_tasks(
        self, store: SnapshotStore, settings: PickerSettings, now: Callable[[], datetime]
    ) -> list[asyncio.Task[None]]:
        tasks = [asyncio.create_task(self._expire_inflight(now))]
        # The workers of one picker hold the same index: the first one writes it.
        if settings.prefix_snapshot_interval_s and settings.worker_index == 0:
            writer = write_snapshots(
                store,
                self.prefix_cache,
                self.followings["routing"],
                pool=settings.pool,
                interval_s=settings.prefix_snapshot_interval_s,
            )
            tasks.append(asyncio.create_task(writer))
        return tasks

    async def _expire_inflight(self, now: Callable[[], datetime]) -> None:
        await self.followings["routing"].caught_up.wait()
        while True:
            self.inflight.expire(now())  # also drops what a snapshot replay brought in
            self.backlog.expire(now())
            await asyncio.sleep(5.0)

    async def stop(self) -> None:
        for following in self.followings.values():
            await following.stop()
