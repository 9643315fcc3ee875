"""An outbox that also folds what it sends into this replica's own view of the pool.

The saturation monitor must see what pickers see: exactly the published events. Folding
them on the way out means a replica alone in its pool never decodes its own events back
from the bus; with peers, only their events need to come from the bus.
"""

from __future__ import annotations

from collections.abc import Callable

from gie.events import Event
from gie_metrics_collector.publish.metrics_publisher import Outbox

__all__ = ["TeeOutbox"]


class TeeOutbox:
    def __init__(self, outbox: Outbox, fold: Callable[[Event], object]) -> None:
        self._outbox = outbox
        self._fold = fold

    def submit(self, subject: str, event: Event) -> None:
        self._fold(event)
        self._outbox.submit(subject, event)
