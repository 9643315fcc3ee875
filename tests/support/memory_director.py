"""A picker director over an in-memory bus, one endpoint in view, routing everything
to the first candidate: for tests of what the director publishes and folds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from gie.bus import BackgroundPublisher, BusMetrics, MemoryEventBus
from gie.events import Endpoint, EndpointUpserted
from gie.saturation import SaturationConfig
from gie.view import EndpointState
from gie_picker.projections.state import Projections
from gie_picker.requestcontrol.director import Director
from gie_picker.requestcontrol.request import InferenceRequest
from gie_picker.settings import PickerSettings
from gie_picker.telemetry.metrics import PickerMetrics


class FirstEndpoint:
    def schedule(
        self, request: InferenceRequest, candidates: Sequence[EndpointState], *, priority: int
    ) -> tuple[str, ...]:
        return (candidates[0].address,)


@dataclass
class MemoryDirector:
    state: Projections
    bus: MemoryEventBus
    publisher: BackgroundPublisher
    director: Director


def memory_director(pool: str, address: str, *, batch_s: float = 0.05) -> MemoryDirector:
    """Started publisher included (close it to send what it holds)."""
    registry = CollectorRegistry()
    state = Projections.create(PickerSettings(pool=pool), registry)
    state.view.apply(EndpointUpserted(source="t", pool=pool, endpoint=Endpoint(address=address)))
    bus = MemoryEventBus(metrics=BusMetrics(registry))
    publisher = BackgroundPublisher(
        bus, metrics=BusMetrics(CollectorRegistry()), confirm=False, batch_s=batch_s
    )
    publisher.start()
    director = Director(
        view=state.view,
        scheduler=FirstEndpoint(),
        saturation=SaturationConfig(),
        publisher=publisher,
        metrics=PickerMetrics(registry),
        source="picker-test",
        now=lambda: datetime.now(UTC),
        inflight=state.inflight,
        fold_own=state.fold_own,
    )
    return MemoryDirector(state, bus, publisher, director)
