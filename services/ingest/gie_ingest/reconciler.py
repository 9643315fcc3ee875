"""Make the published endpoint set equal to the desired one.

The current membership is folded from the state stream (last event per
endpoint subject); the difference to the desired set is published as
``EndpointUpserted`` / ``EndpointRemoved`` with deterministic message ids, so
two ingest replicas reconciling the same file store each fact once.
"""

from __future__ import annotations

import hashlib

import structlog

from gie.bus import EventPublisher
from gie.events import (
    Endpoint,
    EndpointRemoved,
    EndpointUpserted,
    ObjectiveRemoved,
    ObjectiveUpserted,
)
from gie.events.subjects import endpoint_subject, objective_subject
from gie.view import PoolView

_log = structlog.get_logger("gie.ingest")


def _msg_id(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


class Reconciler:
    """Publishes the changes that turn ``view``'s membership into ``desired``."""

    def __init__(self, bus: EventPublisher, view: PoolView, *, source: str) -> None:
        self._bus = bus
        self._view = view
        self._source = source

    async def reconcile(
        self,
        desired: tuple[Endpoint, ...],
        *,
        revision: str,
        objectives: dict[str, int] | None = None,
    ) -> int:
        """Publish upserts and removals; return how many events were published.

        ``objectives`` (name -> priority) is reconciled too when given.
        """
        published = await self._reconcile_endpoints(desired, revision=revision)
        if objectives is not None:
            published += await self._reconcile_objectives(objectives, revision=revision)
        return published

    async def _reconcile_objectives(self, desired: dict[str, int], *, revision: str) -> int:
        pool = self._view.pool
        current = self._view.objectives()
        published = 0
        for name, priority in sorted(desired.items()):
            if current.get(name) == priority and name in current:
                continue
            event = ObjectiveUpserted(source=self._source, pool=pool, name=name, priority=priority)
            msg_id = _msg_id(pool, "objective", name, str(priority), revision)
            await self._bus.publish(objective_subject(pool, name), event, msg_id=msg_id)
            self._view.apply(event)
            published += 1
        for name in sorted(set(current) - set(desired)):
            removed = ObjectiveRemoved(source=self._source, pool=pool, name=name)
            msg_id = _msg_id(pool, "objective-remove", name, revision)
            await self._bus.publish(objective_subject(pool, name), removed, msg_id=msg_id)
            self._view.apply(removed)
            published += 1
        return published

    async def _reconcile_endpoints(self, desired: tuple[Endpoint, ...], *, revision: str) -> int:
        pool = self._view.pool
        wanted = {endpoint.address: endpoint for endpoint in desired}
        published = 0
        for address, endpoint in sorted(wanted.items()):
            state = self._view.get(address)
            if state is not None and state.endpoint == endpoint:
                continue
            event = EndpointUpserted(source=self._source, pool=pool, endpoint=endpoint)
            msg_id = _msg_id(pool, "upsert", endpoint.model_dump_json(), revision)
            await self._bus.publish(endpoint_subject(pool, address), event, msg_id=msg_id)
            self._view.apply(event)
            published += 1
        for state in self._view.endpoints():
            if state.address in wanted:
                continue
            removed = EndpointRemoved(source=self._source, pool=pool, address=state.address)
            msg_id = _msg_id(pool, "remove", state.address, revision)
            await self._bus.publish(endpoint_subject(pool, state.address), removed, msg_id=msg_id)
            self._view.apply(removed)
            published += 1
        if published:
            _log.info("pool reconciled", pool=pool, endpoints=len(wanted), changes=published)
        return published
