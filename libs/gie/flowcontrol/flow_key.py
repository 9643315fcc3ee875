"""FlowKey: the identity of a flow (one tenant's requests at one priority)."""

from __future__ import annotations

from dataclasses import dataclass

from gie.flowcontrol.errors import InvalidAdmitRequestError

FAIRNESS_ID_HEADER = "x-gateway-inference-fairness-id"
DEFAULT_FAIRNESS_ID = "default-flow"
MAX_ID_LENGTH = 256
MIN_PRIORITY = -(2**31)
MAX_PRIORITY = 2**31 - 1


def check_id(value: str, *, what: str) -> str:
    """``value`` if it is a usable id: 1..256 printable characters."""
    if not value:
        raise InvalidAdmitRequestError(f"{what} must not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidAdmitRequestError(f"{what} is longer than {MAX_ID_LENGTH} characters")
    if not value.isprintable():
        raise InvalidAdmitRequestError(f"{what} contains control characters: {value!r}")
    return value


@dataclass(frozen=True, slots=True, order=True)
class FlowKey:
    """A flow: ``fairness_id`` (the tenant) at ``priority`` (higher is more important).

    Immutable and hashable. Flows are created on first use and garbage-collected
    when idle; a FlowKey is only a name for one.
    """

    fairness_id: str
    priority: int = 0

    def __post_init__(self) -> None:
        check_id(self.fairness_id, what="fairness id")
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise InvalidAdmitRequestError(f"priority must be an integer, got {self.priority!r}")
        if not MIN_PRIORITY <= self.priority <= MAX_PRIORITY:
            raise InvalidAdmitRequestError(f"priority {self.priority} is out of int32 range")

    @classmethod
    def of(cls, fairness_id: str | None, priority: int | None = None) -> FlowKey:
        """The flow of a request: an unset fairness id is ``default-flow``, an unset
        priority is 0 (as upstream)."""
        return cls(fairness_id or DEFAULT_FAIRNESS_ID, priority or 0)

    def __str__(self) -> str:
        return f"{self.fairness_id}@{self.priority}"
