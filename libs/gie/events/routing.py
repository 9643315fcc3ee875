"""Events about routing decisions."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from gie.events.address import Address
from gie.events.base import Event
from gie.events.hashes import check_packed, unpack_hashes


class RequestRouted(Event):
    """The picker sent a request to ``target`` (then ``fallbacks`` in order).

    ``correlation_id`` carries the request id. Never carries prompt text.
    """

    TYPE: ClassVar[str] = "RequestRouted"

    request_id: str = Field(min_length=1)
    model: str
    target: Address
    fallbacks: tuple[Address, ...] = ()
    picker: str = Field(min_length=1)
    prompt_bytes: int = Field(default=0, ge=0)
    # The prompt's chained prefix-block hashes (uint64, see gie.prefix), packed
    # as base64 of little-endian 8-byte values (read them with ``hashes``), and
    # the index capacity for the target that the routing replica used.
    block_hashes: str = ""
    prefix_capacity: int | None = Field(default=None, gt=0)
    # A hash of the client's session header (never its value), for stickiness.
    session: str | None = Field(default=None, max_length=64)
    # 1, 2, 3, ... per publisher instance (``picker``) and type (RequestRouted and
    # RequestCompleted count apart): a jump shows a lost event. None: not numbered.
    publisher_seq: int | None = Field(default=None, ge=1)

    _check_hashes = field_validator("block_hashes")(check_packed)

    @property
    def hashes(self) -> tuple[int, ...]:
        """``block_hashes`` unpacked."""
        return unpack_hashes(self.block_hashes)


class RequestCompleted(Event):
    """A routed request finished; usage as reported by the model server.

    ``correlation_id`` carries the request id. Token counts are None when the
    response did not report usage (non-2xx, or a stream without a usage chunk).
    """

    TYPE: ClassVar[str] = "RequestCompleted"

    request_id: str = Field(min_length=1)
    target: Address
    picker: str = Field(min_length=1)
    status: int = Field(ge=0, le=999)
    prompt_tokens: int | None = Field(default=None, ge=0)
    completion_tokens: int | None = Field(default=None, ge=0)
    cached_tokens: int | None = Field(default=None, ge=0)
    duration_s: float = Field(default=0.0, ge=0.0)
    publisher_seq: int | None = Field(default=None, ge=1)  # as on RequestRouted
