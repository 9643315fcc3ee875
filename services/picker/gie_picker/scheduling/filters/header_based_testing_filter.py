"""``header-based-testing-filter``: the conformance suite's endpoint selection.

The request header ``test-epp-endpoint-selection`` lists endpoints, comma
separated, as ``IP`` (every endpoint on that IP) or ``IP:port`` (exactly that
endpoint); IPv6 with or without brackets (``[fd00::1]:3000``, ``fd00::2``).
Only the listed endpoints remain, in the header's order, without duplicates.
Without the header (or with an empty one) no endpoint remains, as upstream:
this filter belongs in test configurations only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from gie.view import EndpointState
from gie_picker.scheduling.contracts import PluginContext, SchedulingRequest
from gie_picker.scheduling.parameters import NoParameters

HEADER = "test-epp-endpoint-selection"


def split_host_port(item: str) -> tuple[str, str | None]:
    """``(host, port)`` of ``ip:port`` / ``[v6]:port``; ``(ip, None)`` for a bare IP."""
    if item.startswith("["):
        host, _, rest = item[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") and rest[1:] else None
    if item.count(":") == 1:
        host, port = item.split(":")
        return host, port or None
    return item, None


class HeaderBasedTestingFilter:
    """Keep the endpoints the ``test-epp-endpoint-selection`` header names."""

    TYPE: ClassVar[str] = "header-based-testing-filter"

    def __init__(self, name: str = TYPE) -> None:
        self.name = name

    @classmethod
    def create(
        cls, name: str, params: NoParameters, context: PluginContext
    ) -> HeaderBasedTestingFilter:
        return cls(name)

    def filter(
        self, request: SchedulingRequest, endpoints: Sequence[EndpointState]
    ) -> list[EndpointState]:
        value = request.header(HEADER) or ""
        by_address = {split_host_port(state.address): state for state in endpoints}
        chosen: dict[str, EndpointState] = {}
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            host, port = split_host_port(item)
            for (state_host, state_port), state in by_address.items():
                if state_host == host and port in (None, state_port):
                    chosen.setdefault(state.address, state)
        return list(chosen.values())
