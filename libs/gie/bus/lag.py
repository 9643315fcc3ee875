"""How far behind its streams a consumer is: ``gie_bus_consumer_lag_seconds`` and
``gie_bus_consumer_pending_messages``, by stream.

Each following keeps a :class:`ConsumerPosition`: the ``occurred_at`` of the newest
event it handled and how many messages the stream held for it that it had not yet
been sent at that delivery (JetStream's pending count, carried by every delivery; the
in-memory bus's queue length). At collection:

* pending messages: the sum over the stream's followings;
* lag: while messages are pending, now minus the newest handled event's
  ``occurred_at`` (so it grows while a consumer is stuck or slow, and during a replay
  shows how old the events being replayed still are); 0 once nothing is pending. The
  worst following of the stream is reported. A publisher's clock ahead of ours
  counts as no lag.

Lock-free like :mod:`gie.telemetry.loop_metrics`: updated and collected on the
service's event loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gie.events import Event

__all__ = ["ConsumerLag", "ConsumerPosition"]


class ConsumerPosition:
    """Where one following is on its stream."""

    __slots__ = ("newest", "pending", "stream")

    def __init__(self, stream: str) -> None:
        self.stream = stream
        self.newest = 0.0  # epoch seconds of the newest handled event's occurred_at
        self.pending = 0

    def delivered(self, events: Sequence[Event], pending: int) -> None:
        """``events`` (one message's, in order) were handled; ``pending`` messages
        remain on the stream for this following."""
        if events:
            occurred = events[-1].occurred_at.timestamp()
            self.newest = max(self.newest, occurred)
        self.pending = pending

    def lag(self, now: float) -> float:
        if self.pending <= 0 or not self.newest:
            return 0.0
        return max(0.0, now - self.newest)


class ConsumerLag(Collector):
    """The positions of a process's followings, exported by stream."""

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._positions: list[ConsumerPosition] = []
        self._clock = clock
        if registry is not None:
            registry.register(self)

    def position(self, stream: str) -> ConsumerPosition:
        """A new following's position on ``stream``; :meth:`forget` it when it stops."""
        position = ConsumerPosition(stream)
        self._positions.append(position)
        return position

    def forget(self, position: ConsumerPosition) -> None:
        if position in self._positions:
            self._positions.remove(position)

    def describe(self) -> Iterator[Metric]:
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        lag, pending = self._families()
        now = self._clock()
        worst: dict[str, float] = {}
        waiting: dict[str, int] = {}
        for position in list(self._positions):
            stream = position.stream
            worst[stream] = max(worst.get(stream, 0.0), position.lag(now))
            waiting[stream] = waiting.get(stream, 0) + max(position.pending, 0)
        for stream in sorted(worst):
            lag.add_metric([stream], worst[stream])
            pending.add_metric([stream], waiting[stream])
        yield lag
        yield pending

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "gie_bus_consumer_lag_seconds",
                "While messages are pending for a consumer: now minus the occurred_at of "
                "the newest event it handled (0 when caught up); the worst consumer of "
                "the stream, by stream.",
                labels=["stream"],
            ),
            GaugeMetricFamily(
                "gie_bus_consumer_pending_messages",
                "Messages stored on the stream not yet delivered to this process's "
                "consumers, by stream.",
                labels=["stream"],
            ),
        )
