"""How the picker reads the event stream once caught up: in bursts.

Every routing decision first settles the connection, so it sees every event
that had arrived (the process is awake anyway, and reads all of them at once);
otherwise the stream is read at least every ``GIE_EVENT_READ_DELAY_S`` (see
:mod:`gie.bus.read_gate`). Before :meth:`EventReading.start` this is a no-op:
events are read as they arrive.
"""

from __future__ import annotations

from gie.bus.read_gate import ReadGate


class EventReading:
    def __init__(self) -> None:
        self._gate: ReadGate | None = None

    def start(self, gate: ReadGate) -> None:
        self._gate = gate

    async def settle(self) -> None:
        if self._gate is not None:
            await self._gate.settle()
