"""What the flow state is asked to do, and what it answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from gie.flowcontrol import FlowKey, Outcome


@dataclass(frozen=True, slots=True)
class Ticket:
    """A request to queue: an Admit call with its TTL resolved to ``expires_ms``."""

    request_id: str
    flow: FlowKey
    byte_size: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    expires_ms: int = 0  # 0: waits until dispatched or cancelled
    candidates: tuple[str, ...] = ()
    objective: str = ""


@dataclass(frozen=True, slots=True)
class Limits:
    """Capacity limits checked at admission (queued requests and bytes); 0 = none."""

    band_max_bytes: int
    band_max_requests: int
    pool_max_bytes: int = 0
    pool_max_requests: int = 0


@dataclass(frozen=True, slots=True)
class TokenWeights:
    """Counter charge per token, from the band's fairness parameters."""

    input: float = 1.0
    output: float = 2.0

    def charge(self, input_tokens: int, output_tokens: int) -> float:
        return self.input * input_tokens + self.output * output_tokens


@dataclass(frozen=True, slots=True)
class Finished:
    """A request's outcome as recorded, with what events and metrics need to know."""

    request_id: str
    flow: FlowKey
    outcome: Outcome
    reason: str
    shard: int  # -1: never queued (rejected at admission)
    enqueued_ms: int
    finished_ms: int

    @property
    def queued_s(self) -> float:
        return max(self.finished_ms - self.enqueued_ms, 0) / 1000


class AdmitStatus(StrEnum):
    QUEUED = "queued"  # new: queued on ``shard``
    EXISTING = "existing"  # the id was admitted before: still queued, or finished
    REJECTED = "rejected"  # new: refused by a capacity limit


@dataclass(frozen=True, slots=True)
class Admission:
    """The answer to an admission.

    ``finished`` is set when the request already has its outcome (rejected now, or an
    earlier admission finished); ``displaced`` lists queued requests of lower bands
    that were evicted to make room.
    """

    status: AdmitStatus
    request_id: str
    shard: int
    enqueued_ms: int
    finished: Finished | None = None
    displaced: tuple[Finished, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Room:
    """Dispatch room the endpoints' metrics showed, checked pool-wide at dispatch.

    ``slots`` requests may be dispatched after ``since_ms`` (when the oldest of those
    metrics was scraped): requests dispatched since then by *any* replica and still in
    flight count against it, since the metrics cannot show them yet. ``slots`` None:
    no limit (no saturation signal).
    """

    slots: int | None
    since_ms: int = 0

    @classmethod
    def unlimited(cls) -> Room:
        return cls(None)


class DispatchStatus(StrEnum):
    DISPATCHED = "dispatched"
    GONE = "gone"  # no longer queued on this shard (finished meanwhile)
    BLOCKED = "blocked"  # a higher band has queued requests (strict priority)
    NOT_OWNER = "not-owner"  # the shard's lease is not ours
    NO_ROOM = "no-room"  # the room was used up by dispatches since the metrics' scrape


@dataclass(frozen=True, slots=True)
class DispatchResult:
    status: DispatchStatus
    finished: Finished | None = None
    charge: float = 0.0
