"""The Admit call's request and result as Python values, and their protobuf form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from gie.events.address import validate_address
from gie.flowcontrol.errors import FlowControlCallError, InvalidAdmitRequestError
from gie.flowcontrol.flow_key import FlowKey, check_id
from gie.flowcontrol.outcome import Outcome
from gie.flowcontrol.v1 import flow_control_pb2 as pb

_TO_PROTO = {
    Outcome.DISPATCHED: pb.OUTCOME_DISPATCHED,
    Outcome.REJECTED_CAPACITY: pb.OUTCOME_REJECTED_CAPACITY,
    Outcome.EVICTED_TTL: pb.OUTCOME_EVICTED_TTL,
    Outcome.CANCELLED: pb.OUTCOME_CANCELLED,
}
_FROM_PROTO = {value: outcome for outcome, value in _TO_PROTO.items()}


# Deadlines end at the last millisecond of year 9999 (datetime's limit): a later one
# could not be read back.
_LAST_MS = round(datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC).timestamp() * 1000)


def _unix_ms(moment: datetime) -> int:
    return min(round(moment.timestamp() * 1000), _LAST_MS)


@dataclass(frozen=True, slots=True)
class AdmitRequest:
    """A request asking to proceed under flow control. Validated on construction.

    ``deadline`` (timezone-aware) bounds the wait together with the TTL; ``candidates``
    (``ip:port``) are the endpoints it may run on, empty for every endpoint of the pool.
    """

    request_id: str
    flow: FlowKey
    byte_size: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    deadline: datetime | None = None
    candidates: tuple[str, ...] = ()
    objective: str = ""
    pool: str = ""

    def __post_init__(self) -> None:
        check_id(self.request_id, what="request id")
        for name in ("byte_size", "input_tokens", "output_tokens"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidAdmitRequestError(f"{name} must be a non-negative integer")
        if self.deadline is not None and self.deadline.tzinfo is None:
            raise InvalidAdmitRequestError("deadline must be timezone-aware")
        for address in self.candidates:
            try:
                validate_address(address)
            except ValueError as exc:
                raise InvalidAdmitRequestError(str(exc)) from exc
        if len(set(self.candidates)) != len(self.candidates):
            twice = sorted({a for a in self.candidates if self.candidates.count(a) > 1})
            # Each listed endpoint adds its room: a repeated one would count twice.
            raise InvalidAdmitRequestError(f"candidate endpoints listed twice: {', '.join(twice)}")

    def to_proto(self) -> pb.AdmitRequest:
        return pb.AdmitRequest(
            request_id=self.request_id,
            flow=pb.FlowKey(fairness_id=self.flow.fairness_id, priority=self.flow.priority),
            byte_size=self.byte_size,
            tokens=pb.TokenEstimate(
                input_tokens=self.input_tokens, output_tokens=self.output_tokens
            ),
            deadline_unix_ms=_unix_ms(self.deadline) if self.deadline else 0,
            candidate_endpoints=list(self.candidates),
            objective=self.objective,
            pool=self.pool,
        )

    @classmethod
    def from_proto(cls, message: pb.AdmitRequest) -> AdmitRequest:
        """Raises :class:`InvalidAdmitRequestError` naming what is wrong."""
        deadline = None
        if message.deadline_unix_ms < 0 or message.deadline_unix_ms > _LAST_MS:
            raise InvalidAdmitRequestError(
                f"deadline_unix_ms {message.deadline_unix_ms} is not a time between 1970 and "
                "year 9999 (0: no deadline)"
            )
        if message.deadline_unix_ms > 0:
            deadline = datetime.fromtimestamp(message.deadline_unix_ms / 1000, UTC)
        return cls(
            request_id=message.request_id,
            flow=FlowKey.of(message.flow.fairness_id, message.flow.priority),
            byte_size=message.byte_size,
            input_tokens=message.tokens.input_tokens,
            output_tokens=message.tokens.output_tokens,
            deadline=deadline,
            candidates=tuple(message.candidate_endpoints),
            objective=message.objective,
            pool=message.pool,
        )


@dataclass(frozen=True, slots=True)
class AdmitResult:
    """The outcome of an Admit call."""

    outcome: Outcome
    reason: str = ""
    queued_s: float = 0.0
    served_by: str = ""

    @property
    def dispatched(self) -> bool:
        return self.outcome is Outcome.DISPATCHED

    def to_proto(self) -> pb.AdmitResponse:
        return pb.AdmitResponse(
            outcome=_TO_PROTO[self.outcome],
            reason=self.reason,
            queued_ms=round(self.queued_s * 1000),
            served_by=self.served_by,
        )

    @classmethod
    def from_proto(cls, message: pb.AdmitResponse) -> AdmitResult:
        outcome = _FROM_PROTO.get(message.outcome)
        if outcome is None:
            raise FlowControlCallError(f"unknown outcome {message.outcome} in the response")
        return cls(outcome, message.reason, message.queued_ms / 1000, message.served_by)
