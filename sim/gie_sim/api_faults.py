"""Fault modes of a simulated server's OpenAI API, switchable at run time.

Where :mod:`gie_sim.faults` breaks the ``/metrics`` page only, these break the server
as a gateway sees it:

* ``none`` -- the server answers normally;
* ``refuse`` -- the listener is closed and open connections are reset: every new
  connection is refused (every route, ``/metrics`` and ``/health`` included), as
  after a crash;
* ``reset`` -- a completion is read, then its connection is reset (TCP RST): a
  streamed one after ``reset_after_chunks`` token chunks, any other before an answer;
* ``hang`` -- connections are accepted and request heads read, but no route answers
  (``/metrics`` and ``/health`` included) until the mode changes;
* ``http503`` -- completions are answered 503 in the OpenAI error shape; ``/metrics``
  and ``/health`` keep answering, so only the responses show the fault.

``/sim/*`` routes keep answering in every mode but ``refuse`` (whose listener is
gone); the process's admin listener (``gie-sim --admin``) reaches every server in
every mode. ``for_s`` heals the server by itself after that many seconds.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ApiFaultMode", "ApiFaults"]


class ApiFaultMode(StrEnum):
    NONE = "none"
    REFUSE = "refuse"
    RESET = "reset"
    HANG = "hang"
    HTTP503 = "http503"


class ApiFaults(BaseModel):
    """How the OpenAI API answers. Immutable; replace it to switch modes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: ApiFaultMode = ApiFaultMode.NONE
    reset_after_chunks: int = Field(
        default=1, ge=0, le=1_000_000, description="Token chunks a streamed answer gets first."
    )
    for_s: float | None = Field(
        default=None, gt=0.0, le=86_400.0, description="Heal by itself after this long."
    )
