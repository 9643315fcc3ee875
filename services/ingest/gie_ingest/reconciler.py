"""Make the published pool state equal to the desired one.

The current state (endpoints, objectives, rewrites) is folded from the state stream
(last event per subject, :meth:`Reconciler.observe`); the difference to the desired
state is published as ``EndpointUpserted`` / ``EndpointRemoved``,
``ObjectiveUpserted`` / ``ObjectiveRemoved`` and ``ModelRewriteUpserted`` /
``ModelRewriteRemoved``.

Every event's id, which is also its ``Nats-Msg-Id``, is a *transition id*: a hash
of the pool, the subject's key, the new content and the id of the last event on that
subject (``-`` when there was none). Two replicas that folded the same stream and
want the same change compute the same id, and the stream's duplicate window stores
it once. A change that undoes an earlier one (an endpoint removed, then added back
as it was) follows another event, so it gets a new id and is never taken for a
duplicate. A replica that lags publishes a transition the others already made (same
id: dropped) or one from a state that is no longer the last (a new id: stored, then
corrected by the next reconcile, which every replica runs when the stream changes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import structlog

from gie.bus import EventPublisher
from gie.events import (
    Endpoint,
    EndpointRemoved,
    EndpointUpserted,
    Event,
    ModelRewriteRemoved,
    ModelRewriteUpserted,
    ObjectiveRemoved,
    ObjectiveUpserted,
)
from gie.events.subjects import endpoint_subject, objective_subject, rewrite_subject
from gie.view import PoolView
from gie_ingest.kube.pool_refs import Rewrite

_log = structlog.get_logger("gie.ingest")


def transition_id(pool: str, key: str, previous: str, content: str) -> str:
    """The id of the event moving ``key`` from the event ``previous`` to ``content``."""
    return hashlib.sha256("\x1f".join((pool, key, previous, content)).encode()).hexdigest()[:32]


def _key_of(event: Event) -> str | None:
    if isinstance(event, EndpointUpserted):
        return f"endpoint/{event.endpoint.address}"
    if isinstance(event, EndpointRemoved):
        return f"endpoint/{event.address}"
    if isinstance(event, ObjectiveUpserted | ObjectiveRemoved):
        return f"objective/{event.name}"
    if isinstance(event, ModelRewriteUpserted | ModelRewriteRemoved):
        return f"rewrite/{event.name}"
    return None


class Reconciler:
    """Publishes the changes that turn ``view``'s state into the desired one."""

    def __init__(self, bus: EventPublisher, view: PoolView, *, source: str) -> None:
        self._bus = bus
        self._view = view
        self._source = source
        self._last: dict[str, str] = {}  # subject key -> id of its last event

    def observe(self, event: Event) -> bool:
        """Fold an event of the state stream (the follow handler); True on a change."""
        key = _key_of(event)
        if key is not None and event.pool == self._view.pool:
            self._last[key] = event.event_id
        return self._view.apply(event)

    async def _publish(
        self, subject: str, key: str, content: str, event_type: type[Event], **fields: Any
    ) -> None:
        pool = self._view.pool
        event_id = transition_id(pool, key, self._last.get(key, "-"), content)
        event = event_type(event_id=event_id, source=self._source, pool=pool, **fields)
        await self._bus.publish(subject, event, msg_id=event_id)
        self.observe(event)

    async def reconcile(
        self,
        desired: tuple[Endpoint, ...],
        *,
        objectives: Mapping[str, int] | None = None,
        rewrites: Mapping[str, Rewrite] | None = None,
    ) -> int:
        """Publish upserts and removals; return how many events were published.

        ``objectives`` (name -> priority) and ``rewrites`` (name -> content) are
        reconciled too when given (``None`` leaves them as they are).
        """
        published = await self._reconcile_endpoints(desired)
        if objectives is not None:
            published += await self._reconcile_objectives(objectives)
        if rewrites is not None:
            published += await self._reconcile_rewrites(rewrites)
        if published:
            _log.info("pool reconciled", pool=self._view.pool, changes=published)
        return published

    async def _reconcile_endpoints(self, desired: tuple[Endpoint, ...]) -> int:
        pool = self._view.pool
        wanted = {endpoint.address: endpoint for endpoint in desired}
        current = {state.address: state.endpoint for state in self._view.endpoints()}
        published = 0
        for address, endpoint in sorted(wanted.items()):
            held = current.get(address)
            if held is endpoint or held == endpoint:  # mostly the very object published
                continue
            await self._publish(
                endpoint_subject(pool, address),
                f"endpoint/{address}",
                endpoint.model_dump_json(),
                EndpointUpserted,
                endpoint=endpoint,
            )
            published += 1
        for state in self._view.endpoints():
            if state.address in wanted:
                continue
            await self._publish(
                endpoint_subject(pool, state.address),
                f"endpoint/{state.address}",
                "removed",
                EndpointRemoved,
                address=state.address,
            )
            published += 1
        return published

    async def _reconcile_objectives(self, desired: Mapping[str, int]) -> int:
        pool = self._view.pool
        current = self._view.objectives()
        published = 0
        for name, priority in sorted(desired.items()):
            if name in current and current[name] == priority:
                continue
            await self._publish(
                objective_subject(pool, name),
                f"objective/{name}",
                f"priority={priority}",
                ObjectiveUpserted,
                name=name,
                priority=priority,
            )
            published += 1
        for name in sorted(set(current) - set(desired)):
            await self._publish(
                objective_subject(pool, name),
                f"objective/{name}",
                "removed",
                ObjectiveRemoved,
                name=name,
            )
            published += 1
        return published

    async def _reconcile_rewrites(self, desired: Mapping[str, Rewrite]) -> int:
        pool = self._view.pool
        current = {rewrite.name: rewrite for rewrite in self._view.rewrites()}
        published = 0
        for name, rewrite in sorted(desired.items()):
            held = current.get(name)
            if held is not None and (held.created, held.rules) == (rewrite.created, rewrite.rules):
                continue
            content = "|".join(
                [rewrite.created.isoformat(), *(rule.model_dump_json() for rule in rewrite.rules)]
            )
            await self._publish(
                rewrite_subject(pool, name),
                f"rewrite/{name}",
                content,
                ModelRewriteUpserted,
                name=name,
                created=rewrite.created,
                rules=rewrite.rules,
            )
            published += 1
        for name in sorted(set(current) - set(desired)):
            await self._publish(
                rewrite_subject(pool, name),
                f"rewrite/{name}",
                "removed",
                ModelRewriteRemoved,
                name=name,
            )
            published += 1
        return published
